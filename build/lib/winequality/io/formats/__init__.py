"""Wine files in the formats labs and data teams have: CSV (plain or compressed), Parquet
and Excel, read in chunks and written the same way.

A reader opens its input, checks its columns before any row is read, and yields
`data.WineChunk`s: the validated wines plus the rows as the input has them, so a writer
can keep every column that is not a model input exactly where it was. Each format is a
module of its own; this one picks one by the file's name, the `--format` given, or the
bytes themselves (standard input has no name).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Optional, Protocol, Union

from winequality.errors import DataError, UsageError
from winequality.io.locations import STDIN_NAME, S3Opener, open_sink, open_source, split_compression

FORMATS = ("csv", "parquet", "xlsx")
_SUFFIXES = {"csv": "csv", "txt": "csv", "parquet": "parquet", "pq": "parquet", "xlsx": "xlsx"}
_MAGIC = {b"PAR1": "parquet", b"PK\x03\x04": "xlsx", b"\xd0\xcf\x11\xe0": "ole"}
_NAMES = {"csv": "CSV", "parquet": "Parquet", "xlsx": "an Excel workbook (.xlsx)"}


class Reader(Protocol):
    """An open wine file in one format; `chunks()` yields its validated wines in order."""

    name: str
    format: str
    columns: list
    """The input's columns as named there, in order."""
    mapping: dict
    """Model-input columns → canonical names; the other columns pass through."""

    def chunks(self, color: Optional[str]) -> Iterator: ...

    def close(self) -> None: ...

    def __enter__(self) -> Reader: ...

    def __exit__(self, *exc: object) -> None: ...


def checked_format(fmt: Optional[str], flag: str = "--format") -> Optional[str]:
    if fmt is None:
        return None
    lowered = fmt.lower().lstrip(".")
    if lowered == "excel":
        lowered = "xlsx"
    if lowered not in FORMATS:
        raise UsageError(f"{flag} {fmt!r}: use one of {', '.join(FORMATS)}")
    return lowered


def format_of_name(name: str) -> Optional[str]:
    """The format a file name says (`wines.parquet`, `wines.csv.gz`), or None."""
    base, _ = split_compression(name)
    suffix = base.rsplit(".", 1)[-1].lower() if "." in Path(base).name else ""
    return _SUFFIXES.get(suffix)


def _sniffed(head: bytes) -> Optional[str]:
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), None)


def _ole_problem(name: str, source) -> DataError:
    """What an OLE compound file given as wines is: an encrypted workbook, or an old .xls."""
    scanned = source.handle.read(8 << 20)  # the directory of streams lies near the start
    if (
        "EncryptedPackage".encode("utf-16-le") in scanned
        or "EncryptionInfo".encode("utf-16-le") in scanned
    ):
        return DataError(
            f"{name} is a password-protected workbook; open it in Excel, remove the password "
            "(File > Info > Protect Workbook) and save it, or export the sheet as CSV"
        )
    return DataError(
        f"{name} is an Excel 97-2003 (.xls) or other OLE file, not .xlsx; save it as .xlsx or CSV"
    )


def open_input(
    location: Union[str, Path, BinaryIO],
    *,
    fmt: Optional[str] = None,
    color: Optional[str] = None,
    decimal: Optional[str] = None,
    sheet: Optional[str] = None,
    s3: Optional[S3Opener] = None,
) -> Reader:
    """Open a file of wines and check its columns; the rows are read by `chunks()`.

    The format is `fmt` if given, else what the name says, else what the bytes are.
    Example: `with open_input("wines.parquet") as wines: for chunk in wines.chunks(None): ...`
    """
    fmt = checked_format(fmt)
    if decimal not in (None, ".", ","):
        raise UsageError(f"--decimal {decimal!r}: use , or .")
    source = open_source(location, s3=s3)
    try:
        named = None if source.name == STDIN_NAME else format_of_name(source.name)
        found = _sniffed(source.head(8))
        if found == "ole":
            raise _ole_problem(source.name, source)
        chosen = fmt or named or found or "csv"
        if found != chosen and (chosen != "csv" or found is not None):
            said = f"--format {fmt}" if fmt else f"its name says {_NAMES[chosen]}"
            what = f"{_NAMES[found]}" if found else "not " + _NAMES[chosen]
            hint = f"; give --format {found}" if found else ""
            raise DataError(f"{source.name} is {what}, but {said}{hint}")
        if decimal is not None and chosen != "csv":
            raise UsageError(f"--decimal is for CSV files; {source.name} is {_NAMES[chosen]}")
        if sheet is not None and chosen != "xlsx":
            raise UsageError(f"--sheet is for Excel workbooks; {source.name} is {_NAMES[chosen]}")
        if chosen == "csv":
            from winequality.io.formats.delimited import CsvReader

            return CsvReader.open(source, color, decimal)
        if chosen == "parquet":
            from winequality.io.formats.parquet import ParquetReader

            return ParquetReader.open(source, color)
        from winequality.io.formats.excel import ExcelReader

        return ExcelReader.open(source, color, sheet)
    except BaseException:
        source.close()
        raise


def output_format(target: Union[str, Path], fmt: Optional[str]) -> str:
    """The format an output is written in: `fmt`, else what its name says, else CSV."""
    chosen = checked_format(fmt, "--output-format") or format_of_name(str(target)) or "csv"
    _, compression = split_compression(str(target))
    if compression and chosen != "csv":
        raise UsageError(
            f"--output {target}: {_NAMES[chosen]} compresses itself; drop the "
            f"{str(target).rsplit('.', 1)[-1]} suffix"
        )
    return chosen


@contextmanager
def open_output(
    target: Union[str, Path],
    reader: Reader,
    columns: tuple[str, ...],
    *,
    fmt: Optional[str] = None,
    s3: Optional[S3Opener] = None,
) -> Iterator:
    """A writer of `reader`'s rows plus the prediction `columns` into `target` (a path or an
    s3:// address), in `fmt` or the format its name says; nothing is left of it on error."""
    chosen = output_format(target, fmt)
    with open_sink(target, s3=s3) as sink:
        writer = writer_for(chosen, sink, reader, columns, str(target))
        try:
            yield writer
        except BaseException:
            getattr(writer, "abort", lambda: None)()  # its temporary files go too
            raise
        writer.close()


def writer_for(fmt: str, sink, reader: Reader, columns: tuple[str, ...], name: str):
    """The writer of format `fmt` onto the binary `sink`."""
    if fmt == "csv":
        from winequality.io.formats.delimited import CsvWriter

        return CsvWriter(sink, reader, columns)
    if fmt == "parquet":
        from winequality.io.formats.parquet import ParquetWriter

        return ParquetWriter(sink, reader, columns)
    from winequality.io.formats.excel import ExcelWriter

    return ExcelWriter(sink, reader, columns, name)
