"""`wineq train`, `wineq register` and `wineq runs` against a real DVC repo and MLflow store."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import torch
import yaml
from tests.support.project import md5_of, run, tracker_for


def _train(cli, *args):
    result = cli("train", "--epochs", "3", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["run_id"]


def test_train_records_params_metrics_and_lineage(project, cli, remote_dir):
    run_id = _train(cli, "--seed", "2")
    run = tracker_for(project).get_run(run_id)
    assert run.status == "FINISHED"
    assert run.params["epochs"] == "3" and run.params["seed"] == "2"
    for key in (
        "test_rmse",
        "test_mae",
        "test_r2",
        "test_within_0_5",
        "test_rmse_red",
        "test_mae_white",
    ):
        assert key in run.metrics, key
    history = tracker_for(project).client.get_metric_history(run_id, "val_loss")
    assert [m.step for m in history] == [1, 2, 3]

    lineage = run.lineage
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True
    ).stdout.strip()
    assert lineage["git_commit"] == head and run.tags["mlflow.source.git.commit"] == head
    assert lineage["git_dirty"] == "false"
    assert (
        lineage["data_md5"] == yaml.safe_load((project / "data.dvc").read_text())["outs"][0]["md5"]
    )
    model = project / "models" / "model.pt"
    assert lineage["model_path"] == "models/model.pt"
    assert lineage["model_md5"] == md5_of(model)
    assert lineage["dvc_remote"] == f"shared ({remote_dir})"
    md5 = lineage["model_md5"]
    assert md5_of(remote_dir / "files" / "md5" / md5[:2] / md5[2:]) == md5  # pushed, byte for byte

    bundle = torch.load(model, weights_only=True)  # no pickled code in the file
    assert bundle["features"][0] == "fixed acidity" and "mean" in bundle["state_dict"]
    pointer = tracker_for(project).client.download_artifacts(
        run_id, "model/model.pt.dvc", str(project / "dl")
    )
    assert f"md5: {md5}" in open(pointer).read()


def test_after_training_git_and_dvc_have_nothing_to_commit(project, cli):
    """The run's MLflow record is the model's pointer; the work tree's model is ignored."""
    _train(cli)
    assert (project / "models" / "model.pt").is_file()
    git = run(["git", "status", "--porcelain", "--untracked-files=all"], project)
    assert git == ""
    assert json.loads(run(["dvc", "data", "status", "--json"], project)) == {}


def test_a_pointer_left_by_an_older_wineq_is_removed(project, cli):
    (project / "models" / "model.pt.dvc").write_text(
        "outs:\n- md5: 982dcc166aa48daf13ec86c10eb467ff\n  size: 1\n  hash: md5\n  path: model.pt\n"
    )
    _train(cli)
    assert not (project / "models" / "model.pt.dvc").exists()
    assert json.loads(run(["dvc", "data", "status", "--json"], project)) == {}


def test_a_project_without_models_gitignore_gets_one(project, cli):
    (project / "models" / ".gitignore").unlink()
    _train(cli)
    assert (project / "models" / ".gitignore").read_text() == "/model.pt\n"


def test_same_seed_and_data_give_the_same_metrics(project, cli):
    first, second = _train(cli, "--seed", "5"), _train(cli, "--seed", "5")
    tracker = tracker_for(project)
    a, b = tracker.get_run(first), tracker.get_run(second)
    assert a.metrics == b.metrics
    assert a.lineage["model_md5"] == b.lineage["model_md5"]
    # another seed changes the training but scores on the same held-out wines
    third = tracker.get_run(_train(cli, "--seed", "6"))
    assert third.params["n_test"] == a.params["n_test"]
    assert third.metrics["test_rmse"] != a.metrics["test_rmse"]


def test_train_without_data_says_to_import_it(project, cli, tmp_path):
    shutil.rmtree(project / "data")
    shutil.rmtree(project / ".dvc" / "cache")
    empty = tmp_path / "empty-remote"
    empty.mkdir()
    run(["dvc", "remote", "add", "--local", "-d", "empty", str(empty)], project)
    result = cli("train", "--epochs", "1")
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: the data of data.dvc")
    assert result.stderr.rstrip().endswith("run `wineq data import` to build and push it")
    assert tracker_for(project).search_runs() == []


def test_train_rejects_bad_options_before_doing_anything(project, cli):
    result = cli("train", "--epochs", "0")
    assert result.exit_code == 2
    assert result.stderr == "Error: --epochs 0: must be at least 1 (see `wineq train --help`)\n"
    result = cli("train", "--hidden", "64,x")
    assert result.exit_code == 2 and "64,64" in result.stderr
    result = cli("train", "--epochs", "x")  # typer's own check: the same kind, the same code
    assert result.exit_code == 2 and result.stderr.startswith("Error: Invalid value for '--epochs'")
    assert len(result.stderr.strip().splitlines()) == 1
    assert tracker_for(project).search_runs() == []


def test_ctrl_c_marks_the_run_killed_and_keeps_the_old_model(project, cli):
    from winequality.domain.params import TrainParams
    from winequality.errors import Interrupted
    from winequality.settings import load_settings
    from winequality.workflows.service import WineService

    _train(cli)
    model = project / "models" / "model.pt"
    before = model.read_bytes()

    def interrupt(epoch, *_):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted, match="ended as KILLED"):
        WineService(load_settings()).train(TrainParams(epochs=5, seed=9), interrupt)
    newest = tracker_for(project).search_runs()[0]
    assert newest.status == "KILLED" and newest.params["seed"] == "9"
    assert model.read_bytes() == before


