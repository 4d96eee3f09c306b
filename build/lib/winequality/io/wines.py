"""Opening a file of wines: its header read and checked (without pandas, so a wrong file
fails in milliseconds), then its rows read in validated chunks."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Optional, Union

from winequality.errors import DataError, UsageError
from winequality.io.locations import Source, open_source
from winequality.schema import HEADER_LIMIT, PREDICTION, column_mapping, positions, separator_of

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class WineInput:
    """An open wine CSV whose header has been read and checked; the rows are still unread."""

    source: Source
    header: bytes
    """The header line as read, without its line ending."""
    sep: str
    columns: list[str]
    """The header's columns as named there, in order."""
    mapping: dict[str, str]
    """Model-input columns → canonical names; the rest pass through."""
    decimal: Optional[str] = None
    """'.' or ',' as stated (--decimal); None to tell from the numbers."""
    header_size: int = 0
    """Bytes of the header line, line ending included (progress counts from here)."""

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def handle(self):
        return self.source.handle

    def changed_while_read(self) -> Optional[str]:
        return self.source.changed_while_read()

    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> WineInput:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def prediction_header(self, columns: tuple[str, ...] = (PREDICTION,)) -> bytes:
        """The output's header: the input's, plus the prediction columns quoted as its last
        column is (UCI quotes every name; a plain CSV quotes none)."""
        last = self.header.rsplit(self.sep.encode(), 1)[-1].strip()
        quote = b'"' if last.startswith(b'"') else b""
        sep = self.sep.encode()
        return self.header + b"".join(sep + quote + c.encode() + quote for c in columns)


def open_wines(
    source: Union[Path, BinaryIO, Source],
    color: Optional[str] = None,
    require_target: bool = False,
    decimal: Optional[str] = None,
) -> WineInput:
    """Open a wine CSV (a path, a binary stream such as stdin, or an open Source) and check
    its header.

    Example: `with open_wines(Path("wines.csv"), color="red") as wines: ...`
    """
    if not isinstance(source, Source):
        source = open_source(source)
    try:
        raw = source.handle.readline(HEADER_LIMIT)  # /dev/zero has no end of line
        header = raw.rstrip(b"\r\n")
        # a byte-order mark (Excel's "CSV UTF-8") is no part of the first column's name
        text = header.decode("utf-8", errors="replace").removeprefix("\ufeff")
        sep = separator_of(text, source.name)
        if decimal == "," and sep == ",":
            raise UsageError(
                f"--decimal ,: {source.name} separates its columns with ','; a file with "
                "decimal commas must separate them with ';'"
            )
        columns = next(csv.reader([text], delimiter=sep, skipinitialspace=True))
        mapping = column_mapping(source.name, columns, color, require_target)
    except BaseException:
        source.close()
        raise
    decimal = "." if sep == "," else decimal
    return WineInput(source, header, sep, columns, mapping, decimal, len(raw))


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
    rows: Any = None
    """The rows in the input format's own form (a Parquet record batch, Excel rows)."""

    def as_input(self) -> pd.DataFrame:
        """The rows with the input's columns, in its order (made from a record batch once)."""
        if self.original is None:
            # the columns as stored: no index rebuilt from pandas' metadata (it would drop
            # or misalign a column), whole numbers with gaps as whole numbers, not floats
            self.original = self.rows.to_pandas(ignore_metadata=True, integer_object_nulls=True)
        return self.original


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
    from winequality.io.validation import check_values, decimal_mark, parse_csv

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
            frame = parse_csv(name, content, sep, wines.decimal or ".", text_columns)
            wanted = frame.iloc[:, inputs].set_axis(canonical, axis=1)
            if wines.decimal is None:
                wines.decimal = decimal_mark(name, wanted)
                if wines.decimal == ",":
                    frame = parse_csv(name, content, sep, ",", text_columns)
                    wanted = frame.iloc[:, inputs].set_axis(canonical, axis=1)
            if len(frame) != len(lines):
                raise DataError(
                    f"{name}: rows from line {first_row + 1} on do not match the lines (a "
                    "quoted value spanning lines?); give one wine per line"
                )
            checked = check_values(
                name, wanted, first_row, color, wines.decimal, decimal_hint=sep == ";"
            )
        except DataError:
            wines.source.ensure_unchanged()  # a line cut short by a truncation is not the file's fault
            raise
        # progress in the file's own bytes: a compressed file's count as they are read
        compressed = wines.source.compression is not None
        yield WineChunk(
            checked, header, lines, (wines.source.position or 0) if compressed else offset, frame
        )
        first_row += len(lines)
    wines.source.ensure_unchanged()
    if first_row == 1:
        raise DataError(f"{name} has a header but no wines; give at least one row")
