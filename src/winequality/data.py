"""The Wine Quality data: UCI import, the combined CSV, splits, and input validation."""

from __future__ import annotations

import hashlib
import io
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Optional

import numpy as np
import pandas as pd

from winequality.errors import DataError
from winequality.params import VAL_FRACTION
from winequality.schema import COLOR, COLORS, FEATURES, TARGET, WineInput, column_mapping, positions


@dataclass(frozen=True)
class SourceFile:
    """One published UCI file and the checks it must pass."""

    name: str
    size: int
    sha256: str


UCI_FILES = {
    "red": SourceFile(
        "winequality-red.csv",
        84_199,
        "4a402cf041b025d4566d954c3b9ba8635a3a8a01e039005d97d6a710278cf05e",
    ),
    "white": SourceFile(
        "winequality-white.csv",
        264_426,
        "76c3f809815c17c07212622f776311faeb31e87610d52c26d87d6e361b169836",
    ),
}


def _is_url(source: str) -> bool:
    return "://" in source


def read_source(source: str, files: Optional[dict[str, SourceFile]] = None) -> dict[str, bytes]:
    """Read and verify the UCI files from a URL prefix or a local folder."""
    files = UCI_FILES if files is None else files
    raw = {}
    for color, spec in files.items():
        if _is_url(source):
            url = source.rstrip("/") + "/" + spec.name
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    content = response.read(spec.size + 1)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", exc)
                raise DataError(
                    f"could not download {url}: {reason}; check the address or pass "
                    "--source with a folder holding the UCI files"
                ) from exc
            where = url
        else:
            path = Path(source) / spec.name
            if not path.is_file():
                raise DataError(
                    f"{path} not found; --source (or WINEQ_DATA_SOURCE) must be a folder or "
                    f"URL holding {', '.join(s.name for s in files.values())}"
                )
            content = path.read_bytes()
            where = str(path)
        digest = hashlib.sha256(content).hexdigest()
        if len(content) != spec.size or digest != spec.sha256:
            raise DataError(
                f"{where} is not the published {spec.name} ({len(content):,} bytes, sha256 "
                f"{digest[:12]}…; expected {spec.size:,} bytes, sha256 {spec.sha256[:12]}…); "
                "nothing was written — fetch an intact copy and retry"
            )
        raw[color] = content
    return raw


def build_csv(raw: dict[str, bytes]) -> bytes:
    """The combined CSV: red rows then white rows, the UCI text kept byte for byte, plus color.

    Working on the text (not re-formatting floats) makes the output a pure function of
    the inputs, so the md5 committed in data.dvc stays valid on every machine.
    """
    header = None
    lines = []
    for color, content in raw.items():
        text = content.decode("ascii").replace("\r\n", "\n")
        rows = [row for row in text.split("\n") if row.strip()]
        if header is None:
            header = rows[0]
        elif rows[0] != header:
            raise DataError(f"the {color} file's header differs from the others: {rows[0]!r}")
        lines.extend(f"{row};{color}" for row in rows[1:])
    assert header is not None
    return (f'{header};"{COLOR}"\n' + "\n".join(lines) + "\n").encode("ascii")


# ---------------------------------------------------------------- splits


def group_ids(frame: pd.DataFrame) -> np.ndarray:
    """One id per distinct (11 features, colour): identical wines share an id."""
    return frame.groupby(FEATURES + [COLOR], sort=True).ngroup().to_numpy()


