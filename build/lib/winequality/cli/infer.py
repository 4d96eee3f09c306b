"""`wineq infer`: predict a file of wines with exactly a registered model's bytes."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Optional

import typer

from winequality.cli import context, options, prompts, render
from winequality.errors import UsageError

TABLE_ROWS = 100  # wines shown on a terminal; --output or a pipe gets every one


def infer(
    file: str = typer.Argument(
        ...,
        help="Wines: CSV (UCI's ; or ,; .gz/.bz2/.xz/.zst too), .parquet or .xlsx; a path, "
        "s3://bucket/key, https://...; - reads standard input.",
    ),
    model: Optional[str] = typer.Option(
        None,
        "--model",
        help="NAME@ALIAS, NAME/VERSION or a version number [default: <model name>@champion].",
    ),
    run_id: Optional[str] = typer.Option(None, "--run-id", help="Use the model of this run."),
    interactive: bool = typer.Option(False, "--interactive", help="Pick a registered version."),
    color: Optional[str] = options.color(),
    output: Optional[str] = typer.Option(
        None,
        "--output",
        "-o",
        help="Write the input plus predicted_quality, quality_low, quality_high, p_premium, "
        "unusual here: .csv (.csv.gz, ...), .parquet or .xlsx; a path or s3://bucket/key.",
    ),
    fmt: Optional[str] = options.input_format(),
    output_format: Optional[str] = typer.Option(
        None, "--output-format", help="The output's format when its name does not say."
    ),
    decimal: Optional[str] = options.decimal(),
    sheet: Optional[str] = options.sheet(),
    interval: Optional[float] = typer.Option(
        None,
        "--interval",
        help="Level of each wine's interval quality_low..quality_high: the share of true "
        "scores it holds [default: 0.8, or WINEQ_INTERVAL].",
    ),
    premium: Optional[int] = typer.Option(
        None,
        "--premium",
        help="p_premium is the chance of this score or more [default: 7, or WINEQ_PREMIUM].",
    ),
    report: Optional[Path] = typer.Option(
        None,
        "--report",
        help="Write how far these wines drift from the model's training wines (PSI and KS per "
        "feature, unusual wines, expected RMSE) as JSON; a name ending in .md gets Markdown "
        "and the JSON beside it.",
    ),
) -> None:
    """Predict quality with a registered model, using exactly the bytes it was registered with.

    Each wine gets its predicted quality, an interval that holds its true score with the
    stated probability (calibrated on wines the model never trained on), the chance that
    it is rated premium, and whether it is unlike any wine the model trained on (unusual).
    The batch's expected RMSE is estimated before any label arrives. Columns that are not model inputs (sample_id, ...) are kept
    as they came, in their place.

    Example: wineq infer wines.csv --model wine-quality/1 --interval 0.9 --output predictions.csv
    """
    if interactive and file == "-":
        raise UsageError("--interactive reads its answer from standard input; give a file, not -")
    service = context.service()
    if interactive:
        model = prompts.pick_version(service)
    from winequality.io.locations import is_remote  # standard library only
    from winequality.records import InferOptions

    wines = sys.stdin.buffer if file == "-" else file if is_remote(file) else Path(file)
    # an address stays one
    target = output if output is None or is_remote(output) else Path(output)
    on_terminal = target is None and sys.stdout.isatty()
    options = InferOptions(
        model=model,
        run_id=run_id,
        color=color,
        output=target,
        stream=None if (target or on_terminal) else sys.stdout,
        keep=TABLE_ROWS,
        # a fresh process looks the model up in a child while torch loads; after
        # --interactive, MLflow is loaded here already
        lookup="here" if interactive else "process",
        interval=interval,
        premium=premium,
        fmt=fmt,
        decimal=decimal,
        sheet=sheet,
        output_format=output_format,
        report=report,
    )
    with render.file_progress(wines) as on_chunk:
        result = service.infer(wines, replace(options, on_chunk=on_chunk))
    render.print_inference(result)
