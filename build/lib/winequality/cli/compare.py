"""`wineq compare`: models scored on the same wines, none of them trained on."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from winequality.cli import context, render


def compare(
    models: Optional[list[str]] = typer.Argument(
        None,
        help="Runs (id or 4+ first characters), NAME/VERSION, NAME@ALIAS or version numbers; "
        "each is compared with the first [default: @champion and the newest finished run].",
    ),
    data: Optional[Path] = typer.Option(
        None,
        "--data",
        help="Labelled wines to compare on (any format infer reads) "
        "[default: the current data version's].",
    ),
    include_trained: bool = typer.Option(
        False,
        "--include-trained",
        help="Keep the wines a compared model trained on (counted either way).",
    ),
    color: Optional[str] = typer.Option(
        None, "--color", help="The colour of every wine of --data, when it has no colour column."
    ),
    fmt: Optional[str] = typer.Option(None, "--format", help="The format of --data."),
    record: bool = typer.Option(
        True, "--record/--no-record", help="Record the comparison in MLflow."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Compare models on the same wines: RMSE, MAE, within 0.5, 80% coverage, and whether
    each is better than the first (95% paired bootstrap interval).

    Example: wineq compare @champion 3f2a9c1d
    """
    from winequality.records import CompareOptions

    service = context.service()
    options = CompareOptions(
        data=data,
        include_trained=include_trained,
        color=color,
        fmt=fmt,
        record=record,
    )
    result = service.compare(list(models or []), options)
    if as_json:
        context.print_json(result.as_dict())
        return
    render.print_comparison(result)
