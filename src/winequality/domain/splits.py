"""Splits of the wines into training, validation and test rows, never splitting a group of
identical wines (same 11 features and colour) across them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from winequality.domain.params import VAL_FRACTION
from winequality.schema import COLOR, FEATURES


def group_ids(frame: pd.DataFrame) -> np.ndarray:
    """One id per distinct (11 features, colour): identical wines share an id."""
    return frame.groupby(FEATURES + [COLOR], sort=True).ngroup().to_numpy()


def grouped_split(groups: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (rest, held_out) with about `fraction` of rows held out, never splitting a group."""
    unique = np.unique(groups)
    order = np.random.default_rng(seed).permutation(unique)
    counts = np.bincount(groups, minlength=int(unique.max()) + 1)
    target = fraction * len(groups)
    cumulative = np.cumsum(counts[order])
    n_groups = int(np.searchsorted(cumulative, target)) + 1
    held = np.isin(groups, order[:n_groups])
    return np.flatnonzero(~held), np.flatnonzero(held)


def validation_split(groups: np.ndarray, rows: np.ndarray, seed: int):
    """Split training `rows` into (fit, validation) rows, grouped, seeded by the training seed.

    `wineq train` and the quality benchmark both use this, so they train the same way.
    """
    fit_pos, val_pos = grouped_split(groups[rows], VAL_FRACTION, seed)
    return rows[fit_pos], rows[val_pos]
