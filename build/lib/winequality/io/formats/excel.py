"""Excel workbooks (.xlsx), what labs write: the first sheet or a named one, the header row
found even below a title, read row by row (openpyxl's read-only mode parses the sheet as
it goes); written the same way, a row at a time, in write-only mode."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from typing import Optional

from winequality.errors import DataError, first_line
from winequality.io.formats.base import OpenFile
from winequality.schema import FEATURES, TARGET, column_mapping, positions

HEADER_SEARCH = 30  # rows above the header a sheet may spend on titles and notes
CHUNK_ROWS = 20_000
EXCEL_ROWS = 1_048_576  # rows a sheet holds, header included


def _unreadable(name: str, exc: BaseException) -> DataError:
    reason = first_line(exc)
    return DataError(
        f"{name} is not a readable .xlsx workbook ({reason}); open it in Excel and save it "
        "again as .xlsx, or export the sheet as CSV"
    )


class ExcelReader(OpenFile):
    """One sheet of a workbook of wines, its header row found and checked."""

    format = "xlsx"

    def __init__(self, source, book, sheet, rows, header, preamble, color):
        self.source, self.book, self.sheet, self._rows = source, book, sheet, rows
        self.closing = (book, source)
        self.name = source.name
        self.sheet_name = sheet.title
        self.header_row, header_cells = header
        self.columns = [_header_name(cell, i) for i, cell in enumerate(header_cells)]
        self.header_cells = header_cells
        self.preamble = preamble
        """The rows above the header (titles, notes), written back above it."""
        self.claimed_rows: Optional[int] = None
        """The sheet's size as the file states it (for progress only: it may be wrong)."""
        self.mapping = column_mapping(self.where(), self.columns, color)

    def where(self) -> str:
        return f"{self.name}, sheet {self.sheet_name!r}"

    @classmethod
    def open(cls, source, color: Optional[str], sheet: Optional[str]) -> ExcelReader:
        import openpyxl

        # a file object, not its name: openpyxl refuses names that do not end in .xlsx
        handle = open(source.local_file(), "rb")
        source.on_close(handle.close)
        try:
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
            raise _unreadable(source.name, exc) from None
        except Exception as exc:  # openpyxl's own InvalidFileException and XML errors
            raise _unreadable(source.name, exc) from None
        try:
            if sheet is None:
                chosen = book.worksheets[0]
            elif sheet in book.sheetnames:
                chosen = book[sheet]
            else:
                raise DataError(
                    f"{source.name} has no sheet {sheet!r}; its sheets: "
                    + ", ".join(repr(s) for s in book.sheetnames)
                )
            if not hasattr(chosen, "iter_rows"):
                raise DataError(f"{source.name}: sheet {chosen.title!r} is a chart, not a table")
            # the size the file claims is only for progress: a wrong claim must not cut rows
            claimed = chosen.max_row if chosen.max_row and chosen.max_row > 1 else None
            chosen.reset_dimensions()
            rows = enumerate(chosen.iter_rows(values_only=True), start=1)
            header, preamble = _find_header(source.name, chosen.title, rows, color)
            reader = cls(source, book, chosen, rows, header, preamble, color)
            reader.claimed_rows = claimed
            return reader
        except BaseException:
            book.close()
            raise

    def chunks(self, color: Optional[str], chunk_rows: int = CHUNK_ROWS) -> Iterator:
        import pandas as pd

        from winequality.io.validation import check_values
        from winequality.io.wines import WineChunk

        width = len(self.columns)
        inputs, canonical, _ = positions(self.columns, self.mapping)
        places = dict(zip(canonical, inputs, strict=True))
        letters = {column: _letter(i) for column, i in places.items()}
        total = max((self.claimed_rows or 0) - self.header_row, 1)
        size = self.source.size or total
        first_row, done = 1, 0
        while True:
            values, numbers = [], []
            try:
                for number, row in self._rows:
                    if not any(cell is not None for cell in row):
                        continue  # a blank row
                    row = tuple(row[:width]) + (None,) * (width - len(row))
                    values.append(row)
                    numbers.append(number)
                    if len(values) == chunk_rows:
                        break
            except Exception as exc:  # a damaged sheet's XML
                raise _unreadable(self.name, exc) from None
            if not values:
                break
            # as objects: a whole-number column with a blank stays whole numbers
            original = pd.DataFrame(values, columns=range(width), dtype=object)
            original = original.set_axis(self.columns, axis=1)
            wanted = original.iloc[:, inputs].set_axis(canonical, axis=1).infer_objects()
            self._refuse_uncalculated(wanted, numbers, places)

            def cell(position: int, column: str, numbers=numbers) -> str:
                return f"cell {letters[column]}{numbers[position]}"

            checked = check_values(self.where(), wanted, first_row, color, where=cell)
            done += len(values)
            yield WineChunk(
                checked,
                offset=int(size * min(done / total, 1)),
                original=original,
                rows=values,
            )
            first_row += len(values)
        if first_row == 1:
            raise DataError(f"{self.where()} has a header row but no wines; give at least one")

    def _refuse_uncalculated(self, wanted, numbers: list[int], places: dict) -> None:
        """A formula saved without its value (by a program that does not calculate) reads as
        an empty cell; say so, rather than "is empty"."""
        import openpyxl

        for column in [c for c in wanted.columns if c in FEATURES or c == TARGET]:
            empty = wanted[column].isna().to_numpy()
            if not empty.any():
                continue
            row = numbers[int(empty.argmax())]
            with open(self.source.local_file(), "rb") as handle:
                book = openpyxl.load_workbook(handle, read_only=True)  # formulas, streamed
                try:
                    sheet = book[self.sheet_name]
                    cells = next(sheet.iter_rows(min_row=row, max_row=row, values_only=True), ())
                finally:
                    book.close()
            place = places[column]
            formula = cells[place] if place < len(cells) else None
            if isinstance(formula, str) and formula.startswith("="):
                raise DataError(
                    f"{self.where()}: cell {_letter(place)}{row} ({column!r}) holds the formula "
                    f"{formula} with no value saved; open the workbook in Excel or LibreOffice "
                    "and save it, so its formulas are calculated"
                )
            return


