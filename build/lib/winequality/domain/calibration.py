"""How sure a prediction is: conformal quality intervals and the chance of a premium score.

numpy only; the model computes each wine's spread signs, this module turns them into
intervals and probabilities and scores how honest those are.

A wine's *scale* is the error the model expects on it: a non-negative linear function of
three signs of doubt (`SIGNS`): the ensemble's networks disagreeing, the wine's nearest
remembered wines disagreeing in quality, and how far away those neighbours are. It is
fitted on the validation wines, never on wines the intervals are later scored on.

The validation wines' residuals divided by their scale are kept, sorted. Then
- the interval at level α is prediction ± q·scale, q being the conformal quantile of the
  absolute normalised residuals (split conformal prediction with a normalised score).
  Its textbook guarantee (at least α of true scores inside, for wines exchangeable with
  the validation wines) holds only approximately here: the same validation wines also
  chose the best epoch, the neighbour blend and the scale's weights, and at prediction
  time the neighbour memory holds them too. How close it comes is measured, not assumed
  (each run's test metrics, `python -m bench intervals`);
- P(quality ≥ t) is the share of normalised residuals r for which prediction + r·scale
  reaches t - ½ (scores are whole numbers): a conformal predictive distribution.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

SIGNS = ("ensemble_spread", "neighbour_spread", "neighbour_distance")
LEVELS = (0.8, 0.9)  # the levels whose coverage a run reports
RARE_LOW, RARE_HIGH = 4, 8  # scores at or below / at or above these are rare
FLOOR_SHARE = 0.05  # no wine's scale below this share of the mean absolute error
MIN_CALIBRATION_WINES = 9  # the fewest validation wines that support a 90% interval


def _rank(level: float, wines: int) -> int:
    # the 1e-9 keeps (n + 1)·level, exact in decimals, from rounding up a whole rank
    return math.ceil((wines + 1) * level - 1e-9)


def supported(level: float, wines: int) -> bool:
    """Whether `wines` calibration wines can give an interval at `level`."""
    return 0 < level < 1 and _rank(level, wines) <= wines


def highest_level(wines: int) -> float:
    """The highest level `wines` calibration wines support, to 3 decimals, for messages."""
    return math.floor(wines / (wines + 1) * 1000) / 1000


@dataclass(frozen=True)
class Calibration:
    """A fitted scale and the sorted normalised residuals of the validation wines."""

    weights: np.ndarray
    """Intercept, then one weight per sign in `SIGNS`; all 0 or more."""
    residuals: np.ndarray
    """(true - predicted) / scale of each validation wine, sorted."""
    floor: float

    @property
    def wines(self) -> int:
        return len(self.residuals)

    def scale(self, signs: np.ndarray) -> np.ndarray:
        """Expected error of each wine from its signs, shape (n, len(SIGNS))."""
        return np.maximum(self.weights[0] + signs @ self.weights[1:], self.floor)

    @property
    def mean_square(self) -> float:
        """The validation wines' mean squared normalised residual: a wine's expected squared
        error is this times its scale squared, so a batch's expected RMSE is
        sqrt(mean_square · mean(scale²))."""
        return float(np.mean(self.residuals**2))

    def supports(self, level: float) -> bool:
        return supported(level, self.wines)

    def half_width(self, level: float) -> float:
        """The conformal quantile: the ceil((n + 1)·level)-th smallest |residual|."""
        if not 0 < level < 1:
            raise ValueError(f"an interval's level is between 0 and 1, not {level:g}")
        rank = _rank(level, self.wines)
        if rank > self.wines:
            raise ValueError(
                f"an interval at {level:g} needs more than {self.wines} calibration wines; "
                f"use a level of at most {highest_level(self.wines):g}"
            )
        return float(np.partition(np.abs(self.residuals), rank - 1)[rank - 1])

    def interval(
        self, predicted: np.ndarray, scale: np.ndarray, level: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) at `level`, within the 0-10 scale."""
        half = self.half_width(level) * scale
        return np.clip(predicted - half, 0.0, 10.0), np.clip(predicted + half, 0.0, 10.0)

    def p_at_least(self, predicted: np.ndarray, scale: np.ndarray, quality: int) -> np.ndarray:
        """P(true score ≥ quality) for each wine.

        Smoothed as conformal predictive systems are: (count + ½) / (n + 1), never 0 or 1.
        """
        needed = (quality - 0.5 - predicted) / scale
        reaching = self.wines - np.searchsorted(self.residuals, needed, side="left")
        # a wine the model could not score (NaN) gets no probability, not a confident one
        return np.where(np.isfinite(needed), (reaching + 0.5) / (self.wines + 1), np.nan)


