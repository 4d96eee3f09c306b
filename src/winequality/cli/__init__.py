"""The `wineq` command: parse options, call the service once, render the result.

Only typer, the standard library, `errors` and `params` (plain dataclasses) are imported
here; settings (pydantic), torch, mlflow, dvc and pandas load inside the commands that
need them, so `--help` costs little more than importing typer (bench/startup.py).
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from typer.core import TyperGroup

from winequality import __version__
from winequality.domain.params import DEFAULTS, TrainParams, knobs, option, read_params_file
from winequality.errors import UsageError, WineqError
from winequality.records import TEST_METRICS

# typer 0.28 carries its own copy of click; its usage errors are the bases of BadParameter,
# whichever click typer uses.
_CLICK_USAGE_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


class _Group(TyperGroup):
    """Turns every WineqError into `Error: ...` on stderr and the error's exit code, and
    click's usage errors into the same one line with exit code 2."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except _CLICK_USAGE_ERROR as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # `wineq data`: the help, as usual
                raise
            where = exc.ctx.command_path if exc.ctx else ctx.command_path
            message = exc.format_message().rstrip(".")
            typer.echo(f"Error: {message} (see `{where} --help`)", err=True)
            raise typer.Exit(UsageError.exit_code) from None
        except BrokenPipeError:
            # the reader went away (`wineq infer - | head`): stop quietly, as Unix tools do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1) from None
        except WineqError as exc:
            if ctx.obj and ctx.obj.get("verbose"):
                raise
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("Error: interrupted", err=True)
            raise typer.Exit(130) from None


app = typer.Typer(
    cls=_Group,
    help="Predict wine quality with a PyTorch model whose every version is traceable: "
    "Git for code, DVC for data and model bytes, MLflow for runs and the registry.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
data_app = typer.Typer(
    cls=_Group, help="Get the UCI Wine Quality data into the project.", no_args_is_help=True
)
app.add_typer(data_app, name="data")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wineq {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show tracebacks of errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """wineq: train, register and use wine quality models with exact lineage."""
    ctx.obj = {"verbose": verbose}


def _service(**overrides):
    from winequality.settings import load_settings
    from winequality.workflows.service import WineService

    return WineService(load_settings(**overrides))


def _print_json(value) -> None:
    typer.echo(json.dumps(value, indent=2))


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _progress(console, label: str, *columns):
    """A transient progress bar on `console`: label, bar, `columns`, elapsed time."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn(label),
        BarColumn(),
        *columns,
        TimeElapsedColumn(),
        console=console,
        transient=True,
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
    stored, rows = _service().import_data(source)
    typer.echo(f"Imported {rows:,} wines into data/wine-quality.csv (data.dvc md5 {stored.md5}).")
    then = (
        "Commit data.dvc to record this version."
        if stored.changed
        else ("data.dvc already records this version.")
    )
    typer.echo(f"Pushed to DVC remote {stored.remote!r}. {then}")


def train(
    ctx: typer.Context,
    as_json: bool = False,
    params_file: Optional[Path] = None,
    report: Optional[Path] = None,
    **values,
) -> None:
    """Train on the DVC-tracked data, score on held-out wines, store the model, log the run.

    Example: wineq train --epochs 50 --seed 1
    """
    from rich.progress import MofNCompleteColumn, TextColumn

    base = None
    if params_file:  # checked as the file's values, so an error names the file's line
        base = TrainParams.from_text(
            read_params_file(params_file), name_of=lambda name: f"{params_file}: train.{name}"
        )
    given = {  # options given on the command line win over the file
        name: str(value)
        for name, value in values.items()
        if base is None or ctx.get_parameter_source(name).name != "DEFAULT"
    }
    params = TrainParams.from_text(given, base)
    service = _service()
    console = _console(stderr=True)
    progress = None
    if console.is_terminal:
        progress = _progress(
            console,
            "training",
            MofNCompleteColumn(),
            TextColumn("epochs  train {task.fields[train]:.4f}  val {task.fields[val]:.4f}"),
        )
        task = progress.add_task("train", total=params.epochs, train=float("nan"), val=float("nan"))

    def on_epoch(epoch: int, train_loss: float, val_loss: float) -> None:
        if progress is not None:
            if epoch == 1:
                progress.start()  # only once data and tracking are ready
            progress.update(task, completed=epoch, train=train_loss, val=val_loss)

    try:
        result = service.train(params, on_epoch, report_dir=report)
    finally:
        if progress is not None:
            progress.stop()
    if as_json:
        _print_json(result.as_dict())
        return
    m = result.metrics
    typer.echo(
        f"Run {result.run_id}: test RMSE {m['test_rmse']:.4f}, MAE {m['test_mae']:.4f}, "
        f"R² {m['test_r2']:.3f}, within 0.5: {m['test_within_0_5']:.1%} "
        f"({result.n_test:,} held-out wines; best epoch {result.best_epoch})"
    )
    for colour in ("red", "white"):
        if f"test_rmse_{colour}" in m:
            typer.echo(
                f"  {colour:5s} RMSE {m[f'test_rmse_{colour}']:.4f}, MAE {m[f'test_mae_{colour}']:.4f}"
            )
    typer.echo(
        f"Model {result.model_path} md5 {result.model_md5} stored in DVC and pushed; "
        f"run {result.run_id[:8]} in MLflow is its record (nothing to commit)."
    )


def _train_signature() -> inspect.Signature:
    """train's options, generated from params.TrainParams: one definition of each."""
    options = []
    for name, spec in knobs():
        default = getattr(DEFAULTS, name)
        kind = type(default) if isinstance(default, (int, float)) else str
        options.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=typer.Option(
                    default if kind is not str else spec.format(default),
                    option(name),
                    help=spec.help,
                ),
                annotation=kind,
            )
        )

    def keyword(name: str, annotation, option) -> inspect.Parameter:
        return inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation
        )

    context = inspect.Parameter(
        "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
    )
    extra = [
        keyword(
            "params_file",
            Optional[Path],
            typer.Option(
                None,
                "--params",
                help="A YAML file whose `train:` section sets the options (DVC's "
                "params.yaml); options given on the command line win.",
            ),
        ),
        keyword(
            "report",
            Optional[Path],
            typer.Option(
                None,
                "--report",
                help="Also write metrics.json and plot data into this folder (what "
                "dvc.yaml's stage declares for `dvc exp show` and `dvc plots`).",
            ),
        ),
        keyword("as_json", bool, typer.Option(False, "--json", help="Print the result as JSON.")),
    ]
    return inspect.Signature([context, *options, *extra])


