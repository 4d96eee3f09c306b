"""Splits (domain/splits.py): a wine and its exact repeats stay on one side."""

from __future__ import annotations

import numpy as np
import pandas as pd

from winequality.domain.splits import group_ids, grouped_split
from winequality.schema import FEATURES


def test_grouped_split_never_puts_a_wine_on_both_sides():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(0.0, index=range(600), columns=FEATURES)
    frame[FEATURES[:3]] = rng.integers(0, 4, size=(600, 3))
    frame["color"] = np.where(rng.random(600) < 0.3, "red", "white")
    groups = group_ids(frame)
    assert len(np.unique(groups)) < len(frame)  # the data does have exact repeats
    rest, test = grouped_split(groups, 0.2, seed=3)
    assert set(groups[rest]).isdisjoint(groups[test])
    assert sorted(np.concatenate([rest, test])) == list(range(len(frame)))
    assert abs(len(test) / len(frame) - 0.2) < 0.05
    again_rest, again_test = grouped_split(groups, 0.2, seed=3)
    assert np.array_equal(test, again_test)