def test_register_picks_the_best_run_and_points_champion_at_it(project, cli):
    runs = [_train(cli, "--seed", str(s)) for s in (1, 2)]
    tracker = tracker_for(project)
    best = min(runs, key=lambda r: tracker.get_run(r).metrics["test_rmse"])
    result = cli("register", "--min-rmse", "5")
    assert result.exit_code == 0, result.stderr
    version = tracker.version_by_alias("champion")
    assert version.version == "1" and version.run_id == best
    run = tracker.get_run(best)
    for key in ("git_commit", "data_md5", "model_path", "model_md5", "dvc_remote"):
        assert version.lineage[key] == run.lineage[key]
    assert version.lineage["run_id"] == best
    # registering the same run again moves nothing and creates no duplicate
    assert cli("register", "--min-rmse", "5").exit_code == 0
    assert [v.version for v in tracker.versions()] == ["1"]


def test_register_with_no_run_under_the_bar_registers_nothing(project, cli):
    run_id = _train(cli)
    rmse = tracker_for(project).get_run(run_id).metrics["test_rmse"]
    result = cli("register", "--min-rmse", "0.01")
    assert result.exit_code == 8
    assert result.stderr == (
        f"Error: no run reaches test RMSE 0.0100 (best: {rmse:.4f}, run {run_id[:8]}); "
        "train longer or relax --min-rmse\n"
    )
    assert tracker_for(project).versions() == []


def test_register_refuses_a_model_whose_bytes_are_not_in_the_remote(project, cli, tmp_path):
    run_id = _train(cli)
    empty = tmp_path / "other-remote"
    empty.mkdir()
    run(["dvc", "remote", "add", "--local", "-d", "other", str(empty)], project)
    result = cli("register", "--min-rmse", "5")
    assert result.exit_code == 4
    assert result.stderr.startswith(f"Error: the model of run {run_id}")
    assert "nothing registered" in result.stderr
    assert tracker_for(project).versions() == []


def test_register_a_named_run_and_manually(project, cli):
    first, second = _train(cli, "--seed", "1"), _train(cli, "--seed", "2")
    result = cli("register", "--min-rmse", "5", "--run-id", first[:8])
    assert result.exit_code == 0, result.stderr
    result = cli("register", "--min-rmse", "5", "--manual", input="1\n")  # row 1: newest
    assert result.exit_code == 0, result.stderr
    assert second[:8] in result.stdout  # the table of runs was shown
    tracker = tracker_for(project)
    assert tracker.version_by_alias("champion").run_id == second
    assert {v.run_id for v in tracker.versions()} == {first, second}
    result = cli("register", "--run-id", "zzzz")
    assert result.exit_code == 7 and "no run 'zzzz'" in result.stderr


def test_runs_lists_newest_first_with_registered_versions(project, cli):
    assert "No runs" in cli("runs").stdout
    first, second = _train(cli, "--seed", "1"), _train(cli, "--seed", "2")
    cli("register", "--min-rmse", "5", "--run-id", first)
    listed = json.loads(cli("runs", "--json").stdout)
    assert [r["run_id"] for r in listed] == [second, first]
    assert listed[1]["registered"] == ["v1@champion"] and listed[0]["registered"] == []
    assert listed[0]["epochs"] == 3 and listed[0]["status"] == "FINISHED"
    assert listed[0]["rmse"] == pytest.approx(
        tracker_for(project).get_run(second).metrics["test_rmse"]
    )
    assert len(json.loads(cli("runs", "--json", "--limit", "1").stdout)) == 1
    table = cli("runs").stdout
    assert first[:8] in table and "v1@champion" in table


def test_runs_piped_into_a_narrow_pipe_keeps_every_value_whole(project, cli, monkeypatch):
    run_id = _train(cli)
    cli("register", "--min-rmse", "5")
    monkeypatch.setenv("COLUMNS", "40")  # CliRunner's output is a pipe, not a terminal
    lines = cli("runs").stdout.splitlines()
    row = next(line for line in lines if run_id[:8] in line)
    rmse = tracker_for(project).get_run(run_id).metrics["test_rmse"]
    assert f"{rmse:.4f}" in row and "v1@champion" in row and "FINISHED" in row


def test_runs_pages_through_the_newest_first(project, cli):
    ids = [_train(cli, "--seed", str(seed)) for seed in (1, 2, 3)]
    pages = [
        [r["run_id"] for r in json.loads(cli("runs", "--json", "--limit", "2", "--page", p).stdout)]
        for p in ("1", "2", "3")
    ]
    assert pages == [ids[:0:-1], ids[:1], []]
    first_page = cli("runs", "--limit", "2")
    assert "More runs: wineq runs --limit 2 --page 2" in first_page.stderr
    assert ids[0][:8] not in first_page.stdout
    assert "page 2" in cli("runs", "--limit", "2", "--page", "2").stdout
    assert "No runs on page 3" in cli("runs", "--limit", "2", "--page", "3").stdout
    result = cli("runs", "--page", "0")
    assert result.exit_code == 2 and result.stderr == "Error: --page 0: must be at least 1\n"
