"""Questions to the user on stderr, answered on stdin: which run, which version."""

from __future__ import annotations

import sys

import typer

from winequality.cli import render
from winequality.errors import UsageError, WineqError


def ask(question: str) -> str:
    """One line typed by the user, the question on stderr (stdout may be a pipe or --json).

    End of input gives ""; Ctrl-C stays an interrupt (exit 130).
    """
    typer.echo(f"{question}: ", err=True, nl=False)
    line = sys.stdin.readline()
    if not line:
        typer.echo(err=True)  # end of input: the next message starts on its own line
    return line.strip()


def pick_run(runs) -> str:
    """The run a user picks from the numbered table: a row number, or an id (prefix)."""
    answer = ask("Run to register (row number, or run id or prefix)")
    if not answer:
        raise UsageError("no run chosen; type a row number or a run id, or use --run-id")
    if answer.isdigit() and len(answer) < 4:  # run id prefixes have at least 4 characters
        number = int(answer)
        if not 1 <= number <= len(runs):
            raise UsageError(f"row {number}: pick a row between 1 and {len(runs)}")
        return runs[number - 1].run_id
    return answer


def pick_version(service) -> str:
    """A registered version picked from a table: a number, NAME/VERSION or NAME@ALIAS."""
    versions = service.model_choices()
    if not versions:
        raise WineqError("no registered versions yet; run `wineq register` first")
    render.new_console(stderr=True).print(render.versions_table(versions))
    chosen = ask(f"Version (number, NAME/VERSION or NAME@ALIAS) [{versions[0].version}]")
    return chosen or versions[0].version
