"""A run's report (domain/report.py): error by quality level, plots, text and DVC's files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from winequality.domain import report
from winequality.domain.params import DEFAULTS
from winequality.schema import FEATURES


def test_error_by_quality_level_counts_every_wine_and_its_bias():
    test = pd.DataFrame(
        {
            "color": ["red", "white", "white", "red", "white"],
            "quality": [3, 6, 6, 8, 6],
            "predicted_quality": [5.0, 6.5, 5.5, 7.0, 6.0],
        }
    )
    table = report.error_by_quality(test).set_index("quality")
    assert table["wines"].to_dict() == {3: 1, 6: 3, 8: 1}
    assert table.loc[6, ["red", "white"]].tolist() == [0, 3]
    assert table.loc[3, "mean_error"] == 2.0 and table.loc[8, "mean_error"] == -1.0
    assert table.loc[6, "mean_error"] == 0.0
    assert table.loc[6, "rmse"] == pytest.approx(np.sqrt(0.5 / 3))
    assert report.predictions_table(test)["error"].tolist() == [2.0, 0.5, -0.5, -1.0, 0.0]


def test_a_run_with_one_colour_in_its_test_wines_still_reports(tmp_path):
    """No red test wines, and every white one rated 6 (r2 does not exist): plots, text and
    DVC's files are still made, and metrics.json stays valid JSON."""
    test = pd.DataFrame({name: [1.0, 2.0, 3.0] for name in FEATURES})
    test["color"], test["quality"], test["predicted_quality"] = "white", 6, [5.5, 6.0, 6.5]
    metrics = {"test_rmse": 0.4, "test_r2": float("nan"), "test_rmse_white": 0.4}
    metrics["best_epoch"] = 2.0
    evaluation = report.Evaluation(
        "ab" * 16, DEFAULTS, [0.5, 0.4], [0.6, 0.5], 2, test, metrics, {"n_test": "3"}
    )
    for path in report.draw_plots(evaluation, tmp_path / "plots"):
        assert path.stat().st_size > 1000
    text = report.describe(evaluation)
    assert "| all (3) | 0.4000 |" in text and "| red" not in text
    report.write_stage_files(evaluation, tmp_path / "reports")
    written = json.loads((tmp_path / "reports" / "metrics.json").read_text())
    assert written["test_r2"] is None and written["best_epoch"] == 2
    assert written["mlflow_run_id"] == "ab" * 16
