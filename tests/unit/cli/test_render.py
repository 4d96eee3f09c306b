"""What a newcomer reads: the command list whole, numbers that line up, lines a pipe gets
uncut."""

from __future__ import annotations

import io

import typer.main

from winequality.cli import app, render


def test_help_lists_every_command_with_its_whole_summary_at_100_columns(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    text = cli("--help").stdout
    commands = text.split("Commands:", 1)[1]
    assert "..." not in commands
    assert all(len(line) <= 100 for line in text.splitlines())
    flat = " ".join(commands.split())
    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        if not command.hidden:
            summary = command.get_short_help_str(limit=10_000)
            assert f"{name} {summary.rstrip('.')}" in flat, name
    assert "registered versions (also: list-runs)." in flat  # the listing's other name


def test_a_column_of_numbers_has_one_number_of_decimals():
    assert render.fixed_decimals([5.651, 5.0718, 6.0]) == ["5.6510", "5.0718", "6.0000"]
    assert render.fixed_decimals([0.08, 0.123]) == ["0.080", "0.123"]
    assert render.fixed_decimals([12, 87]) == ["12", "87"]  # whole numbers stay whole
    assert render.fixed_decimals(["red", "white"]) == ["red", "white"]
    assert render.fixed_decimals([1 / 3, 0.5]) == ["0.333333", "0.500000"]  # at most 6


def test_output_into_a_pipe_is_never_wrapped_inside_a_value():
    console = render.new_console()  # pytest captures stdout: not a terminal
    console.file = buffer = io.StringIO()
    long = "lineage " + "x" * 300
    console.print(long, markup=False)
    assert buffer.getvalue() == long + "\n"
