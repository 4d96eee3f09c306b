"""What every command shares: the service built from settings, and JSON on stdout."""

from __future__ import annotations

import json

import typer


def service(command: str = "", **overrides):
    """The service of the clone around the current folder. `command` names a command that
    needs one ("train": `wineq train needs a clone ...`); without it, the command also works
    outside a clone, against the tracking URI's store."""
    from winequality.settings import load_settings
    from winequality.workflows.service import WineService

    needs = f"wineq {command}" if command else None
    return WineService(load_settings(needs_clone=needs, **overrides))


def print_json(value) -> None:
    typer.echo(json.dumps(value, indent=2))
