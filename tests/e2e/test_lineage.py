"""The promise: a registered model gives exactly its own predictions later, on any clone."""

from __future__ import annotations

import json
import shutil

from tests.support.project import GIT, HEADER, run, synthetic_wines, tracker_for


def _register_new_run(cli, seed: int) -> str:
    result = cli("train", "--epochs", "3", "--seed", str(seed), "--json")
    assert result.exit_code == 0, result.stderr
    run_id = json.loads(result.stdout)["run_id"]
    result = cli("register", "--min-rmse", "5", "--run-id", run_id)
    assert result.exit_code == 0, result.stderr
    return run_id


def test_version_1_predicts_the_same_after_retraining_and_from_a_fresh_clone(
    project, cli, tmp_path, monkeypatch
):
    wines = tmp_path / "wines.csv"
    wines.write_text(
        HEADER
        + ';"color"\n'
        + "\n".join(r + ";white" for r in synthetic_wines(30, "white", 3))
        + "\n"
    )

    first = _register_new_run(cli, seed=1)
    v1 = cli("infer", wines)
    assert v1.exit_code == 0, v1.stderr
    model_file = project / "models" / "model.pt"
    v1_bytes = model_file.read_bytes()

    second = _register_new_run(cli, seed=2)  # overwrites models/model.pt
    assert model_file.read_bytes() != v1_bytes
    tracker = tracker_for(project)
    assert tracker.version("1").run_id == first and tracker.version("2").run_id == second
    assert tracker.version_by_alias("champion").version == "2"
    champion = cli("infer", wines)
    assert champion.stdout != v1.stdout  # the new model really differs

    again = cli("infer", wines, "--model", "wine-quality/1")
    assert again.exit_code == 0, again.stderr
    assert again.stdout == v1.stdout

    # A fresh clone: no workspace model, an empty DVC cache; the remote is the only source.
    clone = tmp_path / "clone"
    run(GIT + ["clone", "-q", str(project), str(clone)], tmp_path)
    assert not (clone / "models" / "model.pt").exists()
    assert not (clone / ".dvc" / "cache").exists()
    monkeypatch.setenv("WINEQ_TRACKING_URI", f"sqlite:///{project / 'mlflow.db'}")
    monkeypatch.chdir(clone)
    shutil.rmtree(project / ".dvc" / "cache")  # nothing to borrow from the first work tree
    from_clone = cli("infer", wines, "--model", "wine-quality/1")
    assert from_clone.exit_code == 0, from_clone.stderr
    assert from_clone.stdout == v1.stdout
    md5 = tracker.version("1").lineage["model_md5"]
    assert (clone / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]).read_bytes() == v1_bytes
