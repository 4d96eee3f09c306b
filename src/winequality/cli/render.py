"""Drawing results for people: tables, a run's details, progress bars. The only module of
wineq that imports rich."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

from winequality.domain.params import knobs
from winequality.records import TEST_METRICS
from winequality.schema import COLORS, UNUSUAL


def new_console(stderr: bool = False):
    """A console for stdout (or stderr). Into a pipe or file, lines are never wrapped: a
    value cut in two is no use to the program reading it."""
    from rich.console import Console

    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal:
        console.width = 100_000
    return console


def fixed_decimals(values) -> list[str]:
    """A column's numbers with one number of decimals, the most any of them needs (at most
    6), so that they line up: 5.6510 under 5.0718, not 5.651. Other columns as they are."""
    import math
    import numbers

    def is_real(value) -> bool:
        return isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)

    def decimals(value: float) -> int:
        text = repr(float(value))
        return 0 if "e" in text or not math.isfinite(value) else len(text.split(".")[1].rstrip("0"))

    if not any(is_real(v) for v in values):
        return [str(v) for v in values]
    places = min(6, max(decimals(v) for v in values if is_real(v)))
    return [f"{v:.{places}f}" if is_real(v) else str(v) for v in values]


def progress(console, label: str, *columns):
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


def runs_table(runs, title: str, numbered: bool = False):
    """The runs as a table; `numbered` adds a row number to pick by (`register --manual`)."""
    from rich.table import Table

    rows = [
        (
            *([str(number)] if numbered else []),
            r.run_id[:8],
            (r.start or "")[:19].replace("T", " "),
            f"{r.status} (process gone)" if r.process_gone else r.status,
            _data_label(r.data_md5, r.wines),
            "" if r.n_test is None else f"{r.n_test:,}",
            "" if r.epochs is None else str(r.epochs),
            "" if r.rmse is None else f"{r.rmse:.4f}",
            "" if r.mae is None else f"{r.mae:.4f}",
            "" if r.coverage_80 is None else f"{r.coverage_80:.1%}",
            " ".join(r.registered),
        )
        for number, r in enumerate(runs, start=1)
    ]
    table = Table(title=title)
    names: tuple[str, ...] = (
        "run", "start (UTC)", "status", "data", "test", "epochs", "rmse", "mae", "in 80%",
        "registered",
    )  # fmt: skip
    if numbered:
        names = ("#", *names)
    for i, column in enumerate(names):
        if column in ("#", "run", "test", "epochs", "rmse", "mae", "in 80%"):  # never cut
            width = max([len(column), *(len(row[i]) for row in rows)])
            table.add_column(column, no_wrap=True, min_width=width)
        else:
            table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _data_label(md5: Optional[str], wines: Optional[int]) -> str:
    """A data version as a table shows it: its md5's first 8 characters and its wines."""
    if not md5:
        return ""
    return md5[:8] + (f" ({wines:,})" if wines is not None else "")


def natural_width(console, table) -> int:
    """The width `table` takes when nothing limits it."""
    return console.measure(table, options=console.options.update(max_width=10_000)).maximum


def print_table(table, console=None) -> None:
    """On a terminal, fit its width; into a pipe or file, print the table whole."""
    console = console or new_console()
    if not console.is_terminal:
        console.width = max(console.width, natural_width(console, table))
    console.print(table)


def print_predictions(frame, title: str, ids: Optional[list] = None) -> None:
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
        flags = [i for i, p in enumerate(positions) if frame.columns[p] == UNUSUAL]
        part = frame.iloc[:, positions]
        columns = [fixed_decimals(part.iloc[:, i].tolist()) for i in range(part.shape[1])]
        for number, values in enumerate(part.itertuples(index=False), start=1):
            # NaN: an empty cell
            cells = ["" if pd.isna(v) else columns[i][number - 1] for i, v in enumerate(values)]
            for i in flags:  # an unusual wine stands out; the others stay quiet
                flag = values[i]
                cells[i] = "[bold yellow]yes[/]" if not pd.isna(flag) and bool(flag) else ""
            table.add_row(*([str(number)] if numbered else []), *cells)
        return table

    console = new_console()
    table = table_of(list(range(frame.shape[1])), numbered=False)
    if console.is_terminal and natural_width(console, table) > console.width:
        from winequality.schema import COLOR, OUTPUTS, TARGET

        wanted = (COLOR, TARGET, *OUTPUTS)
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
    print_table(table, console)


