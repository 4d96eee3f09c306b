"""Checking wines as they are read: numbers, decimal marks, colours and quality values,
each bad value named by its file, row and column."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Optional

import numpy as np
import pandas as pd

from winequality.errors import DataError
from winequality.io.limits import LIMITS, explain, what
from winequality.schema import COLOR, COLORS, FEATURES, TARGET, column_mapping

_COMMA_NUMBER = r"^\s*[-+]?\d*,\d+(?:[eE][-+]?\d+)?\s*$"


def decimal_mark(name: str, frame: pd.DataFrame) -> Optional[str]:
    """' when the model inputs are written with decimal commas (7,4), '.' when with
    points, None while there is no telling (whole numbers only); a DataError when both."""
    comma = point = None
    for column in [c for c in frame.columns if c in FEATURES or c == TARGET]:
        values = frame[column]
        if values.dtype.kind == "f":
            fraction = values.to_numpy() % 1
            if np.any(np.isfinite(fraction) & (fraction != 0)):
                point = point or (column, values[np.isfinite(fraction) & (fraction != 0)].iloc[0])
        elif values.dtype.kind == "O":
            text = values.dropna().astype(str)
            commas = text[text.str.match(_COMMA_NUMBER)]
            if len(commas):
                comma = comma or (column, commas.iloc[0])
            dotted = text[text.str.contains(".", regex=False)]
            if len(dotted):
                point = point or (column, dotted.iloc[0])
    if comma and point:
        raise DataError(
            f"{name}: numbers are written both with a decimal point ({point[1]!r} in "
            f"{str(point[0])!r}) and a decimal comma ({comma[1]!r} in {str(comma[0])!r}); "
            "state the decimal mark with --decimal , or --decimal ."
        )
    return "," if comma else "." if point else None


def parse_csv(
    name: str, content: bytes, sep: str, decimal: str = ".", dtype: Optional[dict] = None
) -> pd.DataFrame:
    try:
        return pd.read_csv(
            io.BytesIO(content),
            sep=sep,
            decimal=decimal,
            dtype=dtype or None,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=True,
        )
    except pd.errors.ParserError as exc:
        raise DataError(f"{name}: not a well-formed CSV ({str(exc).strip()})") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{name} is empty; give a CSV with a header row and wines") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{name} is not UTF-8 text ({exc.reason}); save it as UTF-8") from exc


# No quality score is larger than this (the features have their own ranges, limits.py);
# larger numbers are typos or another file's columns, and overflow float32 maths.
LARGEST_VALUE = 1_000_000


def _bad_value(
    name: str,
    frame: pd.DataFrame,
    column: str,
    mask: np.ndarray,
    first_row: int,
    why: str = "",
    where: Optional[Callable[[int, str], str]] = None,
):
    """The first row in `mask` as one line; `why` follows its value (default: not a number).

    `where(row, column)` says where that row is: a CSV's line (the default), a sheet's cell.
    """
    position = int(np.flatnonzero(mask)[0])
    value = frame[column].iloc[position]
    row = first_row + position
    place = where(position, column) if where else f"line {row + 1}"
    what = "is empty" if pd.isna(value) else f"has {str(value)!r}{why or ', not a number'}"
    return DataError(f"{name}: column {column!r}, row {row}{f' ({place})' if place else ''} {what}")


def _not_a_number(value, decimal: Optional[str], decimal_hint: bool) -> str:
    """Why a value is not a number, naming the decimal mark when that is the cause (in a
    ;-separated CSV, the only files --decimal is for)."""
    text = str(value)
    if not decimal_hint:
        return ", not a number"
    if decimal == "," and "." in text:
        return ", not a number with a decimal comma, as the rest of the file has; state --decimal . if points are meant"
    if decimal != "," and "," in text:
        return ", not a number; if the file uses decimal commas, pass --decimal ,"
    return ", not a number"


ERROR_VALUES = (
    "#DIV/0!",
    "#N/A",
    "#NAME?",
    "#NULL!",
    "#NUM!",
    "#REF!",
    "#VALUE!",
    "#SPILL!",
    "#CALC!",
)
"""What a spreadsheet cell holds when its formula fails."""


def check_values(
    name: str,
    frame: pd.DataFrame,
    first_row: int,
    color: Optional[str],
    decimal: Optional[str] = None,
    where: Optional[Callable[[int, str], str]] = None,
    decimal_hint: bool = False,
) -> pd.DataFrame:
    """`frame` with its features (and quality) as finite numbers within what a wine can
    measure, and its colour column checked; the first bad value is a DataError naming its
    file, row and column (`where` adds a cell's address)."""
    for column in FEATURES + ([TARGET] if TARGET in frame else []):
        values = frame[column]
        if values.dtype.kind == "b":  # TRUE in a workbook or Parquet is no measurement
            values = values.astype(object)
        if values.dtype.kind not in "fi":
            if decimal == ",":  # a column pandas could not read whole: a point is no decimal here
                text = values.astype(str)
                values = text.where(~text.str.contains(".", regex=False))
                values = values.str.replace(",", ".", regex=False)
            numeric = pd.to_numeric(values, errors="coerce")
            bad = numeric.isna().to_numpy()
            if values.dtype.kind == "O":
                bad = bad | values.map(lambda v: isinstance(v, bool)).to_numpy(dtype=bool)
            if bad.any():
                value = str(frame[column].iloc[int(np.flatnonzero(bad)[0])])
                why = (
                    ", the error of a formula; fix the formula in the workbook and save it again"
                    if value in ERROR_VALUES
                    else _not_a_number(value, decimal, decimal_hint)
                )
                raise _bad_value(name, frame, column, bad, first_row, why, where)
            frame[column] = numeric
        numbers = frame[column].to_numpy(dtype=float)
        bad = ~np.isfinite(numbers)
        if bad.any():
            raise _bad_value(name, frame, column, bad, first_row, where=where)
        if column in LIMITS:
            _check_possible(name, column, numbers, first_row, where)
            continue
        huge = np.abs(numbers) > LARGEST_VALUE
        if huge.any():
            why = (
                f", beyond any measurement of a wine (at most {LARGEST_VALUE:,.0f} in size); "
                "check the file's units and columns"
            )
            raise _bad_value(name, frame, column, huge, first_row, why, where)
    _check_colours(name, frame, first_row, color, where)
    return frame


def _check_possible(
    name: str,
    column: str,
    numbers: np.ndarray,
    first_row: int,
    where: Optional[Callable[[int, str], str]],
) -> None:
    """A DataError when a value of `column` is no wine's (limits.py): one line for the
    column when one unit mistake makes every value a possible wine, else for the first
    bad row."""
    limit = LIMITS[column]
    bad = (numbers < limit.low) | (numbers > limit.high)
    if limit.zero:
        bad &= numbers != 0
    if not bad.any():
        return
    if len(numbers) > 1 and bad.all():
        for mistake in limit.mistakes:
            fixed = numbers * mistake.factor
            if np.all((fixed >= limit.low) & (fixed <= limit.high)):
                rows = f"rows {first_row}–{first_row + len(numbers) - 1}"
                raise DataError(
                    f"{name}: column {column!r} looks like {mistake.unit}, not {limit.unit}: "
                    f"all {len(numbers):,} values ({rows}) lie between {numbers.min():g} and "
                    f"{numbers.max():g}, where {what(column)} is {limit.typical} — "
                    f"{mistake.fix.replace(' by ', ' the column by ', 1)}"
                )
    position = int(np.flatnonzero(bad)[0])
    row = first_row + position
    place = where(position, column) if where else f"line {row + 1}"
    more = int(bad.sum()) - 1
    also = f" ({more:,} more {'row' if more == 1 else 'rows'} like it)" if more else ""
    raise DataError(
        f"{name}: row {row}{f' ({place})' if place else ''}: "
        f"{explain(column, float(numbers[position]))}{also}"
    )


def _check_colours(
    name: str,
    frame: pd.DataFrame,
    first_row: int,
    color: Optional[str],
    where: Optional[Callable[[int, str], str]],
) -> None:
    """The colour column, read as red or white whatever its case; `color` where it has none."""
    if COLOR not in frame:
        frame[COLOR] = color
        return
    colours = frame[COLOR].astype(str).str.strip().str.lower()
    bad = ~colours.isin(COLORS).to_numpy()
    if bad.any():
        why = f"; use {' or '.join(COLORS)}"
        raise _bad_value(name, frame, COLOR, bad, first_row, why, where)
    frame[COLOR] = colours


def check_scores(name: str, frame: pd.DataFrame, first_row: int) -> None:
    """A DataError naming the first quality that is not a whole score from 0 to 10."""
    scores = frame[TARGET].to_numpy(dtype=float)
    bad = (scores != np.rint(scores)) | (scores < 0) | (scores > 10)
    if bad.any():
        why = ", not a quality score (a whole number from 0 to 10)"
        raise _bad_value(name, frame, TARGET, bad, first_row, why, lambda row, column: "")


def validated_frame(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """A frame of wines with canonical column names and checked values (a copy)."""
    mapping = column_mapping(name, list(frame.columns), None)
    return check_values(name, frame.rename(columns=mapping).copy(), 1, None)


def load_training_frame(handle: IO[str], source: str) -> pd.DataFrame:
    """The whole combined data set from an open text stream, validated."""
    frame = pd.read_csv(handle, sep=";", keep_default_na=False, na_values=[""])
    mapping = column_mapping(source, list(frame.columns), None, True)
    return check_values(source, frame.rename(columns=mapping), 1, None)
