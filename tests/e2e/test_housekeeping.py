"""Housekeeping that cannot lose a model: after the three `dvc gc` cleanups DVC documents,
in a clone that knows nothing of the others, every registered version and every live run
still infers (wineq and MLflow's loader) and every run's data version still pulls;
`wineq gc` removes only what deleted runs alone referenced, and `wineq check` names the
versions whose bytes are gone from the remote."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from tests.support.project import (
    GIT,
    damaged,
    enter,
    load_elsewhere,
    remote_object,
    run,
    tracker_for,
)

DATA = Path("data") / "wine-quality.csv"


def _new_wines(root: Path, n: int, path: Path) -> Path:
    wines = pd.read_csv(root / DATA, sep=";").iloc[:n].copy()
    wines["alcohol"] = wines["alcohol"] + 0.0173
    wines.to_csv(path, sep=";", index=False)
    return path


def _train(cli, epochs: int = 1) -> dict:
    result = cli("train", "--epochs", str(epochs), "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def team(project, cli, remote_dir, tmp_path):
    """A project on a remote of its own (so its `dvc gc -c` touches no other test's) with
    two registered versions on two data versions, and a third, unregistered run."""
    remote = tmp_path / "remote"
    shutil.copytree(remote_dir, remote)
    # the session's remote holds other tests' models, which this project's MLflow never knew
    shutil.rmtree(remote / "wineq-vault" / "models", ignore_errors=True)
    run(["dvc", "remote", "modify", "shared", "url", str(remote)], project)
    run(GIT + ["commit", "-q", "-am", "the team's own remote"], project)
    runs = [_train(cli)]
    data = {runs[0]["data_md5"]: (project / DATA).read_bytes()}  # each version's file
    assert cli("register", "--min-rmse", "50").exit_code == 0
    lab = _new_wines(project, 30, tmp_path / "lab.csv")
    assert cli("data", "add", lab, "--commit").exit_code == 0
    runs.append(_train(cli))
    data[runs[1]["data_md5"]] = (project / DATA).read_bytes()
    assert cli("register", "--min-rmse", "50", "--run-id", runs[1]["run_id"]).exit_code == 0
    runs.append(_train(cli, epochs=2))  # other bytes than the champion's, on the same data
    assert len({r["model_md5"] for r in runs}) == 3
    return project, remote, runs, data


def _clone(project: Path, folder: Path, monkeypatch) -> Path:
    subprocess.run(GIT + ["clone", "-q", str(project), str(folder)], check=True)
    (folder / "mlflow.db").write_bytes((project / "mlflow.db").read_bytes())
    enter(folder, monkeypatch)
    return folder


def test_no_dvc_gc_loses_a_model_or_a_runs_data(team, cli, tmp_path, monkeypatch):
    project, remote, runs, data = team
    wines = _new_wines(project, 20, tmp_path / "wines.csv")
    expected = {r["run_id"]: cli("infer", wines, "--run-id", r["run_id"]).stdout for r in runs}
    assert len(data) == 2 and {r["data_md5"] for r in runs} == set(data)

    run(["dvc", "gc", "-w", "-f"], project)
    behind = _clone(project, tmp_path / "behind", monkeypatch)
    run(GIT + ["checkout", "-q", "HEAD~1"], behind)  # a clone that has not pulled data add
    run(["dvc", "gc", "-w", "-c", "-f"], behind)
    run(["dvc", "gc", "-a", "-c", "-f"], project)
    for r in runs:  # DVC's copies are gone: only the vault can bring them back
        assert not remote_object(project, r["model_md5"]).exists()

    fresh = _clone(project, tmp_path / "fresh", monkeypatch)
    for r in runs:
        done = cli("infer", wines, "--run-id", r["run_id"])
        assert done.exit_code == 0, done.stderr
        assert done.stdout == expected[r["run_id"]]
    for version, r in (("1", runs[0]), ("2", runs[1])):
        done = cli("infer", wines, "--model", version)
        assert done.exit_code == 0 and done.stdout == expected[r["run_id"]], done.stderr
        loaded = load_elsewhere(fresh / "sub", fresh, f"models:/wine-quality/{version}", wines)
        assert loaded.returncode == 0, loaded.stderr
        out = tmp_path / f"then-{version}.csv"
        pulled = cli("data", "pull", "--run", r["run_id"], "--output", out)
        assert pulled.exit_code == 0, pulled.stderr
        assert out.read_bytes() == data[r["data_md5"]]
    trained = _train(cli)  # the clone's own data.dvc, after every cleanup
    assert trained["data_md5"] == runs[1]["data_md5"]


def _copies(project: Path, md5: str) -> list[bool]:
    cache = project / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    vault = remote_object(project, md5, "wineq-vault/models")
    return [cache.exists(), remote_object(project, md5).exists(), vault.exists()]


def test_wineq_gc_removes_only_the_models_of_deleted_runs(team, cli, tmp_path):
    project, remote, runs, _ = team
    forgotten = _train(cli, epochs=3)  # deleted, then removed for good by `mlflow gc`
    client = tracker_for(project).client
    client.delete_run(runs[2]["run_id"])
    client.delete_run(forgotten["run_id"])
    store = f"sqlite:///{project / 'mlflow.db'}"
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "gc",
        "--backend-store-uri",
        store,
        "--tracking-uri",
        store,
    ]
    gc = subprocess.run(
        [*command, "--run-ids", forgotten["run_id"]], capture_output=True, text=True
    )
    assert gc.returncode == 0, gc.stderr
    young = json.loads(cli("gc", "--dry-run", "--json").stdout)
    assert young["garbage"] == [] and young["young"] == 2  # just trained: kept an hour

    listed = cli("gc", "--dry-run", "--grace-hours", "0", "--json")
    assert listed.exit_code == 0, listed.stderr
    planned = json.loads(listed.stdout)
    gone = {runs[2]["model_md5"], forgotten["model_md5"]}
    assert {g["md5"] for g in planned["garbage"]} == gone and not planned["removed"]
    assert planned["bytes"] == sum(g["size"] for g in planned["garbage"]) > 0
    assert planned["live"] == 2
    by_md5 = {g["md5"]: g for g in planned["garbage"]}
    assert by_md5[runs[2]["model_md5"]]["runs"] == [runs[2]["run_id"]]
    assert by_md5[forgotten["model_md5"]]["runs"] == []
    assert all(_copies(project, md5) == [True, True, True] for md5 in gone)  # dry: all there
    table = cli("gc", "--dry-run", "--grace-hours", "0").stdout
    assert "would remove" in table and "Dry run: nothing removed" in table

    done = cli("gc", "--grace-hours", "0")
    assert done.exit_code == 0, done.stderr
    assert "Removed 2 model(s); kept 2 live model(s)." in done.stdout
    assert all(_copies(project, md5) == [False, False, False] for md5 in gone)
    for r in runs[:2]:
        assert _copies(project, r["model_md5"]) == [True, True, True]
        wines = _new_wines(project, 5, tmp_path / "w.csv")
        assert cli("infer", wines, "--run-id", r["run_id"]).exit_code == 0
    again = cli("gc", "--grace-hours", "0")
    assert again.exit_code == 0 and again.stdout.startswith("Nothing to remove")


def test_wineq_check_names_versions_whose_bytes_are_gone_and_repairs_them(
    team, cli, tmp_path, monkeypatch
):
    project, remote, runs, _ = team
    first = runs[0]["model_md5"]
    intact = json.loads(cli("check", "--json").stdout)
    assert [(c["label"], c["model"], c["data"]) for c in intact] == [
        ("wine-quality/2", "ok", "ok"),
        ("wine-quality/1", "ok", "ok"),
    ]
    remote_object(project, first).unlink()  # DVC's copy alone gone: the vault's is enough
    assert cli("check").exit_code == 0
    remote_object(project, first, "wineq-vault/models").unlink()
    missing = cli("check")
    assert missing.exit_code == 4
    assert missing.stderr.strip() == (
        "Error: 1 registered version(s) have bytes missing from the remote (wine-quality/1); "
        "run `wineq check --repair` in a clone whose DVC cache still has them"
    )
    assert "missing" in missing.stdout

    wines = _new_wines(project, 5, tmp_path / "wines.csv")
    _clone(project, tmp_path / "fresh", monkeypatch)
    lost = cli("infer", wines, "--model", "1")
    assert lost.exit_code == 4
    assert lost.stderr.startswith(
        f"Error: wine-quality/1: the model of run {runs[0]['run_id'][:8]} (models/model.pt, "
        f"md5 {first}) was pushed to DVC remote shared ({remote}), and it is gone from there "
        "now"
    )
    enter(project, monkeypatch)
    repaired = json.loads(cli("check", "--repair", "--json").stdout)
    assert [c["model"] for c in repaired] == ["ok", "repaired"]
    assert _copies(project, first) == [True, True, True]
    assert cli("check").exit_code == 0

    second = runs[1]["model_md5"]
    vaulted = remote_object(project, second, "wineq-vault/models")
    with damaged(remote_object(project, second)), damaged(vaulted):
        bad = cli("check")
    assert bad.exit_code == 5 and "damaged bytes in the remote (wine-quality/2)" in bad.stderr


def test_a_runs_data_gone_from_the_remote_is_said_to_be_gone(team, cli, tmp_path, monkeypatch):
    project, remote, runs, _ = team
    md5 = runs[0]["data_md5"]
    remote_object(project, md5).unlink()
    remote_object(project, md5, "wineq-vault/data").unlink()
    checked = cli("check", "--json")
    assert checked.exit_code == 4
    states = {c["label"]: c["data"] for c in json.loads(checked.stdout)}
    assert states == {"wine-quality/1": "missing", "wine-quality/2": "ok"}
    _clone(project, tmp_path / "fresh", monkeypatch)
    lost = cli("data", "pull", "--run", runs[0]["run_id"], "--output", tmp_path / "d.csv")
    assert lost.exit_code == 4
    assert lost.stderr.startswith(
        f"Error: run {runs[0]['run_id'][:8]} trained on the data version {md5} once it was "
        f"in DVC remote shared ({remote}), and it is gone from there now"
    )
    assert not (tmp_path / "d.csv").exists()
