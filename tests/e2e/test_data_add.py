"""`wineq data add`: the lab's wines become a data version that is in the remote before
data.dvc names it, that another clone trains on, and that a bad row or a failed push
leaves untouched; `wineq train` pushes a version only its clone has."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import yaml
from tests.support.project import GIT, enter, run

DATA = Path("data") / "wine-quality.csv"


def _pointer(root: Path) -> dict:
    return yaml.safe_load((root / "data.dvc").read_text())


def _remote_has(remote: Path, md5: str) -> bool:
    return (remote / "files" / "md5" / md5[:2] / md5[2:]).is_file()


def _lab_wines(root: Path, new: int = 5) -> pd.DataFrame:
    """`new` wines the data does not have (their alcohol nudged), two it has, one that
    contradicts it (another quality), as a lab would send them."""
    data = pd.read_csv(root / DATA, sep=";")
    fresh = data.iloc[:new].copy()
    fresh["alcohol"] = fresh["alcohol"] + 0.0123
    known = data.iloc[10:12]
    contradicting = data.iloc[[20]].copy()
    contradicting["quality"] = contradicting["quality"] % 10 + 1
    return pd.concat([fresh, known, contradicting], ignore_index=True)


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, sep=";", index=False)
    return path


def test_added_wines_are_a_pushed_version_that_data_dvc_names_and_git_stages(
    project, cli, remote_dir, tmp_path
):
    lab = _write_csv(_lab_wines(project), tmp_path / "lab.csv")
    before = _pointer(project)["outs"][0]["md5"]
    refused = cli("data", "add", lab)
    assert refused.exit_code == 3
    assert refused.stderr.startswith(f"Error: {lab}, row 8: quality ")
    assert "--conflicts keep" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert _pointer(project)["outs"][0]["md5"] == before

    result = cli("data", "add", lab, "--conflicts", "skip", "--json")
    assert result.exit_code == 0, result.stderr
    done = json.loads(result.stdout)
    assert done["read"] == 8 and done["added"]["wines"] == 5 and done["duplicates"] == 2
    assert done["conflicts_kept"] is False and len(done["conflicts"]) == 1
    pointer = _pointer(project)
    md5 = pointer["outs"][0]["md5"]
    assert md5 == done["stored"]["md5"] != before
    assert pointer["meta"]["added"]["wines"] == 5
    assert pointer["meta"]["previous_md5"] == before
    assert pointer["meta"]["added_from"] == [str(lab)]
    assert pointer["meta"]["wines"]["wines"] == done["version"]["wines"]
    # in the remote, manifest and file, before anything names it
    assert _remote_has(remote_dir, md5)
    manifest = json.loads((remote_dir / "files" / "md5" / md5[:2] / md5[2:]).read_text())
    assert _remote_has(remote_dir, manifest[0]["md5"])
    staged = run(["git", "diff", "--cached", "--name-only"], project).split()
    assert staged == ["data.dvc"]
    data = pd.read_csv(project / DATA, sep=";")
    assert len(data) == done["version"]["wines"]
    assert data.iloc[-5:]["alcohol"].tolist() == _lab_wines(project).iloc[:5]["alcohol"].tolist()
    again = cli("data", "add", lab, "--conflicts", "skip")
    assert again.exit_code == 0 and "Nothing new to add" in again.stdout


def test_an_excel_workbook_adds_with_commit_and_a_dry_run_changes_nothing(project, cli, tmp_path):
    wines = _lab_wines(project, new=3).iloc[:3]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Lab results, November"])
    sheet.append(list(wines.columns))
    for row in wines.itertuples(index=False):
        sheet.append(list(row))
    path = tmp_path / "lab.xlsx"
    book.save(path)
    before = (project / "data.dvc").read_bytes(), (project / DATA).read_bytes()
    dry = cli("data", "add", path, "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "Would add 3 wines" in dry.stdout
    assert ((project / "data.dvc").read_bytes(), (project / DATA).read_bytes()) == before

    result = cli("data", "add", path, "--commit")
    assert result.exit_code == 0, result.stderr
    assert "Committed data.dvc" in result.stdout
    message = run(["git", "log", "-1", "--format=%s"], project).strip()
    assert message == f"data: add 3 wines from {path}"
    assert run(["git", "status", "--porcelain", "data.dvc"], project) == ""


def test_a_bad_row_is_one_line_and_nothing_changes(project, cli, tmp_path):
    wines = _lab_wines(project)
    wines["quality"] = wines["quality"].astype(float)
    wines.loc[3, "quality"] = 7.5
    lab = _write_csv(wines, tmp_path / "lab.csv")
    before = (project / "data.dvc").read_bytes(), (project / DATA).read_bytes()
    result = cli("data", "add", lab, "--conflicts", "keep")
    assert result.exit_code == 3
    assert result.stderr == (
        f"Error: {lab}: column 'quality', row 4 has '7.5', not a quality score "
        "(a whole number from 0 to 10)\n"
    )
    wines = _lab_wines(project)
    wines["pH"] = wines["pH"].astype(object)
    wines.loc[2, "pH"] = "n/a"
    text = _write_csv(wines, tmp_path / "text.csv")
    result = cli("data", "add", text, "--conflicts", "keep")
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: {text}: column 'pH', row 3 (line 4) has 'n/a'")
    no_score = _write_csv(wines.drop(columns=["quality"]), tmp_path / "unscored.csv")
    result = cli("data", "add", no_score)
    assert result.exit_code == 3 and "has no 'quality' column" in result.stderr
    assert ((project / "data.dvc").read_bytes(), (project / DATA).read_bytes()) == before


def test_a_failed_push_leaves_the_data_data_dvc_and_the_remote_as_they_were(project, cli, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the remote's folder would be\n")
    run(["dvc", "remote", "modify", "--local", "shared", "url", str(blocked / "remote")], project)
    lab = _write_csv(_lab_wines(project), tmp_path / "lab.csv")
    before = (project / "data.dvc").read_bytes(), (project / DATA).read_bytes()
    result = cli("data", "add", lab, "--conflicts", "skip")
    assert result.exit_code == 4, result.stderr
    assert result.stderr.startswith("Error: could not push the data version ")
    assert len(result.stderr.splitlines()) == 1
    assert ((project / "data.dvc").read_bytes(), (project / DATA).read_bytes()) == before
    assert run(["git", "status", "--porcelain", "data.dvc", "data"], project) == ""
    assert blocked.read_text().startswith("a file where")  # nothing reached the "remote"


def test_another_clone_trains_on_the_added_version(project, cli, tmp_path, monkeypatch):
    lab = _write_csv(_lab_wines(project), tmp_path / "lab.csv")
    assert cli("data", "add", lab, "--conflicts", "skip", "--commit").exit_code == 0
    md5 = _pointer(project)["outs"][0]["md5"]
    clone = tmp_path / "clone"
    run(GIT + ["clone", "-q", str(project), str(clone)], tmp_path)
    enter(clone, monkeypatch)
    result = cli("train", "--epochs", "2", "--json")
    assert result.exit_code == 0, result.stderr
    trained = json.loads(result.stdout)
    assert trained["data_md5"] == md5 and trained["data_pushed_to"] is None
    wines = len(pd.read_csv(clone / DATA, sep=";"))
    assert wines == len(pd.read_csv(project / DATA, sep=";"))


def test_train_pushes_a_data_version_only_its_clone_has(project, cli, remote_dir):
    row = ";".join(["7.1", "0.5", "0.1", "2", "0.08", "10", "30", "0.997", "3.4", "0.6"])
    with open(project / DATA, "a") as data:
        data.write(f"{row};10.05;6;red\n")  # the DVC route: edit, `dvc add`, train
    run(["dvc", "add", "-q", "data"], project)
    md5 = _pointer(project)["outs"][0]["md5"]
    assert not _remote_has(remote_dir, md5)
    result = cli("train", "--epochs", "2")
    assert result.exit_code == 0, result.stderr
    assert f"The data version {md5} was only in this clone: pushed it" in result.stderr
    assert _remote_has(remote_dir, md5)
    manifest = json.loads((remote_dir / "files" / "md5" / md5[:2] / md5[2:]).read_text())
    assert all(_remote_has(remote_dir, entry["md5"]) for entry in manifest)


def _test_wines(root: Path, run_id: str, folder: Path) -> set[tuple]:
    """The wines a run was scored on, from its test_predictions table in MLflow."""
    from tests.support.project import tracker_for

    path = tracker_for(root).client.download_artifacts(run_id, "test_predictions.json", folder)
    table = json.loads(Path(path).read_text())
    columns = table["columns"]
    keep = [columns.index(c) for c in ("fixed acidity", "alcohol", "density", "color")]
    return {tuple(row[i] for i in keep) for row in table["data"]}


def test_two_additions_move_no_test_wine_and_runs_show_their_data(project, cli, tmp_path):
    runs = []
    for step in range(3):
        if step:
            wines = _lab_wines(project, new=40 * step).iloc[: 40 * step]
            wines["alcohol"] = wines["alcohol"] + 0.1 * step
            lab = _write_csv(wines, tmp_path / f"lab{step}.csv")
            assert cli("data", "add", lab, "--commit").exit_code == 0
        result = cli("train", "--epochs", "1", "--json")
        assert result.exit_code == 0, result.stderr
        runs.append(json.loads(result.stdout))
    tested = [_test_wines(project, r["run_id"], tmp_path / f"t{i}") for i, r in enumerate(runs)]
    assert tested[0] <= tested[1] <= tested[2]
    assert len(tested[0]) < len(tested[2])
    listed = json.loads(cli("runs", "--json").stdout)
    assert [r["data_md5"] for r in listed] == [r["data_md5"] for r in reversed(runs)]
    assert len({r["data_md5"] for r in listed}) == 3
    assert [r["n_test"] for r in listed] == [r["n_test"] for r in reversed(runs)]
    table = cli("runs").stdout
    assert all(r["data_md5"][:8] in table for r in runs)
    shown = cli("show", runs[2]["run_id"]).stdout
    assert f"md5 {runs[2]['data_md5']} (" in shown and "wine-hash-1" in shown


def test_data_log_lists_versions_and_a_fresh_clone_pulls_a_runs_data(
    project, cli, tmp_path, monkeypatch
):
    first = cli("train", "--epochs", "1", "--json")
    assert first.exit_code == 0, first.stderr
    run = json.loads(first.stdout)
    original = (project / DATA).read_bytes()
    lab = _write_csv(_lab_wines(project), tmp_path / "lab.csv")
    assert cli("data", "add", lab, "--conflicts", "skip", "--commit").exit_code == 0
    log = json.loads(cli("data", "log", "--json").stdout)
    assert [v["md5"] for v in log][1] == run["data_md5"]
    assert log[0]["added"]["wines"] == 5 and log[0]["source"] == [str(lab)]
    assert log[0]["wines"]["wines"] == len(pd.read_csv(project / DATA, sep=";"))
    assert log[1]["runs"] == [run["run_id"]] and log[0]["runs"] == []
    assert log[0]["commit"] and run["data_md5"][:12] in cli("data", "log").stdout

    clone = tmp_path / "clone"
    run_cmd = GIT + ["clone", "-q", str(project), str(clone)]
    subprocess.run(run_cmd, check=True, capture_output=True)
    enter(clone, monkeypatch)
    (clone / "mlflow.db").write_bytes((project / "mlflow.db").read_bytes())  # the team's store
    pulled = cli("data", "pull", "--run", run["run_id"][:8], "--output", tmp_path / "then.csv")
    assert pulled.exit_code == 0, pulled.stderr
    assert (tmp_path / "then.csv").read_bytes() == original
    assert not (clone / DATA).exists()  # data/ is left as it is
    both = cli("data", "pull", "--run", "abcd", "--version", "0" * 32)
    assert both.exit_code == 2 and "one of them" in both.stderr
    gone = cli("data", "pull", "--version", "0" * 32)
    assert gone.exit_code == 4 and "is neither in the DVC cache nor in remote" in gone.stderr
