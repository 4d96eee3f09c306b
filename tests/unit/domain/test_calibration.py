"""Intervals and p_premium: conformal calibration on validation wines, scored on others."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch

from winequality.domain import calibration
from winequality.domain import model as nn_model
from winequality.domain.params import TrainParams


def _heteroscedastic(n: int, seed: int):
    """Whole-number scores around a prediction, noisier where the first sign is larger."""
    rng = np.random.default_rng(seed)
    predicted = rng.uniform(4.5, 7.0, n)
    signs = np.column_stack([rng.uniform(0, 1, n), rng.uniform(0, 0.2, n), np.zeros(n)])
    true = np.round(predicted + rng.normal(0, 0.2 + 0.8 * signs[:, 0]))
    return predicted, true, signs


def test_intervals_hold_their_level_on_fresh_wines_and_widen_with_doubt():
    fitted = calibration.fit(*_heteroscedastic(3000, seed=0))
    predicted, true, signs = _heteroscedastic(50_000, seed=1)
    scale = fitted.scale(signs)
    assert fitted.weights[1] > 0  # the sign that drives the noise is used
    for level in (0.8, 0.9):
        low, high = fitted.interval(predicted, scale, level)
        assert abs(calibration.coverage(true, low, high) - level) < 0.02
        doubtful = signs[:, 0] > 0.9
        assert (high - low)[doubtful].mean() > 2 * (high - low)[signs[:, 0] < 0.1].mean()
    wide, narrow = fitted.interval(predicted, scale, 0.9), fitted.interval(predicted, scale, 0.8)
    assert np.all(wide[0] <= narrow[0]) and np.all(wide[1] >= narrow[1])


def test_p_premium_is_calibrated_and_beats_the_share_of_premium_wines():
    fitted = calibration.fit(*_heteroscedastic(3000, seed=2))
    predicted, true, signs = _heteroscedastic(50_000, seed=3)
    scale = fitted.scale(signs)
    p7, p6 = (fitted.p_at_least(predicted, scale, q) for q in (7, 6))
    assert np.all(p6 >= p7) and np.all((p7 > 0) & (p7 < 1))
    outcome = (true >= 7).astype(float)
    assert calibration.brier(p7, outcome) < 0.8 * calibration.brier(
        np.full(len(true), outcome.mean()), outcome
    )
    table = calibration.reliability(p7, outcome)
    assert sum(r["wines"] for r in table) == len(true)
    # expected calibration error: the bins' gaps weighted by their wines
    gap = sum(r["wines"] * abs(r["predicted"] - r["observed"]) for r in table) / len(true)
    assert gap < 0.03, table


def test_a_level_beyond_the_calibration_wines_is_refused_with_the_highest_one():
    fitted = calibration.fit(*_heteroscedastic(99, seed=4))
    assert calibration.highest_level(fitted.wines) == 0.99
    fitted.half_width(0.99)
    with pytest.raises(
        ValueError, match="needs more than 99 calibration wines; use a level of at most 0.99$"
    ):
        fitted.half_width(0.995)


def test_the_scale_fit_never_goes_negative():
    rng = np.random.default_rng(5)
    signs = rng.uniform(0, 1, (500, 3))
    error = np.abs(1.0 - 0.9 * signs[:, 0] + 0.5 * signs[:, 1] + rng.normal(0, 0.05, 500))
    weights = calibration._non_negative_fit(np.column_stack([np.ones(500), signs]), error)
    assert np.all(weights >= 0) and weights[1] == 0 and weights[2] > 0.3


def test_evaluate_reports_each_group_even_when_one_is_empty():
    fitted = calibration.fit(*_heteroscedastic(400, seed=6))
    predicted, true, signs = _heteroscedastic(200, seed=7)
    true = np.clip(true, 5, 7)  # no rare scores at all
    colours = np.array(["red", "white"] * 100)
    found = calibration.evaluate(
        fitted, true, predicted, fitted.scale(signs), colours, premium=7, premium_share=0.2
    )
    assert "coverage_80_le4" not in found and 0 < found["coverage_80_red"] <= 1
    rows = calibration.coverage_rows({f"test_{k}": v for k, v in found.items()})
    assert [label for label, _, _ in rows] == ["all", "red", "white"]


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 12)) + 5
    x[:, -1] = rng.random(n) < 0.3
    y = np.round(5.5 + x[:, 10] - 5 + rng.normal(0, 0.5, n))
    return x, y


def test_a_trained_model_carries_its_calibration_and_predicts_the_same_quality():
    x, y = _data()
    config = TrainParams(epochs=3, members=2, frequencies=4, embedding=4)
    net, _ = nn_model.fit(x[:240], y[:240], x[240:], y[240:], config)
    assert net.calibration is not None and net.calibration.wines == 60
    found = nn_model.predict_with_intervals(net, x, 0.8, 7)
    assert np.array_equal(found.quality, nn_model.predict(net, x))
    assert np.all(found.low <= found.quality) and np.all(found.quality <= found.high)
    again = nn_model.from_bytes(nn_model.to_bytes(net, config.hidden))
    repeated = nn_model.predict_with_intervals(again, x, 0.8, 7)
    for name in ("quality", "low", "high", "p_premium"):
        assert np.array_equal(getattr(found, name), getattr(repeated, name)), name


DATA = Path(__file__).parent / "data"


def test_a_model_saved_by_wineq_before_intervals_predicts_to_the_last_bit():
    """format5.pt and its predictions were written by commit 248cbe5 (format 5), on
    synthetic wines: the same bytes must give the same float64 predictions today."""
    old = nn_model.from_bytes((DATA / "format5.pt").read_bytes())
    saved = np.load(DATA / "format5-predictions.npz")
    assert old.calibration is None and old.neighbours == 10
    assert np.array_equal(nn_model.predict(old, saved["inputs"]), saved["predicted"])
    found = nn_model.predict_with_intervals(old, saved["inputs"], 0.8, 7)
    assert found.low is None and np.array_equal(found.quality, saved["predicted"])


def test_a_format_5_model_predicts_as_before_without_intervals():
    x, y = _data(seed=1)
    config = TrainParams(epochs=2, members=2, frequencies=4, embedding=4)
    net, _ = nn_model.fit(x[:240], y[:240], x[240:], y[240:], config)
    bundle = torch.load(io.BytesIO(nn_model.to_bytes(net, config.hidden)), weights_only=True)
    bundle["format_version"] = 5  # as written before interval calibration
    for key in ("calib_weights", "calib_residuals", "calib_floor"):
        del bundle["state_dict"][key]
    buffer = io.BytesIO()
    torch.save(bundle, buffer)
    old = nn_model.from_bytes(buffer.getvalue())
    assert old.calibration is None
    found = nn_model.predict_with_intervals(old, x, 0.8, 7)
    assert found.low is None and found.p_premium is None
    assert np.array_equal(found.quality, nn_model.predict(net, x))


def test_a_wine_the_model_cannot_score_gets_nan_not_a_confident_answer():
    from winequality.io.formats.delimited import with_columns as _with_columns

    fitted = calibration.fit(*_heteroscedastic(400, seed=8))
    predicted = np.array([6.0, np.nan])
    scale = fitted.scale(np.array([[0.5, 0.1, 0.0], [0.5, 0.1, 0.0]]))
    p = fitted.p_at_least(predicted, scale, 7)
    assert 0 < p[0] < 1 and np.isnan(p[1])
    low, high = fitted.interval(predicted, scale, 0.8)
    lines = _with_columns(
        [b"a", b"b"], nn_model.Predictions(predicted, low, high, p), ","
    ).splitlines()
    assert lines[0].startswith(b"a,6.0000,") and lines[1] == b"b,nan,nan,nan,nan"
    assert lines[0].split(b",")[2] == f"{np.round(low[0], 2):.2f}".encode()


def test_a_level_is_checked_before_its_rank_is_computed():
    fitted = calibration.fit(*_heteroscedastic(99, seed=9))
    for level in (0, 1, float("inf"), -0.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            fitted.half_width(level)
    assert fitted.supports(0.07) and calibration._rank(0.07, 99) == 7  # 100 x 0.07 is 7, not 8
    assert calibration.supported(0.99, 99) and not calibration.supported(0.995, 99)
