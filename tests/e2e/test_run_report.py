"""A run explains itself in MLflow (dataset input, description, plots, predictions table,
registry descriptions) and in the terminal (`wineq show`), with a real store and DVC repo."""

from __future__ import annotations

import json

import yaml
from tests.support.project import tracker_for

PNG = b"\x89PNG\r\n\x1a\n"


def _train(cli, *args) -> str:
    result = cli("train", "--epochs", "4", "--members", "2", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["run_id"]


def test_a_run_logs_its_data_description_plots_and_predictions(project, cli, tmp_path):
    run_id = _train(cli)
    tracker = tracker_for(project)
    client = tracker.client
    run = client.get_run(run_id)
    data_md5 = yaml.safe_load((project / "data.dvc").read_text())["outs"][0]["md5"]

    [dataset_input] = run.inputs.dataset_inputs
    dataset = dataset_input.dataset
    assert (dataset.name, dataset.digest, dataset.source_type) == ("wine-quality", data_md5, "dvc")
    source = json.loads(dataset.source)
    assert source["path"] == "data/wine-quality.csv" and source["md5"] == data_md5
    assert source["dvc_remote"].startswith("shared (")
    profile = json.loads(dataset.profile)
    assert profile["n_test"] == int(run.data.params["n_test"])
    assert {t.key: t.value for t in dataset_input.tags}["mlflow.data.context"] == "training"

    description = run.data.tags["mlflow.note.content"]
    metrics = run.data.metrics
    assert f"data.dvc md5 `{data_md5}`" in description
    assert f"| all ({int(run.data.params['n_test']):,}) | {metrics['test_rmse']:.4f} |" in (
        description
    )
    assert f"| red ({profile['red_test']:,}) | {metrics['test_rmse_red']:.4f} |" in description
    assert f"kept epoch {int(metrics['best_epoch'])}" in description
    assert f"wineq infer wines.csv --run-id {run_id}" in description
    assert run.data.tags["wineq.mlflow_model_id"] in description

    artifacts = dict(tracker.artifacts(run_id))
    for name in ("loss", "predicted_vs_true", "error_by_quality"):
        path = f"plots/{name}.png"
        assert artifacts.get(path, 0) > 10_000, path
        local = client.download_artifacts(run_id, path, str(tmp_path))
        assert open(local, "rb").read(8) == PNG

    table = json.loads(
        open(client.download_artifacts(run_id, "test_predictions.json", str(tmp_path))).read()
    )
    assert len(table["data"]) == int(run.data.params["n_test"])
    columns = table["columns"]
    assert {"quality", "color", "predicted_quality", "error", "alcohol"} <= set(columns)
    row = dict(zip(columns, table["data"][0], strict=True))
    assert abs(row["error"] - (row["predicted_quality"] - row["quality"])) < 1e-5


def test_registered_model_and_version_carry_descriptions(project, cli):
    run_id = _train(cli)
    assert cli("register", "--min-rmse", "5").exit_code == 0
    client = tracker_for(project).client
    model = client.get_registered_model("wine-quality")
    assert "Predicts the sensory quality" in model.description
    assert "`color` (`red` or `white`)" in model.description
    version = client.get_model_version("wine-quality", "1")
    run = client.get_run(run_id)
    assert f"From run `{run_id}`" in version.description
    assert f"{run.data.metrics['test_rmse']:.4f}" in version.description
    assert run.data.tags["wineq.model_md5"] in version.description

    # a description a team wrote in MLflow's UI is kept by later registrations
    client.update_registered_model("wine-quality", "ours")
    _train(cli, "--seed", "3")
    registered = cli("register", "--run-id", _latest(project), "--alias", "challenger")
    assert registered.exit_code == 0, registered.stderr
    assert client.get_registered_model("wine-quality").description == "ours"


def _latest(project) -> str:
    return tracker_for(project).search_runs(max_results=1)[0].run_id


def test_show_tells_a_run_and_a_version_whole(project, cli):
    run_id = _train(cli, "--seed", "1")
    assert cli("register", "--min-rmse", "5").exit_code == 0
    run = tracker_for(project).get_run(run_id)

    for target in (run_id[:6], None, "1", "wine-quality@champion"):
        result = cli("show", *([target] if target else []))
        assert result.exit_code == 0, result.stderr
        out = result.stdout
        assert f"Run {run_id}" in out and "FINISHED" in out
        assert run.lineage["model_md5"] in out and run.lineage["data_md5"] in out
        assert "Registered as v1@champion" in out
        for colour in ("all", "red", "white"):
            assert f"│ {colour}" in out
        assert f"{run.metrics['test_rmse_white']:.4f}" in out
        assert "plots/predicted_vs_true.png" in out
        if target is None or not target.startswith(run_id[:6]):
            assert "Version wine-quality/1 @champion" in out

    shown = json.loads(cli("show", run_id, "--json").stdout)
    assert shown["run_id"] == run_id and shown["version"] is None
    assert shown["metrics"]["test_rmse"] == run.metrics["test_rmse"]
    assert {a["path"] for a in shown["artifacts"]} >= {"plots/loss.png", "test_predictions.json"}


def test_show_of_something_missing_is_one_line(project, cli):
    _train(cli)
    for target, code, words in (
        ("ffff", 7, "no run 'ffff'"),
        ("9", 7, "model wine-quality/9 is not registered"),
        ("wine-quality@nope", 7, "model wine-quality@nope is not registered"),
    ):
        result = cli("show", target)
        assert result.exit_code == code, (target, result.stderr)
        assert words in result.stderr and len(result.stderr.splitlines()) == 1


def test_an_unwritable_report_folder_is_refused_before_any_run(project, cli):
    (project / "blocked").write_text("a file, not a folder")
    result = cli("train", "--epochs", "2", "--report", "blocked/reports")
    assert result.exit_code == 2 and result.stderr.startswith("Error: --report blocked/reports")
    assert len(result.stderr.splitlines()) == 1
    assert tracker_for(project).search_runs() == []


def test_show_tells_what_an_old_run_has_and_not_what_it_lacks(project, cli):
    """A run from before wineq logged plots, lineage or per-colour metrics."""
    tracker = tracker_for(project)
    client = tracker.client
    old = client.create_run(tracker.experiment_id())
    client.log_param(old.info.run_id, "epochs", "20")
    client.log_metric(old.info.run_id, "test_rmse", 0.71)
    client.set_terminated(old.info.run_id, "FINISHED")
    result = cli("show", old.info.run_id[:8])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert f"Run {old.info.run_id}" in out and "0.7100" in out
    assert "│ red" not in out and "no plots (a run from before wineq logged them)" in out
    assert "0 artifacts" in out
