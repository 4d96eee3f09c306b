"""One rounding for every output (io/formats/rounding.py): numbers are the CSV text parsed."""

from __future__ import annotations

import numpy as np

from winequality.domain.model import Predictions
from winequality.io.formats.delimited import with_columns
from winequality.io.formats.rounding import prediction_numbers


def test_predictions_as_numbers_are_the_csv_text_parsed():
    rng = np.random.default_rng(3)
    quality = rng.uniform(0, 10, 20_000).astype(np.float32).astype(np.float64)
    low, high = quality - rng.uniform(0, 2, 20_000), quality + rng.uniform(0, 2, 20_000)
    found = Predictions(
        quality, np.clip(low, 0, 10), np.clip(high, 0, 10), rng.uniform(0, 1, 20_000)
    )
    columns = ("predicted_quality", "quality_low", "quality_high", "p_premium")
    text = with_columns([b""] * 20_000, found, ";").decode().splitlines()
    parsed = np.array([[float(v) for v in line.split(";")[1:]] for line in text])
    numbers = prediction_numbers(found, columns)
    assert np.array_equal(np.column_stack([numbers[c] for c in columns]), parsed)
    one = Predictions(quality[:1], found.low[:1], found.high[:1], found.p_premium[:1])
    comma = with_columns([b"7,4"], one, ";", ",").decode()
    assert comma.count(".") == 0 and comma.startswith("7,4;") and comma.count(",") == 5
