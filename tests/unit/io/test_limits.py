"""Values no wine can have (io/limits.py): refused in one line that names the file, row,
column and value, and the unit mistake that explains it; a column written wholesale in the
wrong unit is one line for the column."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.support.project import FIRST_RED
from winequality.errors import DataError
from winequality.io.limits import LIMITS
from winequality.io.validation import check_values
from winequality.schema import FEATURES


def wines(**columns) -> pd.DataFrame:
    frame = pd.DataFrame({name: [v] * 4 for name, v in zip(FEATURES, FIRST_RED, strict=True)})
    for name, values in columns.items():
        frame[name.replace("_", " ")] = values
    return frame


def refused(frame: pd.DataFrame) -> str:
    with pytest.raises(DataError) as bad:
        check_values("lab.csv", frame, 1, "red")
    assert len(str(bad.value).splitlines()) == 1
    return str(bad.value)


@pytest.mark.parametrize(
    "change, line",
    [
        (
            {"density": [0.9978, 997.8, 0.9978, 0.9978]},
            "lab.csv: row 2 (line 3): density 997.8 is not a wine's density in g/cm³ (about "
            "0.99); it looks like g/L — divide by 1000",
        ),
        (
            {"total_sulfur_dioxide": [34, 34, 0.034, 34]},
            "lab.csv: row 3 (line 4): total sulfur dioxide 0.034 is not a wine's total sulfur "
            "dioxide in mg/L (about 120); it looks like g/L — multiply by 1000",
        ),
        (
            {"alcohol": [9.4, 0.094, 9.4, 9.4]},
            "lab.csv: row 2 (line 3): alcohol 0.094 is not a wine's alcohol in % vol (about "
            "10.5); it looks like a fraction of 1 — multiply by 100",
        ),
        (
            {"alcohol": [9.4, 9.4, 9.4, 74.2]},
            "lab.csv: row 4 (line 5): alcohol 74.2 is not a wine's alcohol in % vol (about "
            "10.5); it looks like g/L — divide by 7.89 for % vol",
        ),
        (
            {"chlorides": [76.0, 0.076, 45.0, 0.076]},
            "lab.csv: row 1 (line 2): chlorides 76 is not a wine's chlorides in g/L (about "
            "0.05); it looks like mg/L — divide by 1000 (1 more row like it)",
        ),
        (
            {"pH": [3.5, 3.5, 7.0, 3.5]},
            "lab.csv: row 3 (line 4): pH 7 is not a wine's pH (about 3.2); wines lie between "
            "2.5 and 4.5: check the file's units and columns",
        ),
    ],
)
def test_a_unit_mistake_is_refused_with_its_fix(change, line):
    assert refused(wines(**change)) == line


def test_sulfur_dioxides_in_g_per_litre_are_refused_for_the_total_column_whole():
    frame = wines(
        free_sulfur_dioxide=[0.011, 0.012, 0.025, 0.015],
        total_sulfur_dioxide=[0.034, 0.067, 0.1, 0.05],
    )
    assert refused(frame) == (
        "lab.csv: column 'total sulfur dioxide' looks like g/L, not mg/L: all 4 values (rows "
        "1–4) lie between 0.034 and 0.1, where a wine's total sulfur dioxide in mg/L is "
        "about 120 — multiply the column by 1000"
    )


def test_a_column_scaled_wholesale_is_one_line_for_the_column():
    line = refused(wines(density=[997.8, 996.1, 1003.0, 994.9]))
    assert line == (
        "lab.csv: column 'density' looks like g/L, not g/cm³: all 4 values (rows 1–4) lie "
        "between 994.9 and 1003, where a wine's density in g/cm³ is about 0.99 — divide the "
        "column by 1000"
    )
    # with one value in the right unit, the column is not wholesale: its first bad row
    mixed = refused(wines(density=[0.9978, 996.1, 1003.0, 994.9]))
    assert mixed.startswith("lab.csv: row 2 (line 3): density 996.1 is not")
    assert mixed.endswith("divide by 1000 (2 more rows like it)")


def test_real_wines_pass_at_the_edges_of_what_wines_measure():
    for feature, limit in LIMITS.items():
        for value in (limit.low, limit.high, *limit.usual):
            checked = check_values("lab.csv", wines(**{feature: [value] * 4}), 1, "red")
            assert checked[feature].tolist() == [value] * 4
    no_sulfites = wines(free_sulfur_dioxide=[0.0] * 4, total_sulfur_dioxide=[0.0] * 4)
    assert check_values("lab.csv", no_sulfites, 1, "red")["free sulfur dioxide"].sum() == 0


def test_every_feature_has_a_limit_whose_usual_range_lies_inside_it():
    assert list(LIMITS) == FEATURES
    for limit in LIMITS.values():
        assert limit.low <= limit.usual[0] < limit.usual[1] <= limit.high