def _non_negative_fit(design: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least squares with every coefficient ≥ 0, for a design of a few columns.

    The constrained optimum is the plain least-squares fit on some subset of columns that
    comes out non-negative, so trying every subset finds it exactly.
    """
    best, best_sse = np.zeros(design.shape[1]), math.inf
    columns = range(design.shape[1])
    for size in range(1, design.shape[1] + 1):
        for subset in itertools.combinations(columns, size):
            part = design[:, subset]
            coef, *_ = np.linalg.lstsq(part, target, rcond=None)
            if np.any(coef < 0):
                continue
            sse = float(np.sum((part @ coef - target) ** 2))
            if sse < best_sse:
                best_sse, best = sse, np.zeros(design.shape[1])
                best[list(subset)] = coef
    return best


def fit(predicted: np.ndarray, true: np.ndarray, signs: np.ndarray) -> Calibration:
    """Calibrate on validation wines: their predictions, true scores and signs (n, 3)."""
    predicted = np.asarray(predicted, dtype=np.float64)
    error = np.asarray(true, dtype=np.float64) - predicted
    signs = np.asarray(signs, dtype=np.float64)
    if len(error) < 2:
        raise ValueError("calibration needs at least 2 validation wines")
    design = np.column_stack([np.ones(len(error)), signs])
    weights = _non_negative_fit(design, np.abs(error))  # intercept alone is always feasible
    floor = max(FLOOR_SHARE * float(np.mean(np.abs(error))), 1e-6)
    calibration = Calibration(weights, np.zeros(0), floor)
    residuals = np.sort(error / calibration.scale(signs))
    return Calibration(weights, residuals, floor)


# ---------------------------------------------------------------- how honest it is


def coverage(true: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """Share of true scores inside [low, high]; NaN for no wines."""
    if len(true) == 0:
        return math.nan
    return float(np.mean((true >= low) & (true <= high)))


def brier(p: np.ndarray, outcome: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype=np.float64) - outcome) ** 2))


def reliability(p: np.ndarray, outcome: np.ndarray, bins: int = 10) -> list[dict]:
    """Predicted against observed frequency in `bins` equal bins of p; empty bins left out."""
    which = np.minimum((np.asarray(p) * bins).astype(int), bins - 1)
    table = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            table.append(
                {
                    "bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}",
                    "wines": int(inside.sum()),
                    "predicted": float(np.mean(p[inside])),
                    "observed": float(np.mean(outcome[inside])),
                }
            )
    return table


GROUPS = {
    "": "all",
    "_red": "red",
    "_white": "white",
    f"_le{RARE_LOW}": f"quality ≤ {RARE_LOW}",
    f"_ge{RARE_HIGH}": f"quality ≥ {RARE_HIGH}",
}
"""Metric suffix → label of the groups of test wines whose coverage is reported."""


def scopes(true: np.ndarray, colours: np.ndarray) -> dict[str, np.ndarray]:
    """Each of `GROUPS` as a mask over the wines."""
    masks = {
        "": np.ones(len(true), dtype=bool),
        "_red": colours == "red",
        "_white": colours == "white",
        f"_le{RARE_LOW}": true <= RARE_LOW,
        f"_ge{RARE_HIGH}": true >= RARE_HIGH,
    }
    return {suffix: masks[suffix] for suffix in GROUPS}


def evaluate(
    calibration: Calibration,
    true: np.ndarray,
    predicted: np.ndarray,
    scale: np.ndarray,
    colours: np.ndarray,
    premium: int,
    premium_share: float,
) -> dict[str, float]:
    """Coverage and mean width at each of `LEVELS` (overall, per colour, rare scores) and
    the Brier score of P(quality ≥ premium) against always saying `premium_share`.

    A group without wines, or a level the calibration cannot support, has no metric
    rather than a NaN one."""
    true = np.asarray(true, dtype=np.float64)
    metrics: dict[str, float] = {}
    groups = {suffix: mask for suffix, mask in scopes(true, colours).items() if mask.any()}
    for level in LEVELS:
        if not calibration.supports(level):
            continue
        tag = f"{round(level * 100)}"
        low, high = calibration.interval(predicted, scale, level)
        for suffix, mask in groups.items():
            metrics[f"coverage_{tag}{suffix}"] = coverage(true[mask], low[mask], high[mask])
        metrics[f"width_{tag}"] = float(np.mean(high - low))
    outcome = (true >= premium).astype(np.float64)
    metrics["brier_premium"] = brier(calibration.p_at_least(predicted, scale, premium), outcome)
    metrics["brier_premium_baseline"] = brier(np.full(len(true), premium_share), outcome)
    return metrics


def coverage_rows(
    metrics: dict[str, float],
) -> list[tuple[str, str, dict[int, Optional[float]]]]:
    """(label, metric suffix, {level %: coverage}) per group of test wines that had any."""
    rows = []
    for suffix, label in GROUPS.items():
        found = {
            round(level * 100): metrics.get(f"test_coverage_{round(level * 100)}{suffix}")
            for level in LEVELS
        }
        if all(v is not None and math.isfinite(v) for v in found.values()):
            rows.append((label, suffix, found))
    return rows
