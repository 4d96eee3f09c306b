"""`wineq data import` and `wineq data add`: the UCI files, and the lab's wines, into data.dvc."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from winequality.cli import context, options, render
from winequality.cli.app import ErrorReportingGroup
from winequality.errors import UsageError

data_app = typer.Typer(
    cls=ErrorReportingGroup,
    help="The project's wines: import the UCI files, add the lab's labelled wines.",
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
    stored, rows = context.service("data").import_data(source)
    typer.echo(f"Imported {rows:,} wines into data/wine-quality.csv (data.dvc md5 {stored.md5}).")
    then = (
        "Commit data.dvc to record this version."
        if stored.changed
        else ("data.dvc already records this version.")
    )
    typer.echo(f"Pushed to DVC remote {stored.remote!r}. {then}")


@data_app.command("add")
def data_add(
    files: list[str] = typer.Argument(
        ...,
        help="Labelled wines: CSV (UCI's ; or ,; compressed too), .parquet or .xlsx; paths, "
        "s3://bucket/key, https://...; - reads standard input.",
    ),
    color: Optional[str] = options.color(),
    conflicts: Optional[str] = typer.Option(
        None,
        "--conflicts",
        help="keep or skip the wines whose features and colour are in the data with another "
        "quality [default: refuse them, naming the first].",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Say what would be added; change nothing."
    ),
    commit: bool = typer.Option(
        False, "--commit", help="Commit data.dvc [default: stage it for your commit]."
    ),
    fmt: Optional[str] = options.input_format("The files' format when their names do not say"),
    decimal: Optional[str] = options.decimal(),
    sheet: Optional[str] = options.sheet(),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Add labelled wines to the data as a new version, pushed before data.dvc names it.

    Wines already in the data are skipped; every row is checked as `wineq infer` checks its
    input, and one bad row changes nothing.

    Example: wineq data add lab-2026-11.xlsx --conflicts skip --dry-run
    """
    from winequality.io.locations import is_remote  # standard library only
    from winequality.records import AddOptions

    if files.count("-") > 1:
        raise UsageError("- (standard input) can be given once")
    wines = [sys.stdin.buffer if f == "-" else f if is_remote(f) else Path(f) for f in files]
    options = AddOptions(color, conflicts, dry_run, commit, fmt, decimal, sheet)
    result = context.service("data").add_data(wines, options)
    if as_json:
        context.print_json(result.as_dict())
        return
    render.print_addition(result)


@data_app.command("log")
def data_log(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the data versions, newest first: md5, date, wines, what was added, the runs on each.

    Example: wineq data log
    """
    versions = context.service("data").data_log()
    if as_json:
        context.print_json([v.as_dict() for v in versions])
        return
    if not versions:
        typer.echo("No data versions yet; run `wineq data import`.")
        return
    render.print_table(render.data_log_table(versions))


@data_app.command("pull")
def data_pull(
    run_id: Optional[str] = typer.Option(
        None, "--run", help="The run whose data to restore (id or prefix)."
    ),
    version: Optional[str] = typer.Option(
        None, "--version", help="The data version to restore, by md5 (see `wineq data log`)."
    ),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Where to write it [default: ./wine-quality-<md5>.csv]."
    ),
) -> None:
    """Restore exactly the data a run trained on (or a version), by md5, from DVC.

    Works in a fresh clone, and after data.dvc has moved on; data/ is left as it is.

    Example: wineq data pull --run 3f2a91c0 --output trained-on.csv
    """
    md5, path, wines = context.service("data").pull_data_version(run_id, version, output)
    typer.echo(f"Wrote the data version {md5} ({wines:,} wines) to {path}.")
