"""Champion and challenger: `wineq compare`, the gate in `wineq register`, `wineq promote`
and the champion's history, on real runs in a real git + DVC project and MLflow store.

Which wines a run was tested on is read back from its own `test_predictions.json` (what
training logged), not recomputed with wineq's split code.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from tests.support.project import enter, tracker_for

DATA = "data/wine-quality.csv"
KEY = ["fixed acidity", "volatile acidity", "alcohol", "density", "color"]


def _train(cli, *args) -> str:
    result = cli("train", "--members", "2", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["run_id"]


def _tested(root: Path, run_id: str, folder: Path) -> set[tuple]:
    """The wines the run was scored on, from the test table it logged."""
    path = tracker_for(root).client.download_artifacts(run_id, "test_predictions.json", folder)
    table = json.loads(Path(path).read_text())
    keep = [table["columns"].index(c) for c in KEY]
    return {tuple(row[i] for i in keep) for row in table["data"]}


def _keys(frame: pd.DataFrame) -> list[tuple]:
    return [tuple(row) for row in frame[KEY].itertuples(index=False)]


def _compare(cli, *args) -> dict:
    result = cli("compare", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _aliases(root: Path) -> dict[str, tuple[str, ...]]:
    return {v.version: v.aliases for v in tracker_for(root).versions()}


@pytest.fixture(scope="module")
def trained(template, tmp_path_factory):
    """The project with a weak run registered as champion, a strong run and another weak
    one, trained once for the module; each test works on its own copy."""
    from typer.testing import CliRunner

    from winequality.cli import app

    root = tmp_path_factory.mktemp("champion") / "project"
    shutil.copytree(template, root, symlinks=True)
    runner = CliRunner()

    def cli(*args):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    with pytest.MonkeyPatch.context() as patch:
        enter(root, patch)
        weak = _train(cli, "--epochs", "1", "--seed", "1")
        assert cli("register", "--run-id", weak, "--min-rmse", "5").exit_code == 0
        strong = _train(cli, "--epochs", "12", "--seed", "2")
        worse = _train(cli, "--epochs", "1", "--seed", "3")
    return root, (weak, strong, worse)


@pytest.fixture
def three_runs(trained, tmp_path, monkeypatch):
    """A private copy of the trained project, as the current directory: its three runs."""
    source, runs = trained
    root = tmp_path / "project"
    shutil.copytree(source, root, symlinks=True)
    enter(root, monkeypatch)
    return runs


@pytest.fixture
def here(three_runs) -> Path:
    return Path.cwd()


def test_the_gate_promotes_a_better_run_refuses_a_worse_and_history_records_every_move(
    here, cli, three_runs
):
    weak, strong, worse = three_runs
    better = cli("register", "--run-id", strong, "--min-rmse", "5", "--json")
    assert better.exit_code == 0, better.stderr
    gate = json.loads(better.stdout)["gate"]
    champion, candidate = gate["models"]
    assert candidate["scores"]["all"]["rmse"] <= champion["scores"]["all"]["rmse"]
    assert _aliases(here) == {"2": ("champion",), "1": ()}

    refused = cli("register", "--run-id", worse, "--min-rmse", "5")
    assert refused.exit_code == 8
    shared = _compare(cli, "2", worse, "--no-record")
    held, challenger = (m["scores"]["all"]["rmse"] for m in shared["models"])
    assert challenger > held
    assert refused.stderr == (
        f"Error: run {worse[:8]} scores RMSE {challenger:.4f} against {held:.4f} for champion "
        f"wine-quality/2 on the {shared['wines']:,} wines neither trained on (worse by "
        f"{challenger - held:.4f}, more than --tolerance 0); @champion stays on wine-quality/2 "
        '— register it with --alias challenger, or promote it anyway with --force --reason "..."\n'
    )
    assert _aliases(here) == {"2": ("champion",), "1": ()}  # nothing registered, nothing moved

    # a tolerance wide enough lets it through; a narrower one does not
    narrow = f"{(challenger - held) * 0.5:.6f}"
    assert cli("register", "--run-id", worse, "--tolerance", narrow).exit_code == 8
    wide = f"{(challenger - held) * 2:.6f}"
    assert cli("register", "--run-id", worse, "--tolerance", wide).exit_code == 0
    assert _aliases(here) == {"3": ("champion",), "2": (), "1": ()}

    rollback = cli("promote", "wine-quality/2", "--reason", "v3 is worse on red")
    assert rollback.exit_code == 0, rollback.stderr
    assert rollback.stdout.startswith("@champion moved from wine-quality/3 to wine-quality/2")
    forced = cli("register", "--run-id", weak, "--force", "--reason", "lab asked for v1")
    assert forced.exit_code == 0, forced.stderr
    assert _aliases(here)["1"] == ("champion",)
    tags = tracker_for(here).version("1").tags
    assert tags["wineq.forced_reason"] == "lab asked for v1" and tags["wineq.forced_by"]

    history = json.loads(cli("show", "wine-quality", "--json").stdout)["history"]
    steps = [(m["previous"], m["to"], m["how"], m["reason"]) for m in history]
    assert steps == [
        (None, "1", "register", ""),
        ("1", "2", "register", ""),
        ("2", "3", "register", ""),
        ("3", "2", "promote", "v3 is worse on red"),
        ("2", "1", "force", "lab asked for v1"),
    ]
    assert all(m["by"] and m["at"].endswith("Z") for m in history)
    shown = cli("show", "wine-quality").stdout
    assert "history of @champion" in shown and "v3 is worse on red" in shown
    # the history is on the registered model, where MLflow's UI shows it
    tags = tracker_for(here).client.get_registered_model("wine-quality").tags
    assert len([k for k in tags if k.startswith("wineq.champion.")]) == 5


def test_a_challenger_alias_skips_the_gate_and_leaves_champion(here, cli, three_runs):
    weak, strong, worse = three_runs
    result = cli("register", "--run-id", worse, "--alias", "challenger")
    assert result.exit_code == 0, result.stderr
    assert "@challenger points at it" in result.stdout
    assert _aliases(here) == {"2": ("challenger",), "1": ("champion",)}
    history = json.loads(cli("show", "wine-quality", "--json").stdout)["history"]
    assert [m["to"] for m in history] == ["1"]  # only the first registration moved champion
    assert cli("register", "--run-id", worse, "--force").exit_code == 2  # no reason given
    assert cli("promote", "2").exit_code == 2  # --reason is required
    assert _aliases(here) == {"2": ("challenger",), "1": ("champion",)}


def test_compare_scores_every_model_on_the_wines_none_trained_on(here, cli, three_runs, tmp_path):
    weak, strong, worse = three_runs
    found = _compare(cli, "wine-quality@champion", strong, worse[:8])
    tested = _tested(here, weak, tmp_path / "t1")
    assert tested == _tested(here, strong, tmp_path / "t2")  # same data, same split
    data = pd.read_csv(here / DATA, sep=";")
    assert found["wines"] == len(data[[k in tested for k in _keys(data)]])
    assert found["offered"] == len(data) and found["excluded"] == len(data) - found["wines"]
    labels = [m["label"] for m in found["models"]]
    assert labels == ["wine-quality/1 (@champion)", f"run {strong[:8]}", f"run {worse[:8]}"]
    for m in found["models"]:
        assert set(m["scores"]) == {"all", "red", "white"}
        assert m["scores"]["red"]["wines"] + m["scores"]["white"]["wines"] == found["wines"]
        assert 0 <= m["scores"]["all"]["coverage"] <= 1
        assert m["trained_on"] == found["excluded"]
    # each model's RMSE on these wines is its own recorded test RMSE: the same wines
    for m, run_id in zip(found["models"], (weak, strong, worse), strict=True):
        recorded = tracker_for(here).get_run(run_id).metrics["test_rmse"]
        assert m["scores"]["all"]["rmse"] == pytest.approx(recorded, abs=1e-4)
    second = found["models"][1]
    d = second["difference"]
    assert d["low"] <= d["rmse"] <= d["high"]
    assert second["verdict"].startswith((f"run {strong[:8]} is", "no clear difference"))

    shown = cli("compare", "1", strong)  # the terminal form
    assert shown.exit_code == 0, shown.stderr
    assert "wines none of the models trained on" in shown.stdout
    assert "95% interval" in shown.stdout and "Recorded in MLflow: run " in shown.stderr


def test_compare_with_no_arguments_is_the_champion_against_the_newest_run(here, cli, three_runs):
    weak, strong, worse = three_runs
    found = _compare(cli)
    assert [m["run_id"] for m in found["models"]] == [weak, worse]


def test_two_identical_models_differ_by_an_interval_that_holds_zero(project, cli):
    first = _train(cli, "--epochs", "2", "--seed", "4")
    again = _train(cli, "--epochs", "2", "--seed", "4")  # the same seed and data: the same bytes
    found = _compare(cli, first, again, "--no-record")
    d = found["models"][1]["difference"]
    assert d["low"] <= 0 <= d["high"] and d["rmse"] == 0
    assert found["models"][1]["verdict"].startswith("no clear difference")


def test_a_file_that_overlaps_training_wines_leaves_them_out_and_counts_them(
    here, cli, three_runs, tmp_path
):
    weak, strong, worse = three_runs
    data = pd.read_csv(here / DATA, sep=";")
    tested = _tested(here, weak, tmp_path / "t")
    is_test = [k in tested for k in _keys(data)]
    file = pd.concat([data[is_test].head(30), data[[not t for t in is_test]].head(50)])
    path = tmp_path / "lab.csv"
    file.to_csv(path, index=False)

    found = _compare(cli, "1", strong, "--data", str(path))
    assert (found["offered"], found["excluded"], found["wines"]) == (80, 50, 30)
    assert all(m["trained_on"] == 50 for m in found["models"])
    kept = _compare(cli, "1", strong, "--data", str(path), "--include-trained")
    assert (kept["wines"], kept["excluded"]) == (80, 0)
    assert all(m["trained_on"] == 50 for m in kept["models"])

    only_trained = tmp_path / "trained.csv"
    data[[not t for t in is_test]].head(20).to_csv(only_trained, index=False)
    refused = cli("compare", "1", strong, "--data", str(only_trained))
    assert refused.exit_code == 3
    assert "all 20 wines of" in refused.stderr and "--include-trained" in refused.stderr

    # infer on the same file says how many wines the model trained on, and scores the rest
    result = cli("infer", str(path), "--model", "1", "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 0, result.stderr
    rmse_new = found["models"][0]["scores"]["all"]["rmse"]
    assert (
        "the model trained on 50 of these 80 wines. "
        f"On the 30 others: RMSE {rmse_new:.4f}" in result.stderr
    )
    assert "on all 80, training wines included: RMSE" in result.stderr


def test_a_comparison_is_recorded_in_mlflow_against_the_models_and_the_wines(here, cli, three_runs):
    weak, strong, worse = three_runs
    found = _compare(cli, "1", strong)
    client = tracker_for(here).client
    run = client.get_run(found["recorded"])
    assert client.get_experiment(run.info.experiment_id).name == "wine-quality-comparisons"
    assert run.data.params["wines"] == str(found["wines"])
    assert run.data.metrics["run_" + strong[:8] + ".rmse"] == pytest.approx(
        found["models"][1]["scores"]["all"]["rmse"]
    )
    assert "Comparison of 2 models" in run.data.tags["mlflow.note.content"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"comparison.json", "comparison_wines.json", "plots"} <= artifacts
    [dataset] = run.inputs.dataset_inputs
    assert dataset.dataset.name == "comparison-wines"
    model_id = tracker_for(here).get_run(strong).lineage["mlflow_model_id"]
    logged = client.get_logged_model(model_id)
    rmse = [m for m in logged.metrics if m.key.endswith(".rmse") and m.run_id == run.info.run_id]
    assert rmse and rmse[0].dataset_name == "comparison-wines"


def test_min_rmse_ranks_runs_of_different_data_versions_on_shared_wines(project, cli, tmp_path):
    first = _train(cli, "--epochs", "6", "--seed", "5")
    data = pd.read_csv(project / DATA, sep=";")
    lab = data.head(60).copy()
    lab["alcohol"] = lab["alcohol"] + 0.0321  # new wines
    lab.to_csv(tmp_path / "lab.csv", sep=";", index=False)
    assert cli("data", "add", tmp_path / "lab.csv", "--commit").exit_code == 0
    second = _train(cli, "--epochs", "6", "--seed", "6")
    found = _compare(cli, first, second, "--no-record")
    best = min(found["models"], key=lambda m: m["scores"]["all"]["rmse"])
    result = cli("register", "--min-rmse", "5", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["run_id"] == best["run_id"]
    refused = cli("register", "--min-rmse", "0.01")
    assert refused.exit_code == 8
    assert f"on the {found['wines']} wines none of the 2 finished runs trained on" in refused.stderr
