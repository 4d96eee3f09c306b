"""`wineq show`: one run or registered version whole."""

from __future__ import annotations

from typing import Optional

import typer

from winequality.cli import context, render


def show(
    target: Optional[str] = typer.Argument(
        None,
        help="A run id (or its first 4+ characters), a run name (a DVC experiment's), "
        "NAME@ALIAS, NAME/VERSION or a version number [default: <model name>@champion].",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Show one run or registered version whole: lineage, params, metrics, plots.

    Example: wineq show wine-quality@champion
    """
    detail = context.service().show(target)
    if as_json:
        context.print_json(detail.as_dict())
        return
    render.print_detail(detail)
