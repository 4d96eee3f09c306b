"""The predictions as numbers, for the formats that hold numbers rather than text."""

from __future__ import annotations

from winequality.schema import UNUSUAL

NOT_GIVEN = 1001
"""The step `steps` gives a value the model could not give (NaN)."""


def steps(values, scale: int):
    """Each value of 0..1000/scale as a whole number of 1/scale steps (0..1000), rounded as
    numpy rounds; NOT_GIVEN for NaN. A CSV looks its text up by this, the other formats
    divide it back: both say the same number."""
    import numpy as np

    inside = np.isfinite(values) & (values >= 0) & (values <= 1000 / scale)
    return np.where(inside, np.rint(values * scale), NOT_GIVEN).astype(np.int64)


def prediction_numbers(found, columns: tuple[str, ...]) -> dict:
    """The predictions as the numbers a CSV output holds (its text, parsed): the quality to
    4 decimals, the interval to 2 and p_premium to 3, so every format says the same; the
    unusual flag as booleans."""
    import numpy as np

    def fixed(values, scale: int):
        found = steps(values, scale)
        return np.where(found == NOT_GIVEN, np.nan, found / scale)

    # predictions are float32 values: quality × 10⁴ is exact in float64, so np.round
    # rounds as the CSV's format() does, and dividing back is correctly rounded
    numbers = {columns[0]: np.round(found.quality.astype(np.float64), 4)}
    if found.low is not None:
        numbers[columns[1]] = fixed(found.low, 100)
        numbers[columns[2]] = fixed(found.high, 100)
        numbers[columns[3]] = fixed(found.p_premium, 1000)
    if found.unusual is not None and UNUSUAL in columns:
        numbers[UNUSUAL] = np.asarray(found.unusual, dtype=bool)
    return numbers
