"""Several models scored on the same wines, and whether one is really better than another.

Free of MLflow and DVC: arrays of qualities and predictions in, plain numbers out. The
difference between two models is the difference of their RMSEs on the same wines, with a
95% interval from a paired bootstrap: the same resampled wines score both models, so what
the wines have in common (some are simply hard) cancels out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import numpy as np

LEVEL = 0.8
"""The interval level whose coverage a comparison reports."""
RESAMPLES = 2000
CONFIDENCE = 0.95
SEED = 20240601
"""The bootstrap's seed: the same wines and models give the same interval every time."""


@dataclass(frozen=True)
class Scores:
    """How one model did on a set of wines."""

    wines: int
    rmse: float
    mae: float
    within_0_5: float
    coverage: Optional[float] = None
    """The share of wines whose quality lies in the model's 80% interval (None without one)."""

    def as_dict(self) -> dict:
        return asdict(self)


def scores(
    quality: np.ndarray,
    predicted: np.ndarray,
    low: Optional[np.ndarray] = None,
    high: Optional[np.ndarray] = None,
) -> Scores:
    error = np.asarray(predicted, dtype=np.float64) - np.asarray(quality, dtype=np.float64)
    coverage = None
    if low is not None and high is not None:
        coverage = float(np.mean((quality >= low) & (quality <= high)))
    return Scores(
        wines=int(len(error)),
        rmse=float(np.sqrt(np.mean(error**2))),
        mae=float(np.mean(np.abs(error))),
        within_0_5=float(np.mean(np.abs(error) <= 0.5)),
        coverage=coverage,
    )


def scores_by_colour(
    colours: np.ndarray,
    quality: np.ndarray,
    predicted: np.ndarray,
    low: Optional[np.ndarray] = None,
    high: Optional[np.ndarray] = None,
) -> dict[str, Scores]:
    """Scores on all the wines (`"all"`) and on each colour present."""
    found = {"all": scores(quality, predicted, low, high)}
    for colour in sorted(set(colours.tolist())):
        rows = colours == colour
        found[str(colour)] = scores(
            quality[rows],
            predicted[rows],
            None if low is None else low[rows],
            None if high is None else high[rows],
        )
    return found


@dataclass(frozen=True)
class Difference:
    """RMSE of a model minus that of the first, with its bootstrap interval."""

    rmse: float
    low: float
    high: float
    resamples: int = RESAMPLES
    confidence: float = CONFIDENCE

    @property
    def clear(self) -> bool:
        """Whether the interval leaves out 0 (a difference the wines cannot explain)."""
        return self.high < 0 or self.low > 0

    def verdict(self, model: str, first: str) -> str:
        """ "B is better by 0.012 (0.004 to 0.020)", "… worse by …" or "no clear difference"."""
        if self.high < 0:
            return f"{model} is better by {-self.rmse:.3f} ({-self.high:.3f} to {-self.low:.3f})"
        if self.low > 0:
            return f"{model} is worse by {self.rmse:.3f} ({self.low:.3f} to {self.high:.3f})"
        return (
            f"no clear difference between {model} and {first} "
            f"(RMSE {self.rmse:+.3f}, {self.low:+.3f} to {self.high:+.3f})"
        )

    def as_dict(self) -> dict:
        return asdict(self)


def paired_difference(
    quality: np.ndarray,
    first: np.ndarray,
    other: np.ndarray,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Difference:
    """RMSE(other) − RMSE(first) on the same wines, and its `CONFIDENCE` interval from
    `resamples` paired bootstrap draws of the wines (both models scored on each draw)."""
    quality = np.asarray(quality, dtype=np.float64)
    sq_first = (np.asarray(first, dtype=np.float64) - quality) ** 2
    sq_other = (np.asarray(other, dtype=np.float64) - quality) ** 2
    n = len(quality)
    if n == 0:
        raise ValueError("no wines to compare on")
    rng = np.random.default_rng(seed)
    draws = np.empty(resamples)
    batch = max(1, 4_000_000 // n)  # at most about 32 MB of indices at once
    for start in range(0, resamples, batch):
        stop = min(resamples, start + batch)
        rows = rng.integers(0, n, size=(stop - start, n))
        draws[start:stop] = np.sqrt(sq_other[rows].mean(axis=1)) - np.sqrt(
            sq_first[rows].mean(axis=1)
        )
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    observed = float(np.sqrt(sq_other.mean()) - np.sqrt(sq_first.mean()))
    return Difference(observed, float(low), float(high), resamples)


def plot_paired_errors(
    quality: np.ndarray, predictions: dict[str, np.ndarray], path: Path
) -> Optional[Path]:
    """Each model's absolute error against the first model's, wine by wine (a point below
    the diagonal is a wine the model got closer than the first did). None for one model."""
    labels = list(predictions)
    if len(labels) < 2:
        return None
    from matplotlib.figure import Figure

    first = np.abs(predictions[labels[0]] - quality)
    figure = Figure(figsize=(6.4, 5.2), dpi=110)
    axes = figure.subplots()
    top = float(first.max())
    for label in labels[1:]:
        other = np.abs(predictions[label] - quality)
        top = max(top, float(other.max()))
        axes.scatter(first, other, s=7, alpha=0.45, label=label)
    axes.plot([0, top], [0, top], color="#555", linewidth=0.8, linestyle="--")
    axes.set_xlabel(f"|error| of {labels[0]}")
    axes.set_ylabel("|error| of the other model")
    axes.set_title(f"Paired errors on the same {len(quality)} wines")
    axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    return path
