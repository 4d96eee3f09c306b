"""Write docs/reference/cli.md from the `--help` of `wineq` and of every command.

The page is generated so that it cannot drift from the code: `make docs` runs this script
with --check, and tests/unit/test_docs.py compares the committed page with a fresh render.
The help is drawn on a fixed terminal (100 columns, 50 lines, TERM=dumb), so the text does
not depend on the terminal the script happens to run in. Hidden commands are left out.

    python docs/cli_reference.py            # write docs/reference/cli.md
    python docs/cli_reference.py --check    # exit 1 if the committed page is stale
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

TERMINAL = {"COLUMNS": "100", "LINES": "50", "TERM": "dumb"}

PAGE = Path(__file__).resolve().parent / "reference" / "cli.md"
PROG = "wineq"
INTRO = """\
# Command-line reference

Every command's `--help`, as `wineq` prints it. This page is generated from the code by
`python docs/cli_reference.py`; `make docs` fails when it is stale.
"""


def _commands(group, path: tuple[str, ...] = ()):
    """Every visible command under a click group, depth first, in the order help lists them.

    A group is told by its `list_commands`: typer may carry its own copy of click, so an
    isinstance check against the `click` package would miss its groups.
    """
    for name in group.list_commands(None):
        command = group.get_command(None, name)
        if command is None or command.hidden:
            continue
        yield (*path, name)
        if hasattr(command, "list_commands"):
            yield from _commands(command, (*path, name))


def _help(runner, app, path: tuple[str, ...]) -> str:
    result = runner.invoke(app, [*path, "--help"], prog_name=PROG, env=TERMINAL)
    if result.exit_code != 0:
        raise RuntimeError(f"`{PROG} {' '.join(path)} --help` exited {result.exit_code}")
    return result.stdout.rstrip() + "\n"


@contextlib.contextmanager
def _fixed_terminal():
    """The terminal of TERMINAL in os.environ while the help is drawn, then the old values.

    rich and click read the terminal's size from the environment, some of it when they are
    imported, so it is set before the imports; restoring it keeps a test run that renders
    the page from changing the terminal of the tests after it.
    """
    saved = {name: os.environ.get(name) for name in TERMINAL}
    os.environ.update(TERMINAL)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def render() -> str:
    """The page's Markdown: the top-level help, then each command's, in help order."""
    with _fixed_terminal():
        import typer.main
        from typer.testing import CliRunner

        from winequality.cli import app

        runner = CliRunner()
        sections = [INTRO]
        for path in [(), *_commands(typer.main.get_command(app))]:
            title = " ".join((PROG, *path))
            sections.append(f"## `{title}`\n\n```text\n{_help(runner, app, path)}```\n")
        return "\n".join(sections)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not PAGE.exists() or PAGE.read_text() != text:
            print(
                "docs/reference/cli.md is stale: run `python docs/cli_reference.py`",
                file=sys.stderr,
            )
            return 1
        return 0
    PAGE.parent.mkdir(parents=True, exist_ok=True)
    PAGE.write_text(text)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