train.__signature__ = _train_signature()
app.command()(train)


def _runs_table(runs, title: str, numbered: bool = False):
    """The runs as a table; `numbered` adds a row number to pick by (`register --manual`)."""
    from rich.table import Table

    rows = [
        (
            *([str(number)] if numbered else []),
            r.run_id[:8],
            (r.start or "")[:19].replace("T", " "),
            f"{r.status} (process gone)" if r.process_gone else r.status,
            "" if r.epochs is None else str(r.epochs),
            "" if r.rmse is None else f"{r.rmse:.4f}",
            "" if r.mae is None else f"{r.mae:.4f}",
            "" if r.coverage_80 is None else f"{r.coverage_80:.1%}",
            " ".join(r.registered),
        )
        for number, r in enumerate(runs, start=1)
    ]
    table = Table(title=title)
    names = ("run", "start (UTC)", "status", "epochs", "rmse", "mae", "in 80%", "registered")
    if numbered:
        names = ("#", *names)
    for i, column in enumerate(names):
        if column in ("#", "run", "epochs", "rmse", "mae", "in 80%"):  # never cut when narrow
            width = max([len(column), *(len(row[i]) for row in rows)])
            table.add_column(column, no_wrap=True, min_width=width)
        else:
            table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _natural_width(console, table) -> int:
    """The width `table` takes when nothing limits it."""
    return console.measure(table, options=console.options.update(max_width=10_000)).maximum


def _print_table(table, console=None) -> None:
    """On a terminal, fit its width; into a pipe or file, print the table whole."""
    console = console or _console()
    if not console.is_terminal:
        console.width = max(console.width, _natural_width(console, table))
    console.print(table)