def utc_time(millis: Optional[int]) -> str:
    from datetime import datetime, timezone

    if not millis:
        return "-"
    return datetime.fromtimestamp(millis / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def human_size(count: float) -> str:
    if count < 1000:
        return f"{count:,.0f} B"
    if count < 1_000_000:
        return f"{count / 1000:,.1f} kB"
    return f"{count / 1_000_000:,.1f} MB"


def artifact_place(uri: str) -> str:
    """A file URI as the path a user can open; any other URI as it is."""
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    parts = urlsplit(uri)
    return url2pathname(parts.path) if parts.scheme == "file" else uri


def print_coverage(console, metrics: dict[str, float]) -> None:
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


def print_detail(detail) -> None:
    """One run whole: what it is, lineage, parameters, metrics per colour, where its plots are."""
    console = new_console()
    run = detail.run
    _print_heading(console, detail)
    console.print(_facts_table(run))
    console.print(_params_table(run))
    console.print(_metrics_table(run))
    print_coverage(console, run.metrics)
    _print_training_ranges(console, run.lineage.get("training_ranges"))
    _print_artifacts(console, detail)
    if detail.ui_url:
        console.print(f"MLflow UI: {detail.ui_url}", markup=False, soft_wrap=True)


def _print_heading(console, detail) -> None:
    """The version (if one is shown), the run, how long it took, what it was registered as."""
    run = detail.run
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
        f"{utc_time(run.start_time)} UTC{took}"
    )
    if detail.registered:
        console.print("Registered as " + ", ".join(detail.registered))


def _print_training_ranges(console, recorded: Optional[str]) -> None:
    """The training wines' range per feature and the unusual-wine rule the model uses."""
    import json

    from rich.table import Table

    if not recorded:
        console.print("No training ranges recorded: the model was saved before wineq kept them.")
        return
    found = json.loads(recorded)
    table = Table(
        title=f"what the model learned from: {found['wines']:,} wines", title_justify="left"
    )
    table.add_column("feature")
    table.add_column("lowest", justify="right")
    table.add_column("highest", justify="right")
    for feature, (low, high) in found["ranges"].items():
        table.add_row(feature, f"{low:g}", f"{high:g}")
    console.print(table)
    rule = "outside one of these ranges"
    if found.get("unusual_distance") is not None:
        rule += (
            f", or its {found['neighbours']} nearest training wines are farther than "
            f"{found['unusual_distance']:.3f} on average (standardised inputs; beyond "
            f"{found['share']:.0%} of validation wines)"
        )
    console.print(f"  A wine is unusual when it lies {rule}.", markup=False, soft_wrap=True)


def _facts_table(run):
    """The run's lineage: code, data, model bytes, remote, MLflow Model, split."""
    from rich.table import Table

    lineage = run.lineage
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column(overflow="fold")
    dirty = " (uncommitted changes)" if lineage.get("git_dirty") == "true" else ""
    rows = [
        ("git commit", lineage.get("git_commit", "-") + dirty),
        ("data", f"{lineage.get('data_path', 'data/wine-quality.csv')} md5 "
                 f"{lineage.get('data_md5', '-')}{_wines_of(run.params)}"),
        ("model", f"{lineage.get('model_path', '-')} md5 {lineage.get('model_md5', '-')}"),
        ("DVC remote", lineage.get("dvc_remote", "-")),
        ("MLflow model", lineage.get("mlflow_model_id", "-")),
        ("DVC experiment", lineage.get("dvc_experiment", "-")),
        ("split", f"seed {run.params.get('split_seed', '-')} ({_rule_of(run.params)}): "
                  f"{run.params.get('n_train', '-')} "
                  f"train, {run.params.get('n_val', '-')} validation, "
                  f"{run.params.get('n_test', '-')} test wines"),
    ]  # fmt: skip
    for key, value in rows:
        facts.add_row(key, value)
    return facts


def _wines_of(params: dict[str, str]) -> str:
    parts = [params.get(f"n_{part}", "") for part in ("train", "val", "test")]
    if not all(p.isdigit() for p in parts):
        return ""
    return f" ({sum(int(p) for p in parts):,} wines)"


