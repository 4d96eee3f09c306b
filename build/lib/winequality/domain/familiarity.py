"""Whether wines are like the ones a model learned from: each wine's `unusual` flag, and
how far a whole batch has drifted from the training wines.

numpy only. A model keeps a `Summary` of its training wines (fitting and validation) in its
own file, on the 11 features as the network reads them (the log-transformed ones on their
log scale; ranks, and so every measure here, are the same on either scale):
- each feature's percentiles 0, 1, …, 100 and the share of training wines at or below
  each (ties make it differ from i/100);
- the mean distance to the nearest remembered wines beyond which only `SHARE` of the
  validation wines lie, measured when the memory held the fitting wines alone, so each
  validation wine was a new wine to it.

A wine is *unusual* when a feature lies outside the training wines' range, or its nearest
training wines are farther away than that distance. On wines like the training wines it
fires on about 1 - SHARE of them, plus the few outside a range; how often on the model's
own test wines is measured (`python -m bench trust`).

A batch's drift, per colour and feature, against the training wines of that colour (a
batch of red wines is not drift from a training set of mostly white ones): the population
stability index over the training deciles (< 0.1 stable, 0.1-0.25 moderate, ≥ 0.25 major:
the usual reading, from 100 wines of a colour on; smaller batches are judged by KS) and the
Kolmogorov-Smirnov statistic at the 101 percentiles, with its 5% critical value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from winequality.schema import COLORS, FEATURES

SHARE = 0.99  # of validation wines nearer their neighbours than the threshold
PERCENTILES = 101
DECILES = np.arange(10, 100, 10)  # the percentiles that bound the PSI's ten bins
PSI_MODERATE, PSI_MAJOR = 0.1, 0.25
PSI_WINES = 100  # below this many wines of a colour, the shift is read from KS, not PSI
KS_ALPHA = 0.05
_KS_C = math.sqrt(-0.5 * math.log(KS_ALPHA / 2))  # 1.358 at 5%
_FLOOR = 1e-4  # a bin's share, at least, in the PSI's logarithm


@dataclass(frozen=True)
class Summary:
    """What a model keeps of its training wines (model-input scale)."""

    percentiles: np.ndarray
    """(11, 101) float32: each feature's percentiles 0..100; column 0 is the minimum."""
    cdf: np.ndarray
    """(11, 101): the share of training wines at or below each percentile."""
    distance: float
    """Mean distance to the nearest training wines beyond which a wine is unusual; inf
    for a model that remembers no wines."""
    wines: int
    colours: tuple = ()
    """Per colour (red, white: `COLORS` order): (percentiles, cdf, wines) of its training
    wines, what drift is measured against; empty for inputs without a colour column."""

    @property
    def low(self) -> np.ndarray:
        return self.percentiles[:, 0]

    @property
    def high(self) -> np.ndarray:
        return self.percentiles[:, -1]


def summarise(inputs: np.ndarray, distances: np.ndarray) -> Summary:
    """The summary of training wines' inputs (n, 12: the features and is_red; float32, as
    the model reads them) and the validation wines' mean neighbour distances (empty: no
    distance rule)."""
    x = np.asarray(inputs, dtype=np.float32)
    percentiles, cdf = _distribution(x[:, : len(FEATURES)])
    colours = []
    if x.shape[1] > len(FEATURES):
        red = x[:, len(FEATURES)] > 0.5
        for mask in (red, ~red):  # COLORS order: red, white
            found = _distribution(x[mask, : len(FEATURES)]) if mask.any() else (percentiles, cdf)
            colours.append((*found, int(mask.sum())))
    distance = float(np.quantile(distances, SHARE, method="higher")) if len(distances) else math.inf
    return Summary(percentiles, cdf, distance, len(x), tuple(colours))


