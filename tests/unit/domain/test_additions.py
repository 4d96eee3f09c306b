"""New wines against the data (domain/additions.py): new, known, contradicting."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from winequality.domain.additions import ORIGIN, as_lines, counts, plan
from winequality.schema import COLOR, FEATURES, TARGET


def wine(alcohol: float, quality: int, color: str = "red", row: int = 1) -> dict:
    values = dict.fromkeys(FEATURES, 0.5)
    values["alcohol"] = alcohol
    return {**values, TARGET: quality, COLOR: color, ORIGIN: ("lab.csv", row)}


def frame(*wines: dict) -> pd.DataFrame:
    return pd.DataFrame(list(wines))


def test_known_wines_are_skipped_and_new_ones_kept_in_order():
    existing = frame(wine(9.0, 5), wine(10.0, 6, "white"))
    new = frame(wine(11.0, 7, row=1), wine(9.0, 5, row=2), wine(9.0, 5, "white", row=3))
    found = plan(existing, new, keep_conflicts=None)
    assert found.added["alcohol"].tolist() == [11.0, 9.0]
    assert found.added[COLOR].tolist() == ["red", "white"]
    assert found.duplicates == 1 and found.conflicts == [] and found.conflicts_kept is None
    assert found.counts() == {"wines": 2, "red": 1, "white": 1}


def test_a_wine_twice_in_the_addition_is_added_once():
    found = plan(frame(wine(9.0, 5)), frame(wine(11.0, 7, row=1), wine(11.0, 7, row=2)), None)
    assert len(found.added) == 1 and found.duplicates == 1


@pytest.mark.parametrize(("keep", "added"), [(None, 0), (False, 0), (True, 1)])
def test_a_contradicting_quality_is_reported_and_added_only_when_kept(keep, added):
    found = plan(frame(wine(9.0, 5), wine(9.0, 4)), frame(wine(9.0, 6, row=7)), keep)
    assert len(found.added) == added
    (conflict,) = found.conflicts
    assert conflict.origin == ("lab.csv", 7) and conflict.quality == 6 and conflict.known == [4, 5]
    assert found.conflicts_kept is keep


def test_rows_read_back_as_the_same_numbers():
    wines = frame(wine(9.123456789012345, 5), wine(1e-05, 7, "white"), wine(11.0, 6))
    lines = as_lines(wines)
    assert lines.splitlines()[2].decode().endswith(";11;6;red")
    read = pd.read_csv(io.BytesIO(lines), sep=";", header=None)
    assert read[10].tolist() == wines["alcohol"].tolist()
    assert read[11].tolist() == [5, 7, 6] and read[12].tolist() == ["red", "white", "red"]


def test_counts_are_per_colour():
    assert counts(frame(wine(9.0, 5), wine(9.5, 5), wine(9.0, 5, "white"))) == {
        "wines": 3,
        "red": 2,
        "white": 1,
    }