def grouped_split(groups: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (rest, held_out) with about `fraction` of rows held out, never splitting a group."""
    unique = np.unique(groups)
    order = np.random.default_rng(seed).permutation(unique)
    counts = np.bincount(groups, minlength=int(unique.max()) + 1)
    target = fraction * len(groups)
    cumulative = np.cumsum(counts[order])
    n_groups = int(np.searchsorted(cumulative, target)) + 1
    held = np.isin(groups, order[:n_groups])
    return np.flatnonzero(~held), np.flatnonzero(held)


def validation_split(groups: np.ndarray, rows: np.ndarray, seed: int):
    """Split training `rows` into (fit, validation) rows, grouped, seeded by the training seed.

    `wineq train` and the quality benchmark both use this, so they train the same way.
    """
    fit_pos, val_pos = grouped_split(groups[rows], VAL_FRACTION, seed)
    return rows[fit_pos], rows[val_pos]


# ---------------------------------------------------------------- reading CSVs


@dataclass
class WineChunk:
    """Validated wines and the input they came from, in file order."""

    frame: pd.DataFrame
    """The wines: canonical column names, checked values."""
    header: bytes = b""
    """A CSV's header line as read, without its line ending."""
    lines: Optional[list[bytes]] = None
    """A CSV's rows as read, without their line endings."""
    offset: int = 0
    """Bytes of the file read so far, for progress."""
    original: Optional[pd.DataFrame] = None
    """The rows as the input has them: its column names and order; pass-through columns as
    they came (a CSV's as text)."""
    rows: object = None
    """The rows in the input format's own form (a Parquet record batch, Excel rows)."""

    def as_input(self) -> pd.DataFrame:
        """The rows with the input's columns, in its order (made from a record batch once)."""
        if self.original is None:
            # the columns as stored: no index rebuilt from pandas' metadata (it would drop
            # or misalign a column), whole numbers with gaps as whole numbers, not floats
            self.original = self.rows.to_pandas(ignore_metadata=True, integer_object_nulls=True)
        return self.original


def _unchanged(wines) -> None:
    """A DataError when the file changed since it was opened."""
    change = wines.changed_while_read()
    if change:
        raise DataError(
            f"{wines.name} {change} while it was being read; its predictions are not kept — "
            "give it again once it is complete"
        )


def read_wine_chunks(
    wines: WineInput,
    *,
    chunk_bytes: int = 2 << 20,
    color: Optional[str] = None,
) -> Iterator[WineChunk]:
    """Yield validated chunks of an open wine CSV with their raw lines; memory stays ~chunk_bytes.

    The raw lines let a caller write "the input plus a column" without re-formatting
    anything. Blank lines are skipped. Columns that are not model inputs are read as text
    and pass through. A `;` file whose numbers use decimal commas is read as such when
    its numbers say so unambiguously (`wines.decimal` None), or when told (`,`). Example:
    `with open_wines(Path("wines.csv")) as wines: for chunk in read_wine_chunks(wines): ...`
    """
    name, header, sep = wines.name, wines.header, wines.sep
    inputs, canonical, passing = positions(wines.columns, wines.mapping)
    text_columns = dict.fromkeys(passing, str)
    first_row = 1
    offset = wines.header_size
    while True:
        raw = wines.handle.readlines(chunk_bytes)
        if not raw:
            break
        offset += sum(len(line) for line in raw)
        lines = [line.rstrip(b"\r\n") for line in raw]
        lines = [line for line in lines if line.strip()]
        if not lines:
            continue
        try:
            content = header + b"\n" + b"\n".join(lines)
            frame = _parse(name, content, sep, wines.decimal or ".", text_columns)
            wanted = frame.iloc[:, inputs].set_axis(canonical, axis=1)
            if wines.decimal is None:
                wines.decimal = _decimal_mark(name, wanted)
                if wines.decimal == ",":
                    frame = _parse(name, content, sep, ",", text_columns)
                    wanted = frame.iloc[:, inputs].set_axis(canonical, axis=1)
            if len(frame) != len(lines):
                raise DataError(
                    f"{name}: rows from line {first_row + 1} on do not match the lines (a "
                    "quoted value spanning lines?); give one wine per line"
                )
            checked = _check_values(
                name, wanted, first_row, color, wines.decimal, decimal_hint=sep == ";"
            )
        except DataError:
            _unchanged(wines)  # a line cut short by a truncation is not the file's fault
            raise
        # progress in the file's own bytes: a compressed file's count as they are read
        compressed = wines.source.compression is not None
        yield WineChunk(
            checked, header, lines, wines.source.position if compressed else offset, frame
        )
        first_row += len(lines)
    _unchanged(wines)
    if first_row == 1:
        raise DataError(f"{name} has a header but no wines; give at least one row")


_COMMA_NUMBER = r"^\s*[-+]?\d*,\d+(?:[eE][-+]?\d+)?\s*$"


def _decimal_mark(name: str, frame: pd.DataFrame) -> Optional[str]:
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


def _parse(
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


# No wine measures more than this in any column (the largest UCI value is 440); larger
# numbers are typos or another file's columns, and overflow the model's float32 maths.
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


def _check_values(
    name: str,
    frame: pd.DataFrame,
    first_row: int,
    color: Optional[str],
    decimal: Optional[str] = None,
    where: Optional[Callable[[int, str], str]] = None,
    decimal_hint: bool = False,
) -> pd.DataFrame:
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
        huge = np.abs(numbers) > LARGEST_VALUE
        if huge.any():
            why = (
                f", beyond any measurement of a wine (at most {LARGEST_VALUE:,.0f} in size); "
                "check the file's units and columns"
            )
            raise _bad_value(name, frame, column, huge, first_row, why, where)
    if COLOR in frame:
        colours = frame[COLOR].astype(str).str.strip().str.lower()
        bad = ~colours.isin(COLORS).to_numpy()
        if bad.any():
            raise _bad_value(name, frame, COLOR, bad, first_row, "; use red or white", where)
        frame[COLOR] = colours
    else:
        frame[COLOR] = color
    return frame


def validated_frame(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """A frame of wines with canonical column names and checked values (a copy)."""
    mapping = column_mapping(name, list(frame.columns), None)
    return _check_values(name, frame.rename(columns=mapping).copy(), 1, None)


def load_training_frame(handle: IO[str], source: str) -> pd.DataFrame:
    """The whole combined data set from an open text stream, validated."""
    frame = pd.read_csv(handle, sep=";", keep_default_na=False, na_values=[""])
    mapping = column_mapping(source, list(frame.columns), None, True)
    return _check_values(source, frame.rename(columns=mapping), 1, None)
