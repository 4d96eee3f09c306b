"""`wineq data import`: the UCI files into data.dvc."""

from __future__ import annotations

from typing import Optional

import typer

from winequality.cli import context
from winequality.cli.app import ErrorReportingGroup

data_app = typer.Typer(
    cls=ErrorReportingGroup,
    help="Get the UCI Wine Quality data into the project.",
    no_args_is_help=True,
)


@data_app.command("import")
def data_import(
    source: Optional[str] = typer.Option(
        None,
        "--source",
        help="URL or folder holding winequality-red.csv and winequality-white.csv "
        "[default: WINEQ_DATA_SOURCE, else UCI].",
    ),
) -> None:
    """Verify the UCI files, build data/wine-quality.csv, `dvc add` and push it.

    Example: wineq data import --source ~/Downloads/wine-quality
    """
    stored, rows = context.service().import_data(source)
    typer.echo(f"Imported {rows:,} wines into data/wine-quality.csv (data.dvc md5 {stored.md5}).")
    then = (
        "Commit data.dvc to record this version."
        if stored.changed
        else ("data.dvc already records this version.")
    )
    typer.echo(f"Pushed to DVC remote {stored.remote!r}. {then}")
