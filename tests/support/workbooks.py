"""Workbooks as Excel saves them, made from openpyxl's for the tests."""

from __future__ import annotations

import zipfile
from pathlib import Path


def with_formula_error(path: Path, cell: str) -> None:
    """Make `cell` as Excel saves a formula that failed: the formula and its cached error."""
    with zipfile.ZipFile(path) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    xml = parts[sheet].decode()
    start = xml.index(f'<c r="{cell}"')
    end = xml.index("</c>", start) + 4
    parts[sheet] = (
        xml[:start] + f'<c r="{cell}" t="e"><f>1/0</f><v>#DIV/0!</v></c>' + xml[end:]
    ).encode()
    with zipfile.ZipFile(path, "w") as book:
        for name, data in parts.items():
            book.writestr(name, data)
