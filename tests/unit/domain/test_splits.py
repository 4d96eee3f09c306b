"""Splits (domain/splits.py): a wine's side depends on the wine alone."""

from __future__ import annotations

import numpy as np
import pandas as pd

from winequality.domain.splits import group_ids, grouped_split, validation_split, wine_keys
from winequality.schema import FEATURES


def wines(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(0.0, index=range(n), columns=FEATURES)
    frame[FEATURES[:3]] = rng.integers(0, 40, size=(n, 3)) / 10
    frame["color"] = np.where(rng.random(n) < 0.3, "red", "white")
    return frame


def test_a_wine_and_its_exact_repeats_stay_on_one_side():
    frame = wines(600, 0)
    frame[FEATURES[:3]] = frame[FEATURES[:3]] // 1  # coarse values: many exact repeats
    groups = group_ids(frame)
    assert len(np.unique(groups)) < len(frame)
    keys = wine_keys(frame)
    rest, test = grouped_split(keys, 0.2, seed=3)
    assert set(groups[rest]).isdisjoint(groups[test])
    assert sorted(np.concatenate([rest, test])) == list(range(len(frame)))
    fit, val = validation_split(keys, rest, seed=0)
    assert set(groups[fit]).isdisjoint(groups[val])
    assert sorted(np.concatenate([fit, val])) == sorted(rest)


def test_adding_wines_moves_no_wine_across_the_split():
    first = wines(3000, 1)
    added = pd.concat([first, wines(400, 2)], ignore_index=True)
    again = pd.concat([added, wines(700, 3)], ignore_index=True).sample(frac=1, random_state=4)
    sides = []
    for frame in (first, added, again):
        keys = wine_keys(frame)
        _, test = grouped_split(keys, 0.2, seed=20091)
        sides.append(set(map(tuple, frame.iloc[test][[*FEATURES, "color"]].to_numpy())))
    earlier = set(map(tuple, first[[*FEATURES, "color"]].to_numpy()))
    assert sides[0] <= sides[1] and sides[0] <= sides[2]
    assert sides[1] <= sides[2]
    assert (sides[2] & earlier) == sides[0]  # no earlier training wine became a test wine


def test_the_share_held_out_is_close_to_the_fraction_and_seeds_differ():
    keys = wine_keys(wines(20_000, 5))
    shares = [len(grouped_split(keys, 0.2, seed)[1]) / len(keys) for seed in range(5)]
    assert all(abs(share - 0.2) < 0.01 for share in shares)
    assert not np.array_equal(grouped_split(keys, 0.2, 0)[1], grouped_split(keys, 0.2, 1)[1])
    rest, test = grouped_split(keys, 0.2, 0)
    fit, val = validation_split(keys, rest, 0)
    assert not set(val) & set(test) and abs(len(val) / len(rest) - 0.2) < 0.02


def test_held_out_marks_exactly_the_wines_grouped_split_holds_out():
    from winequality.domain.splits import grouped_split, held_out

    keys = np.arange(1, 2001, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    rest, test = grouped_split(keys, 0.2, 42)
    mask = held_out(keys, 0.2, 42)
    assert np.array_equal(np.flatnonzero(mask), test)
    assert np.array_equal(np.flatnonzero(~mask), rest)