def _ask(question: str) -> str:
    """One line typed by the user, the question on stderr (stdout may be a pipe or --json).

    End of input gives ""; Ctrl-C stays an interrupt (exit 130).
    """
    typer.echo(f"{question}: ", err=True, nl=False)
    line = sys.stdin.readline()
    if not line:
        typer.echo(err=True)  # end of input: the next message starts on its own line
    return line.strip()


def _pick_run(runs) -> str:
    """The run a user picks from the numbered table: a row number, or an id (prefix)."""
    answer = _ask("Run to register (row number, or run id or prefix)")
    if not answer:
        raise UsageError("no run chosen; type a row number or a run id, or use --run-id")
    if answer.isdigit() and len(answer) < 4:  # run id prefixes have at least 4 characters
        number = int(answer)
        if not 1 <= number <= len(runs):
            raise UsageError(f"row {number}: pick a row between 1 and {len(runs)}")
        return runs[number - 1].run_id
    return answer


@app.command()
def register(
    min_rmse: float = typer.Option(
        0.7, "--min-rmse", help="The test RMSE a run must reach (at or below) to be registered."
    ),
    run_id: Optional[str] = typer.Option(
        None, "--run-id", help="Register this run (id or prefix)."
    ),
    manual: bool = typer.Option(False, "--manual", help="Show the runs and ask which one."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Register the best run at or below --min-rmse as the champion (bytes stay in DVC).

    Example: wineq register --min-rmse 0.7
    """
    service = _service()
    if manual:
        runs = service.list_runs(limit=50).runs
        if not runs:
            raise WineqError("no runs yet; run `wineq train` first")
        _print_table(_runs_table(runs, "runs", numbered=True), _console(stderr=True))
        run_id = _pick_run(runs)
    result = service.register(min_rmse, run_id)
    if as_json:
        _print_json(result.as_dict())
        return
    v = result.version
    verb = "already registered as" if result.reused else "registered as"
    typer.echo(
        f"Run {result.run.run_id} (test RMSE {result.run.metrics['test_rmse']:.4f}) {verb} "
        f"{v.name}/{v.version}; @champion points at it."
    )
    typer.echo(f"Model bytes: DVC {v.lineage.get('model_path')} md5 {v.lineage.get('model_md5')}.")


def _pick_version(service) -> str:
    """A registered version picked from a table: a number, NAME/VERSION or NAME@ALIAS."""
    from rich.table import Table

    versions = service.model_choices()
    if not versions:
        raise WineqError("no registered versions yet; run `wineq register` first")
    table = Table(title=f"registered versions of {versions[0].name}")
    for column in ("version", "aliases", "run", "model md5"):
        table.add_column(column)
    for v in versions:
        table.add_row(
            v.version, " ".join(v.aliases), (v.run_id or "")[:8], v.lineage.get("model_md5", "")
        )
    _console(stderr=True).print(table)
    chosen = _ask(f"Version (number, NAME/VERSION or NAME@ALIAS) [{versions[0].version}]")
    return chosen or versions[0].version


@app.command()
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
    color: Optional[str] = typer.Option(
        None, "--color", help="red or white, for files without a color column."
    ),
    output: Optional[str] = typer.Option(
        None,
        "--output",
        "-o",
        help="Write the input plus predicted_quality, quality_low, quality_high, p_premium "
        "here: .csv (.csv.gz, ...), .parquet or .xlsx; a path or s3://bucket/key.",
    ),
    fmt: Optional[str] = typer.Option(
        None, "--format", help="The input's format when its name does not say: csv, parquet, xlsx."
    ),
    output_format: Optional[str] = typer.Option(
        None, "--output-format", help="The output's format when its name does not say."
    ),
    decimal: Optional[str] = typer.Option(
        None,
        "--decimal",
        help="The decimal mark of a ;-separated CSV: , or . [default: told from the numbers].",
    ),
    sheet: Optional[str] = typer.Option(
        None, "--sheet", help="The sheet of an Excel workbook to read [default: the first]."
    ),
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
) -> None:
    """Predict quality with a registered model, using exactly the bytes it was registered with.

    Each wine gets its predicted quality, an interval that holds its true score with the
    stated probability (calibrated on wines the model never trained on) and the chance
    that it is rated premium. Columns that are not model inputs (sample_id, ...) are kept
    as they came, in their place.

    Example: wineq infer wines.csv --model wine-quality/1 --interval 0.9 --output predictions.csv
    """
    if interactive and file == "-":
        raise UsageError("--interactive reads its answer from standard input; give a file, not -")
    service = _service()
    if interactive:
        model = _pick_version(service)
    from_stdin = file == "-"
    from winequality.io.locations import is_remote  # standard library only

    wines = sys.stdin.buffer if from_stdin else file if is_remote(file) else Path(file)
    if output is not None and not is_remote(output):  # an address stays one
        output = Path(output)
    on_terminal = output is None and sys.stdout.isatty()
    progress = None
    console = _console(stderr=True)
    if console.is_terminal and isinstance(wines, Path) and wines.is_file():
        from rich.progress import DownloadColumn, TextColumn

        progress = _progress(
            console, "predicting", DownloadColumn(), TextColumn("{task.fields[rows]:,} wines")
        )
        task = progress.add_task("infer", total=wines.stat().st_size, rows=0, start=False)

    def on_chunk(rows: int, offset: int) -> None:
        if progress is not None:
            if not progress.live.is_started:  # shown once the model is resolved and fetched
                progress.start()
                progress.start_task(task)
            progress.update(task, completed=offset, rows=rows)

    try:
        result = service.infer(
            wines,
            model=model,
            run_id=run_id,
            color=color,
            output=output,
            stream=None if (output or on_terminal) else sys.stdout,
            on_chunk=on_chunk,
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
        )
    finally:
        if progress is not None:
            progress.stop()
    if result.passthrough:
        typer.echo(
            "Kept as they came (not model inputs): " + ", ".join(result.passthrough) + ".",
            err=True,
        )
    if result.frame is not None:
        shown = len(result.frame)
        title = f"{result.rows:,} wines, model {result.model.label}"
        if shown < result.rows:
            title = f"the first {shown:,} of {title}"
        _print_predictions(result.frame, title, result.id_columns)
        if shown < result.rows:
            typer.echo(
                f"{result.rows - shown:,} more wines were predicted but not shown; "
                "--output FILE writes them all.",
                err=True,
            )
    note = f"Predicted {result.rows:,} wines with {result.model.label} (md5 {result.model.md5})"
    if result.output is not None:
        note += f" → {result.output}"
    typer.echo(note + ".", err=True)
    if result.interval is not None:
        typer.echo(
            f"quality_low..quality_high holds the true score with {result.interval * 100:g}% "
            f"probability; p_premium is the chance of quality {result.premium} or more.",
            err=True,
        )
    else:
        typer.echo(
            f"{result.model.label} has no intervals or p_premium: it was saved before wineq "
            "calibrated its models; a model trained now has them.",
            err=True,
        )
    if result.metrics:
        typer.echo(
            f"Against the quality column: RMSE {result.metrics['rmse']:.4f}, MAE {result.metrics['mae']:.4f}.",
            err=True,
        )


TABLE_ROWS = 100  # wines shown on a terminal; --output or a pipe gets every one


def _print_predictions(frame, title: str, ids: Optional[list] = None) -> None:
    """The wines and their predictions, the columns naming each wine (`ids`) first; where
    all columns do not fit the terminal, only those, the row number, colour, quality and
    predictions, whole, and a note on stderr."""
    import pandas as pd
    from rich.table import Table

    # by position: two pass-through columns may share a name
    first = [i for i, c in enumerate(frame.columns) if c in (ids or [])]
    frame = frame.iloc[:, first + [i for i in range(frame.shape[1]) if i not in first]]

    def table_of(positions: list[int], numbered: bool):
        table = Table(title=title)
        if numbered:
            table.add_column("row", justify="right", no_wrap=True)
        for position in positions:
            table.add_column(str(frame.columns[position]), no_wrap=True)
        shown = frame.iloc[:, positions].itertuples(index=False)
        for number, values in enumerate(shown, start=1):
            cells = ("" if pd.isna(v) else str(v) for v in values)  # NaN: an empty cell
            table.add_row(*([str(number)] if numbered else []), *cells)
        return table

    console = _console()
    table = table_of(list(range(frame.shape[1])), numbered=False)
    if console.is_terminal and _natural_width(console, table) > console.width:
        from winequality.schema import COLOR, PREDICTION, TARGET, UNCERTAINTY

        wanted = (COLOR, TARGET, PREDICTION, *UNCERTAINTY)
        names = list(frame.columns)
        kept = list(range(len(first))) + [
            names.index(c, len(first)) for c in wanted if c in names[len(first) :]
        ]
        table = table_of(kept, numbered=True)
        hidden = len(frame.columns) - len(kept)
        typer.echo(
            f"{hidden} columns are hidden to fit the terminal; --output FILE writes them all.",
            err=True,
        )
    _print_table(table, console)


@app.command()
def runs(
    limit: int = typer.Option(20, "--limit", help="Runs per page, newest first."),
    page: int = typer.Option(1, "--page", help="Page to show: 2 is the next --limit runs."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    close_gone: bool = typer.Option(
        False,
        "--close-gone",
        help="End as FAILED the RUNNING runs whose training process died on this machine.",
    ),
) -> None:
    """List the experiment's runs, newest first, with test metrics and registered versions.

    "in 80%" is the share of test wines whose true score fell inside their 80% interval.
    A run shown "RUNNING (process gone)" lost its trainer (killed, or the machine
    restarted); --close-gone ends such runs as FAILED.

    Example: wineq runs --limit 5 --page 2
    """
    service = _service()
    if close_gone:
        closed = service.close_gone_runs()
        if closed:
            typer.echo(
                f"Closed {len(closed)} run(s) whose training process is gone, as FAILED: "
                + ", ".join(closed),
                err=True,
            )
        else:
            typer.echo("No RUNNING run of this machine has lost its process.", err=True)
    found = service.list_runs(limit, page)
    if as_json:
        _print_json([r.as_dict() for r in found.runs])
        return
    experiment = service.settings.experiment
    if not found.runs:
        if page > 1:
            typer.echo(f"No runs on page {page} of experiment {experiment!r}; try a lower --page.")
        else:
            typer.echo(f"No runs in experiment {experiment!r} yet; run `wineq train`.")
        return
    title = f"experiment {experiment}" + (f", page {page}" if page > 1 else "")
    _print_table(_runs_table(found.runs, title))
    if found.registry_hidden:
        typer.echo(f"Registered versions not shown: {found.registry_hidden}", err=True)
    if found.more:
        typer.echo(f"More runs: wineq runs --limit {limit} --page {page + 1}", err=True)


def _when(millis: Optional[int]) -> str:
    from datetime import datetime, timezone

    if not millis:
        return "-"
    return datetime.fromtimestamp(millis / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _size(count: float) -> str:
    if count < 1000:
        return f"{count:,.0f} B"
    if count < 1_000_000:
        return f"{count / 1000:,.1f} kB"
    return f"{count / 1_000_000:,.1f} MB"


def _artifact_place(uri: str) -> str:
    """A file URI as the path a user can open; any other URI as it is."""
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    parts = urlsplit(uri)
    return url2pathname(parts.path) if parts.scheme == "file" else uri


def _print_coverage(console, metrics: dict[str, float]) -> None:
    """How often the run's intervals held the true score, per group of test wines."""
    from rich.table import Table

    from winequality.domain.calibration import LEVELS, coverage_rows

    rows = coverage_rows(metrics)
    if not rows:
        return
    tags = [round(level * 100) for level in LEVELS]
    table = Table(title="true score inside the interval", title_justify="left")
    table.add_column("test wines")
    for tag in tags:
        table.add_column(f"{tag}% interval", justify="right")
    for label, _, found in rows:
        table.add_row(label, *(f"{found[tag]:.1%}" for tag in tags))
    notes = [
        f"mean width {tag}%: {metrics[f'test_width_{tag}']:.2f}"
        for tag in tags
        if f"test_width_{tag}" in metrics
    ]
    if "test_brier_premium" in metrics:
        notes.append(
            f"p_premium Brier {metrics['test_brier_premium']:.4f} "
            f"(training share alone: {metrics['test_brier_premium_baseline']:.4f})"
        )
    console.print(table)
    for note in notes:
        console.print(f"  {note}", markup=False, soft_wrap=True)


def _print_detail(detail) -> None:
    """One run whole: what it is, lineage, parameters, metrics per colour, where its plots are."""
    from rich.table import Table

    console = _console()
    run, lineage = detail.run, detail.run.lineage
    if detail.version is not None:
        v = detail.version
        aliases = "".join(f" @{a}" for a in v.aliases)
        console.print(f"[bold]Version {v.label}{aliases}[/bold]")
        if v.description:
            first = v.description.splitlines()[0].replace("**", "").replace("`", "")
            console.print(first, markup=False)
    name = run.tags.get("mlflow.runName", "")
    seconds = (run.end_time - run.start_time) / 1000 if run.end_time and run.start_time else None
    took = f", {seconds:.0f} s" if seconds is not None else ""
    console.print(
        f"[bold]Run {run.run_id}[/bold] ({name}): {run.status}, started "
        f"{_when(run.start_time)} UTC{took}"
    )
    if detail.registered:
        console.print("Registered as " + ", ".join(detail.registered))

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column(overflow="fold")
    dirty = " (uncommitted changes)" if lineage.get("git_dirty") == "true" else ""
    rows = [
        ("git commit", lineage.get("git_commit", "-") + dirty),
        ("data", f"{lineage.get('data_path', 'data/wine-quality.csv')} md5 "
                 f"{lineage.get('data_md5', '-')}"),
        ("model", f"{lineage.get('model_path', '-')} md5 {lineage.get('model_md5', '-')}"),
        ("DVC remote", lineage.get("dvc_remote", "-")),
        ("MLflow model", lineage.get("mlflow_model_id", "-")),
        ("DVC experiment", lineage.get("dvc_experiment", "-")),
        ("split", f"seed {run.params.get('split_seed', '-')}: {run.params.get('n_train', '-')} "
                  f"train, {run.params.get('n_val', '-')} validation, "
                  f"{run.params.get('n_test', '-')} test wines"),
    ]  # fmt: skip
    for key, value in rows:
        facts.add_row(key, value)
    console.print(facts)

    params = Table(title="parameters", title_justify="left", show_header=False)
    params.add_column(style="bold")
    params.add_column()
    for key in (name for name, _ in knobs()):
        if key in run.params:
            params.add_row(key, run.params[key])
    console.print(params)

    metrics = Table(title="held-out test metrics", title_justify="left")
    metrics.add_column("wines")
    for _, label in TEST_METRICS:
        metrics.add_column(label, justify="right")
    for group in ("all", "red", "white"):
        suffix = "" if group == "all" else f"_{group}"
        values = [run.metrics.get(f"test_{m}{suffix}") for m, _ in TEST_METRICS]
        if any(v is not None for v in values):
            metrics.add_row(group, *("-" if v is None else f"{v:.4f}" for v in values))
    if "best_epoch" in run.metrics:
        metrics.caption = f"kept epoch {run.metrics['best_epoch']:.0f}"
    console.print(metrics)
    _print_coverage(console, run.metrics)

    plots = [(path, size) for path, size in detail.artifacts if path.startswith("plots/")]
    where = _artifact_place(run.artifact_uri)
    if plots:
        console.print("[bold]plots[/bold]", markup=True)
        for path, size in plots:
            console.print(f"  {where}/{path}  ({_size(size)})", markup=False, soft_wrap=True)
    elif not detail.artifacts_unavailable:
        console.print("no plots (a run from before wineq logged them)")
    if detail.artifacts_unavailable:
        console.print(
            f"artifacts in {where} unavailable: {detail.artifacts_unavailable}",
            markup=False,
            soft_wrap=True,
        )
    else:
        total = sum(size for _, size in detail.artifacts)
        console.print(
            f"{len(detail.artifacts)} artifacts, {_size(total)}, in {where}",
            markup=False,
            soft_wrap=True,
        )
    if detail.ui_url:
        console.print(f"MLflow UI: {detail.ui_url}", markup=False, soft_wrap=True)


@app.command()
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
    detail = _service().show(target)
    if as_json:
        _print_json(detail.as_dict())
        return
    _print_detail(detail)


# The design card called the listing `list-runs`; both names work, `runs` is documented.
app.command("list-runs", hidden=True)(runs)
