"""What a model keeps of its training wines (domain/familiarity.py): the unusual flag, the
expected RMSE of a batch, and drift per feature."""

from __future__ import annotations

import numpy as np
import pytest

from winequality.domain import model as nn_model
from winequality.domain.familiarity import Drift, summarise, unusual
from winequality.domain.params import TrainParams

FIT, VAL = 2400, 600


def _wines(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 12)) + 5
    x[:, -1] = rng.random(n) < 0.3
    y = 5.5 + x[:, 10] - 5 + 0.3 * (x[:, 1] - 5) ** 2 + rng.normal(0, 0.3, n)
    return x, y


@pytest.fixture(scope="module")
def fitted():
    x, y = _wines(FIT + VAL + 2000, seed=3)
    config = TrainParams(epochs=4, members=2, frequencies=4, embedding=4)
    net, _ = nn_model.fit(x[:FIT], y[:FIT], x[FIT : FIT + VAL], y[FIT : FIT + VAL], config)
    return net, x[: FIT + VAL], x[FIT + VAL :], y[FIT + VAL :]


def test_the_model_file_carries_its_summary(fitted):
    net, trained, _, _ = fitted
    again = nn_model.from_bytes(nn_model.to_bytes(net, TrainParams().hidden))
    assert again.summary is not None and again.summary.wines == FIT + VAL
    assert np.array_equal(again.summary.percentiles, net.summary.percentiles)
    assert again.summary.distance == net.summary.distance > 0
    low = trained[:, :11].astype(np.float32).min(axis=0)
    assert np.array_equal(again.summary.low, low)


def test_an_unusual_but_possible_wine_is_flagged_and_ordinary_ones_are_not(fitted):
    net, trained, _, _ = fitted
    centre = trained.mean(axis=0)
    beyond = centre.copy()
    beyond[3] = trained[:, 3].max() + 0.5  # one feature past anything trained on
    corner = centre.copy()  # every feature within range, the combination far from all
    corner[:11] = np.where(np.arange(11) % 2, np.quantile(trained[:, :11], 0.02, axis=0),
                           np.quantile(trained[:, :11], 0.98, axis=0))  # fmt: skip
    found = nn_model.predict_with_intervals(net, np.stack([centre, beyond, corner]), 0.8, 7)
    assert found.unusual.tolist() == [False, True, True]


def test_the_flag_fires_on_about_the_thresholds_share_of_held_out_wines(fitted):
    net, _, held_out, _ = fitted
    found = nn_model.predict_with_intervals(net, held_out, 0.8, 7)
    assert 0.002 <= found.unusual.mean() <= 0.04  # 1% by the distance rule, plus the ranges'


def test_a_shifted_batch_expects_a_larger_error_than_the_test_wines(fitted):
    net, _, held_out, truth = fitted
    found = nn_model.predict_with_intervals(net, held_out, 0.8, 7)
    test_rmse = float(np.sqrt(np.mean((found.quality - truth) ** 2)))
    mean_square = net.calibration.mean_square
    on_test = np.sqrt(mean_square * np.mean(found.scale**2))
    assert on_test == pytest.approx(test_rmse, rel=0.25)
    far = np.abs(held_out[:, 1] - 5) > 1.8  # the curved feature's tails: larger errors
    expected_far = np.sqrt(mean_square * np.mean(found.scale[far] ** 2))
    real_far = float(np.sqrt(np.mean((found.quality[far] - truth[far]) ** 2)))
    assert real_far > test_rmse and expected_far > test_rmse


def test_drift_is_stable_on_like_wines_and_major_on_a_shifted_feature(fitted):
    net, _, held_out, _ = fitted
    like = Drift(net.summary)
    for part in np.array_split(held_out, 3):  # chunk by chunk
        like.add(part)
    assert {f["shift"] for f in like.features()} == {"stable"}
    # 22 tests at the 5% level: one or two may reject by chance, not more
    assert sum(f["ks"] > f["ks_critical"] for f in like.features()) <= 2
    shifted = held_out.copy()
    shifted[:, 10] += 0.8
    moved = Drift(net.summary)
    moved.add(shifted)
    found = moved.features()
    assert [f["color"] for f in found] == ["red"] * 11 + ["white"] * 11
    for colour in ("white", "red"):  # each colour against its own training wines
        by_name = {f["feature"]: f for f in found if f["color"] == colour}
        assert by_name["alcohol"]["shift"] == "major" and by_name["alcohol"]["psi"] >= 0.25
        assert by_name["alcohol"]["ks"] > by_name["alcohol"]["ks_critical"]
        assert by_name["pH"]["shift"] == "stable"
        assert by_name["pH"]["wines"] == int((held_out[:, -1] == (colour == "red")).sum())


def test_a_batch_of_one_colour_is_measured_against_that_colours_training_wines(fitted):
    net, trained, _, _ = fitted
    red = trained[trained[:, -1] == 1]
    drift = Drift(net.summary)
    drift.add(red)  # the red training wines themselves: no drift from the red ones
    found = drift.features()
    assert {f["color"] for f in found} == {"red"}
    assert all(f["psi"] < 1e-6 and f["ks"] < 1e-6 for f in found)
    assert found[0]["training_wines"] == len(red)


def test_a_summary_without_neighbours_flags_by_range_alone():
    x = np.random.default_rng(0).normal(size=(200, 12)).astype(np.float32)
    summary = summarise(x, np.zeros(0))
    assert summary.distance == float("inf")
    inside = x[:5]
    outside = x[:1].copy()
    outside[0, 0] = x[:, 0].max() + 1
    flags = unusual(summary, np.vstack([inside, outside]), np.full(6, 1e9))
    assert flags.tolist() == [False] * 5 + [True]
