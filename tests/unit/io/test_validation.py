"""Checking wines as they are read (io/validation.py): each bad value is one line naming
its file, row and column, and what to do about it."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.support.project import FIRST_RED
from winequality.errors import DataError
from winequality.io.validation import check_values, decimal_mark
from winequality.schema import FEATURES


def frame(**columns) -> pd.DataFrame:
    """Three red wines, each UCI's first red but for the features given."""
    wines = pd.DataFrame(
        {name: [value] * 3 for name, value in zip(FEATURES, FIRST_RED, strict=True)}
    )
    for name, values in columns.items():
        wines[name.replace("_", " ")] = values
    return wines


def refused(wines: pd.DataFrame, **options) -> str:
    with pytest.raises(DataError) as bad:
        check_values("lab.csv", wines, 1, "red", **options)
    assert len(str(bad.value).splitlines()) == 1
    return str(bad.value)


def test_good_wines_come_back_as_numbers_with_their_colour():
    checked = check_values("lab.csv", frame(alcohol=["9.5", "10", "11.25"]), 1, None)
    assert checked["alcohol"].tolist() == [9.5, 10.0, 11.25]
    checked = check_values("lab.csv", frame(), 1, "white")
    assert checked["color"].tolist() == ["white"] * 3
    checked = check_values("lab.csv", frame(color=[" Red", "WHITE", "red"]), 1, None)
    assert checked["color"].tolist() == ["red", "white", "red"]


def test_a_bad_value_names_its_row_counted_from_the_first_row_and_its_line():
    wines = frame(alcohol=["9.5", "x", "10"])
    with pytest.raises(DataError) as bad:
        check_values("lab.csv", wines, 40, "red")
    assert str(bad.value) == "lab.csv: column 'alcohol', row 41 (line 42) has 'x', not a number"


def test_a_decimal_comma_is_named_as_the_likely_cause():
    message = refused(frame(pH=["3,51", "3.2", "3.3"]), decimal_hint=True)
    assert message == (
        "lab.csv: column 'pH', row 1 (line 2) has '3,51', not a number; if the file uses "
        "decimal commas, pass --decimal ,"
    )


def test_a_value_beyond_any_wine_is_refused():
    assert refused(frame(density=[0.99, 2e6, 0.99])) == (
        "lab.csv: row 2 (line 3): density 2e+06 is not a wine's density in g/cm³ (about "
        "0.99); wines lie between 0.95 and 1.2: check the file's units and columns"
    )


@pytest.mark.parametrize(
    "values, shown",
    [([True, 0.56, 0.56], "'True', not a number"), ([0.56, None, 0.56], "is empty")],
)
def test_a_flag_or_a_gap_in_a_feature_is_refused(values, shown):
    assert refused(frame(sulphates=values)).endswith(shown)


def test_an_unknown_colour_says_which_there_are():
    assert refused(frame(color=["red", "rose", "red"])) == (
        "lab.csv: column 'color', row 2 (line 3) has 'rose'; use red or white"
    )


def test_both_decimal_marks_in_one_file_ask_for_decimal():
    whole = pd.DataFrame({name: ["7", "8", "9"] for name in FEATURES})  # no telling yet
    assert decimal_mark("lab.csv", whole) is None
    assert decimal_mark("lab.csv", whole.assign(alcohol=["9,5", "10", "11"])) == ","
    assert decimal_mark("lab.csv", whole.assign(alcohol=["9.5", "10", "11"])) == "."
    with pytest.raises(DataError) as both:
        decimal_mark("lab.csv", whole.assign(alcohol=["9,5", "10", "11"], pH=["3.5", "3", "3"]))
    assert str(both.value) == (
        "lab.csv: numbers are written both with a decimal point ('3.5' in 'pH') and a decimal "
        "comma ('9,5' in 'alcohol'); state the decimal mark with --decimal , or --decimal ."
    )
