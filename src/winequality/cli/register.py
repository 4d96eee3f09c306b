"""`wineq register`: the best run at or below the bar becomes the champion."""

from __future__ import annotations

from typing import Optional

import typer

from winequality.cli import context, prompts, render
from winequality.errors import WineqError
from winequality.records import ALIAS


def register(
    min_rmse: float = typer.Option(
        0.7, "--min-rmse", help="The test RMSE a run must reach (at or below) to be registered."
    ),
    run_id: Optional[str] = typer.Option(
        None, "--run-id", help="Register this run (id or prefix)."
    ),
    manual: bool = typer.Option(False, "--manual", help="Show the runs and ask which one."),
    tolerance: float = typer.Option(
        0.0,
        "--tolerance",
        help="How much higher an RMSE than the champion's (on wines neither trained on) "
        "still moves @champion.",
    ),
    alias: str = typer.Option(
        ALIAS, "--alias", help="The alias to point at the version; any but champion skips the gate."
    ),
    force: bool = typer.Option(
        False, "--force", help="Move @champion even if the run is worse (needs --reason)."
    ),
    reason: str = typer.Option("", "--reason", help="Why, for the champion's history."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Register the best run at or below --min-rmse (bytes stay in DVC) and make it champion
    if it is no worse than the champion on the wines neither trained on.

    Example: wineq register --min-rmse 0.7
    """
    from winequality.records import GateOptions

    gate = GateOptions(tolerance=tolerance, force=force, reason=reason, alias=alias)
    service = context.service("register")
    if manual:
        runs = service.list_runs(limit=50).runs
        if not runs:
            raise WineqError("no runs yet; run `wineq train` first")
        render.print_table(
            render.runs_table(runs, "runs", numbered=True), render.new_console(stderr=True)
        )
        run_id = prompts.pick_run(runs)
    result = service.register(min_rmse, run_id, gate)
    if as_json:
        context.print_json(result.as_dict())
        return
    v = result.version
    verb = "already registered as" if result.reused else "registered as"
    typer.echo(
        f"Run {result.run.run_id} (test RMSE {result.run.metrics['test_rmse']:.4f}) {verb} "
        f"{v.name}/{v.version}; @{alias} points at it"
        + (f" (it was on {v.name}/{result.previous})." if result.previous else ".")
    )
    if result.gate is not None:
        held, candidate = result.gate.models
        typer.echo(
            f"On the {result.gate.wines:,} wines neither trained on: RMSE {candidate.rmse:.4f}, "
            f"champion {held.label} {held.rmse:.4f} — {candidate.verdict}."
        )
        if result.gate.recorded:
            where = result.gate.ui_url or f"run {result.gate.recorded}"
            typer.echo(f"The comparison is recorded in MLflow: {where}", err=True)
    typer.echo(f"Model bytes: DVC {v.lineage.get('model_path')} md5 {v.lineage.get('model_md5')}.")