def _distribution(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's percentiles 0..100 (11, 101) and the share of rows at or below each."""
    percentiles = np.percentile(x, np.arange(PERCENTILES), axis=0, method="lower").T
    ordered = np.sort(x, axis=0)
    cdf = np.stack(
        [
            np.searchsorted(ordered[:, f], percentiles[f], side="right") / len(x)
            for f in range(x.shape[1])
        ]
    )
    return percentiles.astype(np.float32), cdf


def unusual(summary: Summary, inputs: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Per wine: outside a training range, or farther than the threshold from its nearest
    training wines. `inputs` as the model reads them, `distance` each wine's mean
    neighbour distance (the model's third sign of doubt)."""
    x = np.asarray(inputs[:, : len(FEATURES)], dtype=np.float32)
    outside = ((x < summary.low) | (x > summary.high)).any(axis=1)
    return outside | (np.asarray(distance) > summary.distance)


class Drift:
    """A batch's distribution per colour and feature, added chunk by chunk in flat memory."""

    def __init__(self, summary: Summary):
        self.summary = summary
        shape = (len(COLORS), *summary.percentiles.shape)
        self.at_or_below = np.zeros(shape, dtype=np.int64)
        self.outside = np.zeros((len(COLORS), len(FEATURES)), dtype=np.int64)
        self.wines = np.zeros(len(COLORS), dtype=np.int64)

    def _reference(self, colour: int) -> tuple[np.ndarray, np.ndarray, int]:
        """(percentiles, cdf, wines) the colour's wines are measured against: its own
        training wines, or all of them for a model whose summary has no colours."""
        if self.summary.colours and self.summary.colours[colour][2]:
            return self.summary.colours[colour]
        return self.summary.percentiles, self.summary.cdf, self.summary.wines

    def add(self, inputs: np.ndarray) -> None:
        x = np.asarray(inputs[:, : len(FEATURES)], dtype=np.float32)
        red = np.asarray(inputs[:, len(FEATURES)]) > 0.5
        for colour, mask in enumerate((red, ~red)):  # COLORS order
            part = x[mask]
            if not len(part):
                continue
            percentiles = self._reference(colour)[0]
            for f in range(part.shape[1]):
                self.at_or_below[colour, f] += np.searchsorted(
                    np.sort(part[:, f]), percentiles[f], side="right"
                )
            outside = (part < self.summary.low) | (part > self.summary.high)
            self.outside[colour] += outside.sum(axis=0)
            self.wines[colour] += len(part)

    def features(self) -> list[dict]:
        """Per colour in the batch and feature: psi, its verdict, ks, the KS critical
        value, the training wines of that colour, wines outside the training range."""
        found = []
        for colour, name in enumerate(COLORS):
            n = int(self.wines[colour])
            if not n:
                continue
            _, reference, m = self._reference(colour)
            critical = _KS_C * math.sqrt((n + m) / (n * m))
            for f, feature in enumerate(FEATURES):
                batch, train = self.at_or_below[colour, f] / n, reference[f]
                # an empty bin of a small batch counts as half a wine, not as none
                shares = (_bins(batch) * n + 0.5) / (n + 0.5 * (len(DECILES) + 1))
                psi = _psi(shares, _bins(train))
                ks = float(np.max(np.abs(batch - train)))
                found.append(
                    {
                        "color": name,
                        "feature": feature,
                        "psi": psi,
                        "shift": verdict(psi) if n >= PSI_WINES else _ks_verdict(ks, critical),
                        "shift_by": "psi" if n >= PSI_WINES else "ks",
                        "ks": ks,
                        "ks_critical": critical,
                        "wines": n,
                        "training_wines": m,
                        "outside_training_range": int(self.outside[colour, f]),
                    }
                )
        return found


def _bins(cdf: np.ndarray) -> np.ndarray:
    """The shares of the ten bins the training deciles bound, from a CDF at the percentiles."""
    at = np.concatenate([[0.0], cdf[DECILES], [1.0]])
    return np.diff(at)


def _psi(batch: np.ndarray, train: np.ndarray) -> float:
    both = (batch > 0) | (train > 0)
    b, t = np.maximum(batch[both], _FLOOR), np.maximum(train[both], _FLOOR)
    return float(np.sum((b - t) * np.log(b / t)))


def _ks_verdict(ks: float, critical: float) -> str:
    """A small batch's verdict: PSI is noise below PSI_WINES, the KS test allows for n."""
    return "major" if ks > critical else "stable"


def verdict(psi: float) -> str:
    if psi >= PSI_MAJOR:
        return "major"
    return "moderate" if psi >= PSI_MODERATE else "stable"


def markdown(report: dict) -> str:
    """A drift report (the JSON's fields) as a short Markdown page."""

    def number(value, spec: str) -> str:
        return "–" if value is None else format(value, spec)

    wines = report["wines"]
    lines = [
        f"# Drift of {report['input']} against {report['model']}",
        "",
        f"{wines:,} wines; the model trained on {report['training_wines']:,}.",
        "",
        f"- expected RMSE on these wines: {number(report['expected_rmse'], '.3f')} "
        f"(test wines: {number(report['test_rmse'], '.3f')})",
        f"- unusual wines: {report['unusual']:,} of {wines:,} "
        f"({number(report['unusual_share'], '.1%')})",
        "",
        "Each colour against the training wines of that colour.",
        "",
        "| colour | feature | PSI | shift | KS | KS 5% critical | outside training range |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for f in report["features"]:
        lines.append(
            f"| {f['color']} | {f['feature']} | {f['psi']:.3f} | {f['shift']} | {f['ks']:.3f} "
            f"| {f['ks_critical']:.3f} | {f['outside_training_range']:,} |"
        )
    lines += [
        "",
        f"PSI: < {PSI_MODERATE} stable, {PSI_MODERATE}-{PSI_MAJOR} moderate, "
        f"≥ {PSI_MAJOR} major (from {PSI_WINES} wines of a colour on; fewer are judged by KS). "
        "KS above its critical value: the batch differs at the 5% level.",
        "",
    ]
    return "\n".join(lines)
