"""The CLI's shape (cli/): a light import, help and an example on every command, and one
line for a folder that is no project."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer.main

from winequality.cli import app

HEAVY = {"torch", "mlflow", "dvc", "pandas", "numpy", "pydantic", "pydantic_settings"}


def test_importing_the_cli_loads_nothing_heavy():
    code = "import winequality.cli, sys; print(' '.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "winequality.cli" in loaded  # the import did happen in the child
    assert not {name.split(".")[0] for name in loaded} & HEAVY


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, prefix + (name,))
        else:
            yield prefix + (name,), command


def test_every_command_has_help_and_an_example(cli):
    commands = list(_commands(typer.main.get_command(app)))
    assert {path for path, _ in commands} >= {
        ("train",),
        ("register",),
        ("infer",),
        ("runs",),
        ("list-runs",),
        ("data", "import"),
    }
    for path, command in commands:
        result = cli(*path, "--help")
        assert result.exit_code == 0, path
        assert command.help and "Example: wineq" in command.help, path


def test_register_help_says_what_the_bar_means(cli):
    result = cli("register", "--help")
    assert "test RMSE a run must reach" in " ".join(result.stdout.split())


def test_outside_a_project_is_a_one_line_config_error(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("WINEQ_TRACKING_URI", raising=False)
    result = cli("runs")
    assert result.exit_code == 9
    assert result.stderr.startswith("Error: no wineq project at")
    assert "set MLFLOW_TRACKING_URI (or WINEQ_TRACKING_URI)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "command", [["train"], ["register"], ["data", "log"], ["promote", "1", "--reason", "x"]]
)
def test_commands_that_change_the_project_say_they_need_a_clone(
    cli, tmp_path, monkeypatch, command
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")  # set, and not enough
    result = cli(*command)
    assert result.exit_code == 9
    assert result.stderr.startswith(f"Error: wineq {command[0]} needs a clone of the project")
    assert len(result.stderr.strip().splitlines()) == 1
