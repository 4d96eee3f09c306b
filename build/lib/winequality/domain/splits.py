"""Splits of the wines into training, validation and test rows.

A wine's side is a function of the wine alone (its 11 features and colour) and the seed:
its key is a hash of those values, and the seed mixes into it. So identical wines never
straddle the split, and adding wines never moves an existing wine across it: every test
wine of an earlier data version that is still in the data is a test wine of the new one.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from winequality.domain.params import VAL_FRACTION
from winequality.schema import COLOR, FEATURES

SPLIT_RULE = "wine-hash-1"
"""The rule runs record (param `split_rule`); runs without it used a seeded permutation of
groups of identical wines, which depended on the other wines in the data."""
_TEST, _VALIDATION = 0x5E57, 0x7A11  # keep a wine's test and validation draws apart


def group_ids(frame: pd.DataFrame) -> np.ndarray:
    """One id per distinct (11 features, colour): identical wines share an id."""
    return frame.groupby(FEATURES + [COLOR], sort=True).ngroup().to_numpy()


def wine_keys(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit key per wine from its 11 features and colour, the same in every data
    version (the numbers as the shortest text that reads back exactly)."""
    features = frame[FEATURES].to_numpy(dtype=np.float64)
    colours = frame[COLOR].astype(str).to_numpy()
    keys = np.empty(len(frame), dtype=np.uint64)
    for i, (values, colour) in enumerate(zip(features, colours, strict=True)):
        text = ";".join(repr(float(v)) for v in values) + ";" + colour
        digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
        keys[i] = int.from_bytes(digest, "big")
    return keys


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every bit of the result depends on every bit of the input."""
    with np.errstate(over="ignore"):
        z = values + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _draws(keys: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """A number in [0, 1) per wine, from its key, the seed and what the draw is for."""
    mixed = _mix(keys ^ _mix(np.array([seed * 0x10000 + salt], dtype=np.uint64)))
    return (mixed >> np.uint64(11)).astype(np.float64) * 2.0**-53


def held_out(keys: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Per wine, whether it is a test wine: its draw for `seed` is below `fraction`, so
    about that share of wines is, whatever the other wines."""
    return _draws(keys, seed, _TEST) < fraction


def grouped_split(keys: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (rest, held_out) by `held_out`."""
    held = held_out(keys, fraction, seed)
    return np.flatnonzero(~held), np.flatnonzero(held)


def validation_split(keys: np.ndarray, rows: np.ndarray, seed: int):
    """Split training `rows` into (fit, validation) rows by the wines' draws for the
    training seed. `wineq train` and the quality benchmark both use this."""
    held = _draws(keys[rows], seed, _VALIDATION) < VAL_FRACTION
    return rows[~held], rows[held]
