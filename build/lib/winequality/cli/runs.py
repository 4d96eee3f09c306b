"""`wineq runs`: the experiment's runs, a page at a time."""

from __future__ import annotations

import typer

from winequality.cli import context, render


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
    service = context.service()
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
        context.print_json([r.as_dict() for r in found.runs])
        return
    experiment = service.settings.experiment
    if not found.runs:
        if page > 1:
            typer.echo(f"No runs on page {page} of experiment {experiment!r}; try a lower --page.")
        else:
            typer.echo(f"No runs in experiment {experiment!r} yet; run `wineq train`.")
        return
    title = f"experiment {experiment}" + (f", page {page}" if page > 1 else "")
    render.print_table(render.runs_table(found.runs, title))
    if found.registry_hidden:
        typer.echo(f"Registered versions not shown: {found.registry_hidden}", err=True)
    if found.more:
        typer.echo(f"More runs: wineq runs --limit {limit} --page {page + 1}", err=True)
