"""The Typer app: its group turns every WineqError into one line and its exit code, and
the top-level options (--verbose, --version)."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from winequality import __version__
from winequality.errors import UsageError, WineqError

# typer 0.28 carries its own copy of click; its usage errors are the bases of BadParameter,
# whichever click typer uses.
_CLICK_USAGE_ERROR: Any = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


class ErrorReportingGroup(TyperGroup):
    """Turns every WineqError into `Error: ...` on stderr and the error's exit code, and
    click's usage errors into the same one line with exit code 2."""

    def invoke(self, ctx):  # click's Context, of the click copy typer carries
        try:
            return super().invoke(ctx)
        except _CLICK_USAGE_ERROR as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # `wineq data`: the help, as usual
                raise
            where = exc.ctx.command_path if exc.ctx else ctx.command_path
            message = exc.format_message().rstrip(".")
            typer.echo(f"Error: {message} (see `{where} --help`)", err=True)
            raise typer.Exit(UsageError.exit_code) from None
        except BrokenPipeError:
            # the reader went away (`wineq infer - | head`): stop quietly, as Unix tools do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1) from None
        except WineqError as exc:
            if ctx.obj and ctx.obj.get("verbose"):
                raise
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("Error: interrupted", err=True)
            raise typer.Exit(130) from None

    def format_commands(self, ctx, formatter) -> None:
        """Each command with its whole summary (click cuts it at 45 characters with "..."),
        and the other names a command answers to."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            summary = command.get_short_help_str(limit=10_000)
            aliases = [
                other
                for other, alias in self.commands.items()
                if alias.hidden and other != name and _same(alias.callback, command.callback)
            ]
            if aliases:
                summary = f"{summary.rstrip('.')} (also: {', '.join(aliases)})."
            rows.append((name, summary))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _same(one, other) -> bool:
    """Whether two commands' callbacks wrap one function (typer wraps each command's)."""
    return getattr(one, "__wrapped__", one) is getattr(other, "__wrapped__", other)


app = typer.Typer(
    cls=ErrorReportingGroup,
    help="Predict wine quality with a PyTorch model whose every version is traceable: "
    "Git for code, DVC for data and model bytes, MLflow for runs and the registry.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    # help uses up to 100 columns where the terminal has them (click's default stops at 80)
    context_settings={"max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wineq {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show tracebacks of errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """wineq: train, register and use wine quality models with exact lineage."""
    ctx.obj = {"verbose": verbose}
