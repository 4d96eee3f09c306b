"""Scores on shared wines and the paired bootstrap (domain/comparison.py), on numbers
whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from winequality.domain.comparison import (
    Difference,
    paired_difference,
    plot_paired_errors,
    scores,
    scores_by_colour,
)


def test_scores_are_rmse_mae_within_half_and_coverage():
    quality = np.array([5.0, 6.0, 7.0, 5.0])
    predicted = np.array([5.0, 6.5, 6.0, 5.2])
    low, high = predicted - 0.6, predicted + 0.6
    s = scores(quality, predicted, low, high)
    assert s.wines == 4
    assert s.rmse == pytest.approx(np.sqrt((0 + 0.25 + 1 + 0.04) / 4))
    assert s.mae == pytest.approx((0 + 0.5 + 1 + 0.2) / 4)
    assert s.within_0_5 == 0.75  # 0.5 away counts as within
    assert s.coverage == 0.75  # the wine 1.0 away is outside its interval
    assert scores(quality, predicted).coverage is None  # no interval, no coverage


def test_scores_by_colour_split_the_wines_and_keep_the_whole():
    colours = np.array(["red", "white", "white"])
    found = scores_by_colour(colours, np.array([5.0, 6.0, 7.0]), np.array([5.0, 6.0, 6.0]))
    assert list(found) == ["all", "red", "white"]
    assert (found["red"].wines, found["white"].wines, found["all"].wines) == (1, 2, 3)
    assert found["red"].rmse == 0 and found["white"].mae == 0.5


def test_two_identical_models_differ_by_exactly_nothing():
    rng = np.random.default_rng(1)
    quality = rng.integers(3, 9, 500).astype(float)
    predicted = quality + rng.normal(0, 0.7, 500)
    d = paired_difference(quality, predicted, predicted.copy())
    assert (d.rmse, d.low, d.high) == (0.0, 0.0, 0.0)
    assert d.low <= 0 <= d.high and not d.clear
    assert d.verdict("B", "A").startswith("no clear difference between B and A")


def test_a_clearly_better_model_is_said_better_with_an_interval_around_the_difference():
    rng = np.random.default_rng(2)
    quality = rng.integers(3, 9, 2000).astype(float)
    noise = rng.normal(0, 1, 2000)
    first, better = quality + 0.8 * noise, quality + 0.6 * noise
    d = paired_difference(quality, first, better)
    assert d.low <= d.rmse <= d.high < 0
    assert d.rmse == pytest.approx(
        np.sqrt(np.mean((better - quality) ** 2)) - np.sqrt(np.mean((first - quality) ** 2))
    )
    assert d.verdict("B", "A") == (f"B is better by {-d.rmse:.3f} ({-d.high:.3f} to {-d.low:.3f})")
    worse = paired_difference(quality, better, first)
    assert worse.verdict("A", "B").startswith("A is worse by")


def test_the_interval_is_the_same_every_time_and_narrows_with_more_wines():
    rng = np.random.default_rng(3)
    quality = rng.integers(3, 9, 4000).astype(float)
    a, b = quality + rng.normal(0, 0.7, 4000), quality + rng.normal(0, 0.7, 4000)
    assert paired_difference(quality, a, b) == paired_difference(quality, a, b)
    few = paired_difference(quality[:200], a[:200], b[:200])
    many = paired_difference(quality, a, b)
    assert many.high - many.low < few.high - few.low


def test_no_wines_is_an_error_not_a_number():
    with pytest.raises(ValueError, match="no wines"):
        paired_difference(np.array([]), np.array([]), np.array([]))


def test_the_paired_errors_plot_is_an_image_for_two_models_or_more(tmp_path):
    quality = np.array([5.0, 6.0, 7.0])
    one = {"A": quality + 0.1}
    assert plot_paired_errors(quality, one, tmp_path / "one.png") is None
    two = {"A": quality + 0.1, "B": quality - 0.3}
    path = plot_paired_errors(quality, two, tmp_path / "two.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_difference_is_clear_only_when_its_interval_leaves_out_zero():
    assert Difference(-0.01, -0.02, -0.001).clear
    assert Difference(0.01, 0.001, 0.02).clear
    assert not Difference(0.0, -0.01, 0.01).clear
