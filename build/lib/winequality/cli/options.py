"""Options that more than one command reads wines with (infer, data add), defined once."""

from __future__ import annotations

from typing import Any

import typer


def color() -> Any:
    return typer.Option(None, "--color", help="red or white, for files without a color column.")


def input_format(whose: str = "The input's format when its name does not say") -> Any:
    return typer.Option(None, "--format", help=f"{whose}: csv, parquet, xlsx.")


def decimal() -> Any:
    return typer.Option(
        None,
        "--decimal",
        help="The decimal mark of a ;-separated CSV: , or . [default: told from the numbers].",
    )


def sheet() -> Any:
    return typer.Option(
        None, "--sheet", help="The sheet of an Excel workbook to read [default: the first]."
    )
