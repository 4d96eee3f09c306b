"""How sure each prediction is: intervals and p_premium in `wineq infer`, the calibration
a run records in MLflow and DVC's files, and what `wineq runs` and `wineq show` say."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tests.support.project import HEADER, synthetic_wines, tracker_for


@pytest.fixture
def champion(project, cli):
    result = cli("train", "--epochs", "3", "--json")
    assert result.exit_code == 0, result.stderr
    assert cli("register", "--min-rmse", "5").exit_code == 0
    return json.loads(result.stdout)["run_id"]


@pytest.fixture
def wines(tmp_path):
    path = tmp_path / "wines.csv"
    rows = [r + ";white" for r in synthetic_wines(60, "white", seed=31)]
    path.write_text(HEADER + ';"color"\n' + "\n".join(rows) + "\n")
    return path


def _predict(cli, wines, out, *options) -> pd.DataFrame:
    result = cli("infer", wines, "--output", out, *options)
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(out, sep=";")


def test_the_interval_level_and_premium_score_do_what_they_say(
    champion, cli, wines, tmp_path, monkeypatch
):
    at_80 = _predict(cli, wines, tmp_path / "80.csv")
    at_90 = _predict(cli, wines, tmp_path / "90.csv", "--interval", "0.9")
    from_6 = _predict(cli, wines, tmp_path / "p6.csv", "--premium", "6")
    assert at_80["predicted_quality"].equals(at_90["predicted_quality"])
    assert (at_90["quality_low"] <= at_80["quality_low"]).all()
    assert (at_90["quality_high"] >= at_80["quality_high"]).all()
    assert (at_90["quality_high"] - at_90["quality_low"]).mean() > (
        at_80["quality_high"] - at_80["quality_low"]
    ).mean()
    assert (from_6["p_premium"] >= at_80["p_premium"]).all()
    assert (from_6["p_premium"] > at_80["p_premium"]).any()
    monkeypatch.setenv("WINEQ_INTERVAL", "0.9")  # the setting, as a team's .env would hold it
    assert _predict(cli, wines, tmp_path / "env.csv").equals(at_90)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--interval", "1.5"], "Error: --interval 1.5: give a level between 0 and 1, e.g. 0.9 for 90%"),
        (["--interval", "0"], "Error: --interval 0: give a level between 0 and 1, e.g. 0.9 for 90%"),
        (["--premium", "11"], "Error: --premium 11: give a whole quality score from 1 to 10, e.g. 7"),
    ],
)  # fmt: skip
def test_a_level_or_score_out_of_range_is_one_line_and_no_output(
    champion, cli, wines, tmp_path, options, message
):
    out = tmp_path / "out.csv"
    result = cli("infer", wines, "--output", out, *options)
    assert result.exit_code == 2 and result.stderr.strip() == message
    assert not out.exists()


def test_a_level_the_calibration_cannot_support_names_the_highest_one(
    project, champion, cli, wines, tmp_path
):
    run = tracker_for(project).client.get_run(champion)
    n_val = int(run.data.params["n_val"])
    result = cli("infer", wines, "--output", tmp_path / "out.csv", "--interval", "0.999")
    assert result.exit_code == 2
    highest = np.floor(n_val / (n_val + 1) * 1000) / 1000
    assert result.stderr.strip() == (
        f"Error: --interval for wine-quality/1: an interval at 0.999 needs more than {n_val} "
        f"calibration wines; use a level of at most {highest:g}"
    )
    assert not (tmp_path / "out.csv").exists()


def test_a_bad_interval_setting_is_one_line_naming_the_variable(champion, cli, wines, monkeypatch):
    monkeypatch.setenv("WINEQ_INTERVAL", "80")
    result = cli("infer", wines)
    assert result.exit_code == 9
    assert result.stderr.startswith(
        "Error: WINEQ_INTERVAL=80 (from the environment) is not accepted: "
    )


def test_a_run_records_its_calibration_and_the_table_agrees_with_its_metrics(
    project, cli, champion, tmp_path
):
    tracker = tracker_for(project)
    client = tracker.client
    run = client.get_run(champion)
    metrics, params = run.data.metrics, run.data.params
    assert (params["interval"], params["premium"]) == ("0.8", "7")
    for name in ("coverage_80", "coverage_80_red", "coverage_80_white", "coverage_90", "width_80"):
        assert 0 < metrics[f"test_{name}"] <= (1 if "coverage" in name else 10), name
    assert 0 <= metrics["test_brier_premium"] <= 1

    # every test wine's interval is in the predictions table: the coverage can be recomputed
    table = json.loads(
        open(client.download_artifacts(champion, "test_predictions.json", str(tmp_path))).read()
    )
    frame = pd.DataFrame(table["data"], columns=table["columns"])
    inside = (frame["quality"] >= frame["quality_low"]) & (
        frame["quality"] <= frame["quality_high"]
    )
    assert abs(inside.mean() - metrics["test_coverage_80"]) < 1e-9
    red = frame["color"] == "red"
    assert abs(inside[red].mean() - metrics["test_coverage_80_red"]) < 1e-9
    premium = (frame["quality"] >= 7).astype(float)
    assert abs(((frame["p_premium"] - premium) ** 2).mean() - metrics["test_brier_premium"]) < 1e-4

    artifacts = dict(tracker.artifacts(champion))
    assert artifacts.get("plots/calibration.png", 0) > 10_000
    description = run.data.tags["mlflow.note.content"]
    assert "**How sure**" in description
    assert f"| all | {metrics['test_coverage_80']:.1%} | {metrics['test_coverage_90']:.1%} |" in (
        description
    )
    assert f"Brier score {metrics['test_brier_premium']:.4f}" in description

    runs = cli("runs")
    assert "in 80%" in runs.stdout and f"{metrics['test_coverage_80']:.1%}" in runs.stdout
    listed = json.loads(cli("runs", "--json").stdout)[0]
    assert listed["coverage_80"] == metrics["test_coverage_80"]
    shown = cli("show", champion[:8])
    assert shown.exit_code == 0, shown.stderr
    assert "true score inside the interval" in shown.stdout
    assert f"p_premium Brier {metrics['test_brier_premium']:.4f}" in shown.stdout


def test_the_dvc_stage_files_carry_the_calibration(project, cli):
    result = cli("train", "--epochs", "2", "--members", "2", "--report", "reports")
    assert result.exit_code == 0, result.stderr
    metrics = json.loads((project / "reports" / "metrics.json").read_text())
    assert 0 < metrics["test_coverage_80"] <= 1 and "test_brier_premium_baseline" in metrics
    reliability = pd.read_csv(project / "reports" / "plots" / "reliability.csv")
    assert list(reliability.columns) == ["bin", "wines", "predicted", "observed"]
    scored = pd.read_csv(project / "reports" / "plots" / "predictions.csv")
    assert reliability["wines"].sum() == len(scored) > 0


def test_a_level_the_run_cannot_calibrate_fails_before_training(project, cli, monkeypatch):
    monkeypatch.setenv("WINEQ_INTERVAL", "0.999")
    result = cli("train", "--epochs", "2")
    assert result.exit_code == 9, result.stderr
    line = result.stderr.strip()
    assert line.startswith(
        "Error: setting WINEQ_INTERVAL 0.999: this run calibrates its intervals on "
    ) and line.endswith("; lower it")
    monkeypatch.delenv("WINEQ_INTERVAL")
    assert json.loads(cli("runs", "--json").stdout) == []  # refused before any run started


def test_a_setting_beyond_the_calibration_is_named_as_the_setting(
    champion, cli, wines, monkeypatch
):
    monkeypatch.setenv("WINEQ_INTERVAL", "0.999")
    result = cli("infer", wines)
    assert result.exit_code == 9
    assert result.stderr.startswith(
        "Error: setting WINEQ_INTERVAL for wine-quality/1: an interval at 0.999 needs more than "
    )
