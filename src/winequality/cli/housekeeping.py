"""`wineq gc` and `wineq check`: cleanup that never removes a live model, and the audit of
every registered version's bytes in the remote."""

from __future__ import annotations

import typer

from winequality.cli import context, render


def gc(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="List what would be removed and how many bytes; remove nothing."
    ),
    grace_hours: float = typer.Option(
        1.0,
        "--grace-hours",
        min=0.0,
        help="Keep unreferenced model bytes younger than this: a training may not have "
        "recorded them yet.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Remove the model bytes only deleted runs referenced, from the DVC cache and remote.

    Never a registered version's or a live run's. Run it after deleting runs in MLflow
    (and, to forget them for good, `mlflow gc`). `dvc gc` cannot remove a model or a
    run's data: wineq keeps a copy of both where it does not look.

    Example: wineq gc --dry-run
    """
    service = context.service("gc")
    found = service.collect_garbage(dry_run, grace_hours * 3600)
    if as_json:
        context.print_json(found.as_dict())
        return
    kept = f"kept {found.live} live model(s)" + (
        f" and {found.young} younger than {grace_hours:g} h" if found.young else ""
    )
    if not found.garbage:
        typer.echo(f"Nothing to remove: no model bytes are only deleted runs'; {kept}.")
        return
    render.print_table(render.garbage_table(found))
    if dry_run:
        typer.echo(f"Dry run: nothing removed; {kept}. Run `wineq gc` to remove them.")
    else:
        typer.echo(f"Removed {len(found.garbage)} model(s); {kept}.")


def check(
    repair: bool = typer.Option(
        False,
        "--repair",
        help="Put back missing or damaged bytes from any intact copy (this clone's DVC "
        "cache, the remote, wineq's vault).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Verify that every registered version's model and data bytes are in the DVC remote
    with their recorded md5.

    Exits 4 when some are missing, 5 when some are damaged, naming the versions.

    Example: wineq check --repair
    """
    from winequality.workflows.housekeeping import verdict

    service = context.service("check")
    checks = service.check_versions(repair)
    if as_json:
        context.print_json([c.as_dict() for c in checks])
    elif not checks:
        typer.echo(f"No registered versions of {service.settings.model_name!r} to check.")
    else:
        render.print_table(render.checks_table(checks))
    failure = verdict(checks)
    if failure is not None:
        raise failure
