"""What every command shares: the service built from settings, and JSON on stdout."""

from __future__ import annotations

import json

import typer


def service(**overrides):
    from winequality.settings import load_settings
    from winequality.workflows.service import WineService

    return WineService(load_settings(**overrides))


def print_json(value) -> None:
    typer.echo(json.dumps(value, indent=2))