def _rule_of(params: dict[str, str]) -> str:
    """How the run split its wines: by each wine's own hash, or (older runs) by a seeded
    permutation of the groups of identical wines, which depended on the other wines."""
    return params.get("split_rule") or "groups permuted, before wine-hash splits"


def _params_table(run):
    """The run's hyper-parameters, in the order `wineq train --help` lists them."""
    from rich.table import Table

    params = Table(title="parameters", title_justify="left", show_header=False)
    params.add_column(style="bold")
    params.add_column()
    for key in (name for name, _ in knobs()):
        if key in run.params:
            params.add_row(key, run.params[key])
    return params


def _metrics_table(run):
    """The test metrics for all wines and each colour."""
    from rich.table import Table

    metrics = Table(title="held-out test metrics", title_justify="left")
    metrics.add_column("wines")
    for _, label in TEST_METRICS:
        metrics.add_column(label, justify="right")
    for group in ("all", *COLORS):
        suffix = "" if group == "all" else f"_{group}"
        values = [run.metrics.get(f"test_{m}{suffix}") for m, _ in TEST_METRICS]
        if any(v is not None for v in values):
            metrics.add_row(group, *("-" if v is None else f"{v:.4f}" for v in values))
    if "best_epoch" in run.metrics:
        metrics.caption = f"kept epoch {run.metrics['best_epoch']:.0f}"
    return metrics


def _print_artifacts(console, detail) -> None:
    """Where the run's plots are, and its artifacts in all (or why they cannot be listed)."""
    where = artifact_place(detail.run.artifact_uri)
    plots = [(path, size) for path, size in detail.artifacts if path.startswith("plots/")]
    if plots:
        console.print("[bold]plots[/bold]", markup=True)
        for path, size in plots:
            console.print(f"  {where}/{path}  ({human_size(size)})", markup=False, soft_wrap=True)
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
            f"{len(detail.artifacts)} artifacts, {human_size(total)}, in {where}",
            markup=False,
            soft_wrap=True,
        )


@contextmanager
def epoch_progress(epochs: int) -> Iterator[Callable[[int, float, float], None]]:
    """A bar of the epochs trained and their losses, on a terminal; the callback that moves
    it, given (epoch, training loss, validation loss) after each epoch."""
    from rich.progress import MofNCompleteColumn, TextColumn

    bar = None
    console = new_console(stderr=True)
    if console.is_terminal:
        bar = progress(
            console,
            "training",
            MofNCompleteColumn(),
            TextColumn("epochs  train {task.fields[train]:.4f}  val {task.fields[val]:.4f}"),
        )
        task = bar.add_task("train", total=epochs, train=float("nan"), val=float("nan"))

    def on_epoch(epoch: int, train_loss: float, val_loss: float) -> None:
        if bar is not None:
            if epoch == 1:
                bar.start()  # only once data and tracking are ready
            bar.update(task, completed=epoch, train=train_loss, val=val_loss)

    try:
        yield on_epoch
    finally:
        if bar is not None:
            bar.stop()


@contextmanager
def file_progress(wines) -> Iterator[Callable[[int, int], None]]:
    """A bar of the bytes of a local file read so far, on a terminal; the callback that moves
    it, given (rows, bytes read) after each chunk."""
    bar = None
    console = new_console(stderr=True)
    if console.is_terminal and isinstance(wines, Path) and wines.is_file():
        from rich.progress import DownloadColumn, TextColumn

        bar = progress(
            console, "predicting", DownloadColumn(), TextColumn("{task.fields[rows]:,} wines")
        )
        task = bar.add_task("infer", total=wines.stat().st_size, rows=0, start=False)

    def on_chunk(rows: int, offset: int) -> None:
        if bar is not None:
            if not bar.live.is_started:  # shown once the model is resolved and fetched
                bar.start()
                bar.start_task(task)
            bar.update(task, completed=offset, rows=rows)

    try:
        yield on_chunk
    finally:
        if bar is not None:
            bar.stop()


def print_inference(result) -> None:
    """What `wineq infer` says after predicting: the table on a terminal, notes on stderr."""
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
        print_predictions(result.frame, title, result.id_columns)
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
    if result.trust is not None:
        for line in trust_lines(result.trust, result.model.label):
            typer.echo(line, err=True)
    if result.metrics:
        typer.echo(labelled_scores(result.metrics), err=True)


