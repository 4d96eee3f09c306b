"""`wineq promote`: move champion to a registered version at once (a rollback)."""

from __future__ import annotations

import typer

from winequality.cli import context


def promote(
    model: str = typer.Argument(..., help="The version to promote: NAME/VERSION or a number."),
    reason: str = typer.Option(..., "--reason", help="Why, for the champion's history."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Point @champion at a registered version now, with no gate (a rollback), and record
    who, when and why in the champion's history.

    Example: wineq promote wine-quality/2 --reason "v3 misreads the new rosé"
    """
    version, move = context.service("promote").promote(model, reason)
    if as_json:
        context.print_json(
            {"name": version.name, "version": version.version, "moved": move is not None}
            | ({"move": move.as_dict()} if move else {})
        )
        return
    if move is None:
        typer.echo(f"{version.label} is already @champion; nothing moved.")
        return
    left = f" from {version.name}/{move.previous}" if move.previous else ""
    typer.echo(f"@champion moved{left} to {version.label}; recorded in its history.")