def _header_name(cell, index: int) -> str:
    if cell is None:
        return f"column {_letter(index)}"
    return str(cell).strip()


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _find_header(name: str, sheet: str, rows, color: Optional[str]):
    """The first row naming all 11 features (within HEADER_SEARCH rows), and the rows above."""
    preamble: list[tuple] = []
    best: Optional[tuple[int, DataError]] = None
    where = f"{name}, sheet {sheet!r}"
    for number, row in rows:
        cells = list(row)
        while cells and cells[-1] is None:
            cells.pop()
        names = [str(c).strip() for c in cells if c is not None]
        if names:
            try:
                column_mapping(where, [_header_name(c, i) for i, c in enumerate(cells)], color)
                return (number, cells), preamble
            except DataError as exc:
                known = sum(1 for n in names if _is_feature(n))
                if known and (best is None or known > best[0]):
                    best = (known, exc)
        preamble.append(tuple(row))
        if number >= HEADER_SEARCH:
            break
    if best is not None:
        raise best[1]
    raise DataError(
        f"{where}: no header row naming the 11 UCI features in its first {HEADER_SEARCH} rows; "
        "put the column names in one row above the wines (or pick the sheet with --sheet)"
    )


def _is_feature(name: str) -> bool:
    from winequality.schema import canonical_name

    return canonical_name(name) is not None


class ExcelWriter:
    """The input's rows plus the prediction columns as a one-sheet workbook, written a row at
    a time (openpyxl's write-only mode keeps the sheet on disk, not in memory)."""

    def __init__(self, sink, reader, columns: tuple[str, ...], name: str):
        import openpyxl

        self.sink, self.reader, self.columns, self.name = sink, reader, columns, name
        self.book = openpyxl.Workbook(write_only=True)
        title = reader.sheet_name if isinstance(reader, ExcelReader) else "wines"
        self.sheet = self.book.create_sheet(title=title)
        self.rows = 0
        if isinstance(reader, ExcelReader):
            for row in reader.preamble:
                self._append([self._cell(v) for v in row])
            self._append([self._cell(v) for v in reader.header_cells] + list(columns))
        else:
            self._append([self._cell(str(c)) for c in reader.columns] + list(columns))

    def _append(self, row: list) -> None:
        self.rows += 1
        if self.rows > EXCEL_ROWS:
            raise DataError(
                f"{self.name}: an Excel sheet holds at most {EXCEL_ROWS:,} rows; write the "
                "predictions to .csv or .parquet instead"
            )
        try:
            self.sheet.append(row)
        except ValueError as exc:  # a control character, a date Excel cannot hold
            raise DataError(f"{self.name}: cannot put a value in a workbook ({exc})") from None

    def write(self, chunk, found) -> None:
        from winequality.io.formats.rounding import prediction_numbers

        numbers = prediction_numbers(found, self.columns)
        added = list(zip(*(numbers[c].tolist() for c in self.columns), strict=True))
        if isinstance(self.reader, ExcelReader):
            rows = chunk.rows
        else:
            frame = chunk.as_input()
            rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False)
        for row, values in zip(rows, added, strict=True):
            cells = [self._cell(v) for v in row]
            self._append([*cells, *(None if v != v else v for v in values)])

    def _cell(self, value):
        """A value as a cell holds it: text stays text even when it starts with '=' (never a
        formula), times lose their zone (Excel has none)."""
        if isinstance(value, str) and value.startswith("="):
            from openpyxl.cell import WriteOnlyCell

            cell = WriteOnlyCell(self.sheet, value=value)
            cell.data_type = "s"
            return cell
        if getattr(value, "tzinfo", None) is not None:
            return value.replace(tzinfo=None)
        return value

    def close(self) -> None:
        self.book.save(self.sink)

    def abort(self) -> None:
        """Drop the rows written so far: openpyxl keeps them in a temporary file."""
        import os

        try:
            self.sheet.close()
            os.remove(self.sheet._writer.out)
        except (AttributeError, OSError, TypeError):
            pass