def trust_lines(trust, label: str) -> list[str]:
    """How far the batch's predictions can be trusted: its expected RMSE, its unusual
    wines, the drift report written."""
    lines = []
    if trust.expected_rmse is not None:
        test = f" (test wines: {trust.test_rmse:.2f})" if trust.test_rmse is not None else ""
        lines.append(
            f"Expected RMSE on these wines {trust.expected_rmse:.2f}{test}, from each wine's "
            "calibrated uncertainty."
        )
    if trust.unusual is None:
        lines.append(
            f"{label} keeps no summary of its training wines (saved before wineq kept one), "
            "so unfamiliar wines are not flagged; a model trained now flags them."
        )
    elif trust.unusual:
        rows = ", ".join(f"{row:,}" for row in trust.unusual_rows)
        more = ", …" if trust.unusual > len(trust.unusual_rows) else ""
        lines.append(
            f"{trust.unusual:,} of {trust.wines:,} wines are unlike any the model trained on: "
            f"rows {rows}{more} (column unusual); trust their predictions less."
        )
    elif trust.wines:
        lines.append(f"All {trust.wines:,} wines are like wines the model trained on.")
    if trust.reports:
        lines.append("Drift report: " + " and ".join(trust.reports) + ".")
    return lines


def labelled_scores(m: dict) -> str:
    """What the quality column says, never mistaking training wines for test wines."""
    everything = f"RMSE {m['rmse']:.4f}, MAE {m['mae']:.4f}"
    if "trained_unknown" in m:
        return (
            f"Against the quality column: {everything} (which of these wines the model "
            f"trained on is unknown: {m['trained_unknown']})."
        )
    wines, unseen, trained = m["wines"], m["unseen"], m["trained_on"]
    if not trained:
        return f"Against the quality column, on {wines:,} wines the model never trained on: {everything}."
    if not unseen:
        return (
            f"Against the quality column: the model trained on all {wines:,} of these wines, "
            f"so {everything} is a training score, not a test score."
        )
    return (
        f"Against the quality column: the model trained on {trained:,} of these {wines:,} "
        f"wines. On the {unseen:,} others: RMSE {m['rmse_unseen']:.4f}, MAE "
        f"{m['mae_unseen']:.4f}; on all {wines:,}, training wines included: {everything}."
    )


def versions_table(versions):
    """Registered versions to pick from: number, aliases, run, model md5."""
    from rich.table import Table

    table = Table(title=f"registered versions of {versions[0].name}")
    for column in ("version", "aliases", "run", "model md5"):
        table.add_column(column)
    for v in versions:
        table.add_row(
            v.version, " ".join(v.aliases), (v.run_id or "")[:8], v.lineage.get("model_md5", "")
        )
    return table


def print_addition(result) -> None:
    """What `wineq data add` did (or would do), and the commit that records it."""
    added = result.added.get("wines", 0)
    colours = ", ".join(f"{c} {result.added.get(c, 0):,}" for c in COLORS if c in result.added)
    lines = [
        f"Read {result.read:,} wines from {', '.join(result.files)}: {added:,} new"
        + (f" ({colours})" if colours else "")
        + f", {result.duplicates:,} already in the data."
    ]
    if result.conflicts:
        verb = {True: "added", False: "skipped", None: "pass --conflicts keep or skip"}
        lines.append(f"Wines whose quality contradicts the data's ({verb[result.conflicts_kept]}):")
        lines += [f"  {line}" for line in result.conflicts]
    for line in lines:
        typer.echo(line, err=True)
    if not added:
        typer.echo("Nothing new to add; the data is as it was.")
    elif result.stored is None:
        typer.echo(
            f"Would add {added:,} wines: a new data version of {result.version['wines']:,} wines "
            "(nothing changed; run it again without --dry-run)."
        )
    else:
        typer.echo(
            f"Added {added:,} wines: data.dvc names md5 {result.stored.md5} "
            f"({result.version['wines']:,} wines), pushed to DVC remote {result.stored.remote!r}."
        )
        if result.commit:
            typer.echo(f"Committed data.dvc as {result.commit[:12]}.")
        else:
            typer.echo(
                f"data.dvc is staged in git: git commit -m {result.commit_message()!r} data.dvc"
            )


