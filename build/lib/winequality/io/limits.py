"""What a wine can measure: each feature's possible range, and the unit mistakes that put a
value outside it.

A value outside its range is no wine, whatever the model would make of it: the file is
refused, naming the unit the value looks like it was written in and the fix.

Sources, once for all: the UCI data's own extremes (6,497 wines: fixed acidity 3.8-15.9,
volatile acidity 0.08-1.58, citric acid 0-1.66, residual sugar 0.6-65.8, chlorides
0.009-0.611, free sulfur dioxide 1-289, total sulfur dioxide 6-440, density 0.98711-1.03898,
pH 2.72-4.01, sulphates 0.22-2.0, alcohol 8.0-14.9), widened to what oenology knows of any
wine: titratable acidity of a few to ~15 g/L tartaric, volatile acidity legally capped near
1.2 g/L acetic (EU Regulation 2019/934) and vinegar beyond ~3, at most ~1 g/L citric acid
added, residual sugar up to ~450 g/L in the sweetest wines (Tokaji Eszencia), total sulfur
dioxide legally at most 150-400 mg/L (EU 2019/934, Annex I B), density between a dry wine of
high alcohol (~0.985 g/cm³) and a syrupy sweet one (~1.15), pH ~2.8-4.0, alcohol from
partly dealcoholised wines (~4 % vol) to fortified ones (~22 % vol).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Mistake:
    """A unit a value may have been written in: times `factor` it is in the right unit."""

    unit: str
    factor: float
    fix: str


@dataclass(frozen=True)
class Limit:
    """A feature's possible range in its unit, and the range of real wines (UCI's extremes)
    a corrected value must land in for a unit mistake to explain it."""

    unit: str
    low: float
    high: float
    usual: tuple[float, float]
    typical: str
    mistakes: tuple[Mistake, ...] = ()
    zero: bool = False
    """Whether exactly 0 is a possible reading below `low` (none added, none detected)."""

    def possible(self, value: float) -> bool:
        return self.low <= value <= self.high or (self.zero and value == 0)

    def mistake(self, value: float) -> Optional[Mistake]:
        """The unit mistake that would put `value` among real wines, if one does; else one
        that would make it a possible wine."""
        for low, high in (self.usual, (self.low, self.high)):
            for mistake in self.mistakes:
                if low <= value * mistake.factor <= high:
                    return mistake
        return None


_MG = Mistake("mg/L", 1e-3, "divide by 1000")

LIMITS: dict[str, Limit] = {
    "fixed acidity": Limit(
        "g/L", 2, 25, (3, 16.5), "about 7",
        (_MG, Mistake("meq/L", 0.075, "multiply by 0.075 for g/L of tartaric acid")),
    ),
    "volatile acidity": Limit("g/L", 0, 4, (0.05, 1.6), "about 0.3", (_MG,)),
    "citric acid": Limit("g/L", 0, 3, (0, 1.7), "about 0.3", (_MG,)),
    "residual sugar": Limit("g/L", 0, 500, (0.5, 66), "about 3", (_MG,)),
    "chlorides": Limit("g/L", 0, 2, (0.008, 0.62), "about 0.05", (_MG,)),
    # free SO2 below 1 mg/L is a real reading of a wine made without sulfites; a column of
    # it in g/L is caught with the total, which no wine has below 1 mg/L but by 0
    "free sulfur dioxide": Limit(
        "mg/L", 0, 400, (1, 290), "about 30", (Mistake("g/L", 1e3, "multiply by 1000"),)
    ),
    "total sulfur dioxide": Limit(
        "mg/L", 1, 500, (5, 450), "about 120", (Mistake("g/L", 1e3, "multiply by 1000"),), True
    ),
    "density": Limit(
        "g/cm³", 0.95, 1.2, (0.985, 1.04), "about 0.99",
        (Mistake("g/L", 1e-3, "divide by 1000"),),
    ),
    "pH": Limit("", 2.5, 4.5, (2.7, 4.05), "about 3.2"),
    "sulphates": Limit("g/L", 0, 4, (0.2, 2.0), "about 0.5", (_MG,)),
    "alcohol": Limit(
        "% vol", 3, 25, (8, 15), "about 10.5",
        (
            Mistake("a fraction of 1", 100, "multiply by 100"),
            Mistake("g/L", 1 / 7.89, "divide by 7.89 for % vol"),
        ),
    ),
}  # fmt: skip
"""Feature → its possible range and unit; the README's table is made from this."""


def what(feature: str) -> str:
    """`a wine's density in g/cm³`, `a wine's pH`: what a value must be."""
    unit = LIMITS[feature].unit
    return f"a wine's {feature}" + (f" in {unit}" if unit else "")


def explain(feature: str, value: float) -> str:
    """Why `value` is no wine's `feature`, and the fix where a unit mistake explains it."""
    limit = LIMITS[feature]
    said = f"{feature} {value:g} is not {what(feature)} ({limit.typical})"
    mistake = limit.mistake(value)
    if mistake is not None:
        return f"{said}; it looks like {mistake.unit} — {mistake.fix}"
    return f"{said}; wines lie between {limit.low:g} and {limit.high:g}: check the file's units and columns"
