"""Excel workbooks (io/formats/excel.py), read through `open_input` from small workbooks
written with openpyxl: the header found below a title, a sheet picked by name, each bad
cell named by its letter and row."""

from __future__ import annotations

import openpyxl
import pytest

from tests.support.project import FIRST_RED
from tests.support.workbooks import with_formula_error
from winequality.errors import DataError
from winequality.io.formats import open_input
from winequality.schema import FEATURES

HEADER = ["sample_id", *FEATURES, "color"]
ALCOHOL = openpyxl.utils.get_column_letter(HEADER.index("alcohol") + 1)  # "L"
TITLE = "Lab results, harvest 2026"


def wine(i: int) -> list:
    return [f"S-{i}", *[round(v + i / 1000, 4) for v in FIRST_RED], "red"]


def workbook(path, rows: int = 4, *, title: bool = True, before=(), edit=None):
    """The wines on sheet Results, below a title row and a blank one when `title`; sheets
    named in `before` come first and hold a note only; `edit(sheet)` changes cells."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in before:
        book.create_sheet(name).append(["See the Results sheet"])
    sheet = book.create_sheet("Results")
    if title:
        sheet.append([TITLE])
        sheet.append([])
    sheet.append(HEADER)
    for i in range(rows):
        sheet.append(wine(i))
    if edit:
        edit(sheet)
    book.save(path)
    return path


def read(path, **options):
    with open_input(path, **options) as reader:
        return reader, list(reader.chunks(None))


def test_the_header_is_found_below_title_rows(tmp_path):
    reader, [chunk] = read(workbook(tmp_path / "lab.xlsx"))
    assert reader.format == "xlsx" and reader.sheet_name == "Results"
    assert (reader.header_row, reader.columns) == (3, HEADER)
    assert reader.preamble == [(TITLE,), ()]  # kept, to be written back above the header
    assert chunk.frame["fixed acidity"].tolist() == [7.4, 7.401, 7.402, 7.403]
    assert chunk.frame["alcohol"].tolist() == [9.4, 9.401, 9.402, 9.403]
    assert chunk.original["sample_id"].tolist() == ["S-0", "S-1", "S-2", "S-3"]


def test_a_sheet_is_picked_by_name_and_a_missing_one_lists_the_sheets(tmp_path):
    path = workbook(tmp_path / "lab.xlsx", before=("Summary",))
    reader, [chunk] = read(path, sheet="Results")
    assert len(chunk.frame) == 4
    with pytest.raises(DataError) as missing:
        open_input(path, sheet="Nope")
    assert str(missing.value) == f"{path} has no sheet 'Nope'; its sheets: 'Summary', 'Results'"
    with pytest.raises(DataError) as first:
        open_input(path)  # the first sheet holds a note, not wines
    assert str(first.value) == (
        f"{path}, sheet 'Summary': no header row naming the 11 UCI features in its first 30 "
        "rows; put the column names in one row above the wines (or pick the sheet with --sheet)"
    )


def test_a_text_value_in_a_feature_names_its_row_and_cell(tmp_path):
    def edit(sheet):
        sheet[f"{ALCOHOL}6"] = "n/a"  # the third wine: rows 1-2 title, 3 header

    path = workbook(tmp_path / "text.xlsx", edit=edit)
    with pytest.raises(DataError) as bad:
        read(path)
    assert str(bad.value) == (
        f"{path}, sheet 'Results': column 'alcohol', row 3 (cell {ALCOHOL}6) has 'n/a', "
        "not a number"
    )


def test_a_formula_error_in_a_cell_says_to_fix_the_formula(tmp_path):
    path = workbook(tmp_path / "error.xlsx", title=False)
    with_formula_error(path, f"{ALCOHOL}5")
    with pytest.raises(DataError) as bad:
        read(path)
    assert str(bad.value) == (
        f"{path}, sheet 'Results': column 'alcohol', row 4 (cell {ALCOHOL}5) has '#DIV/0!', "
        "the error of a formula; fix the formula in the workbook and save it again"
    )


def test_a_formula_saved_without_its_value_says_to_calculate_it(tmp_path):
    def edit(sheet):
        sheet[f"{ALCOHOL}3"] = "=12/1"  # openpyxl saves the formula, never its value

    path = workbook(tmp_path / "formula.xlsx", title=False, edit=edit)
    with pytest.raises(DataError) as bad:
        read(path)
    assert str(bad.value) == (
        f"{path}, sheet 'Results': cell {ALCOHOL}3 ('alcohol') holds the formula =12/1 with "
        "no value saved; open the workbook in Excel or LibreOffice and save it, so its "
        "formulas are calculated"
    )


def test_a_header_without_wines_is_one_line(tmp_path):
    path = workbook(tmp_path / "empty.xlsx", rows=0)
    with pytest.raises(DataError) as bad:
        read(path)
    assert str(bad.value) == (
        f"{path}, sheet 'Results' has a header row but no wines; give at least one"
    )


def test_a_cut_workbook_is_not_readable(tmp_path):
    whole = workbook(tmp_path / "whole.xlsx")
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[:2000])
    with pytest.raises(DataError) as bad:
        open_input(cut)
    message = str(bad.value)
    assert message.startswith(f"{cut} is not a readable .xlsx workbook (")
    assert message.endswith(
        "open it in Excel and save it again as .xlsx, or export the sheet as CSV"
    )