def data_log_table(versions):
    """The data versions: md5, date, wines per colour, added, source, commit, runs."""
    from rich.table import Table

    table = Table(title="data versions, newest first")
    for column in ("md5", "date", "wines", "added", "from", "commit", "runs"):
        table.add_column(column, overflow="fold", no_wrap=column in ("md5", "date"))
    for v in versions:
        runs = " ".join(run[:8] for run in v.runs[:3])
        table.add_row(
            v.md5[:12],
            (v.date or "")[:10],
            _counted(v.wines),
            _counted(v.added),
            ", ".join(v.source),
            (v.commit or "")[:8] or v.subject,
            f"{len(v.runs)}: {runs}{' ...' if len(v.runs) > 3 else ''}" if v.runs else "",
        )
    return table


def _counted(counts: dict) -> str:
    """{"wines": 6500, "red": 1602, ...} as "6,500 (red 1,602, white 4,898)"."""
    if not counts:
        return ""
    colours = ", ".join(f"{c} {counts[c]:,}" for c in COLORS if c in counts)
    return f"{counts.get('wines', 0):,}" + (f" ({colours})" if colours else "")


def checks_table(checks):
    """`wineq check`: each registered version's model and data bytes in the remote."""
    from rich.table import Table

    table = Table(title="registered versions' bytes in the DVC remote")
    for column in ("version", "run", "model md5", "model", "data md5", "data"):
        table.add_column(column, no_wrap=True)
    for c in checks:
        table.add_row(c.label, c.run_id[:8], c.model_md5[:12], c.model, c.data_md5[:12], c.data)
    return table


def garbage_table(collection):
    """`wineq gc`: the model objects it removed (or would remove), their size and runs."""
    from rich.table import Table

    verb = "removed" if collection.removed else "would remove"
    table = Table(title=f"model bytes wineq gc {verb}: {human_size(collection.bytes)}")
    for column in ("model md5", "size", "deleted runs", "copies"):
        table.add_column(column, overflow="fold")
    for g in collection.garbage:
        runs = " ".join(r[:8] for r in g.runs) or "(removed by mlflow gc)"
        table.add_row(g.md5, human_size(g.size), runs, ", ".join(g.where))
    return table


def _share(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:.1%}"


def comparison_table(result):
    """Each model's scores on the shared wines, overall and per colour."""
    from rich.table import Table

    table = Table(title=f"{result.wines:,} wines none of the models trained on")
    for column in ("model", "wines", "RMSE", "MAE", "within 0.5", "80% coverage"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for m in result.models:
        for part, s in m.scores.items():
            name = m.label if part == "all" else f"  {part}"
            table.add_row(
                name, f"{s['wines']:,}", f"{s['rmse']:.4f}", f"{s['mae']:.4f}",
                _share(s["within_0_5"]), _share(s["coverage"]),
            )  # fmt: skip
    return table


def print_comparison(result) -> None:
    """What `wineq compare` found: where the wines came from, the table, the verdicts."""
    console = new_console()
    left = (
        f"; {result.excluded:,} left out: a compared model trained on them"
        if result.excluded
        else ""
    )
    console.print(f"{result.offered:,} wines from {result.source}{left}.", markup=False)
    print_table(comparison_table(result), console)
    for m in result.models[1:]:
        d = m.difference
        console.print(
            f"{m.label} − {result.models[0].label}: RMSE {d['rmse']:+.4f} "
            f"(95% interval {d['low']:+.4f} to {d['high']:+.4f}, paired bootstrap of "
            f"{d['resamples']} draws) — {m.verdict}",
            markup=False,
        )
    for note in result.notes:
        typer.echo(f"Note: {note}", err=True)
    if result.recorded:
        where = result.ui_url or f"run {result.recorded}"
        typer.echo(f"Recorded in MLflow: {where}", err=True)


def print_model_detail(detail) -> None:
    """A registered model: its versions and where champion has been."""
    console = new_console()
    print_table(versions_table(detail.versions), console)
    if not detail.history:
        console.print("No moves of @champion recorded (made before wineq kept its history).")
        return
    from rich.table import Table

    table = Table(title="history of @champion, oldest first")
    for column in ("when (UTC)", "who", "from", "to", "how", "why"):
        table.add_column(column)
    for move in detail.history:
        table.add_row(
            move.at.replace("T", " ").rstrip("Z"), move.by, move.previous or "–", move.to,
            move.how, move.reason or "–",
        )  # fmt: skip
    print_table(table, console)
