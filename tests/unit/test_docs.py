"""The docs cannot drift from the code: the CLI reference is the one `--help` prints, and
the exit-code table on the faults page is the one errors.py defines."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from winequality.errors import EXIT_CODES

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def load_generator():
    """docs/cli_reference.py as a module, loaded by path: docs/ is not a package."""
    spec = importlib.util.spec_from_file_location("cli_reference", DOCS / "cli_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cli_reference_is_the_help_the_commands_print():
    generator = load_generator()
    committed = (DOCS / "reference" / "cli.md").read_text()
    assert committed == generator.render(), (
        "docs/reference/cli.md is stale: run `python docs/cli_reference.py`"
    )


def test_the_cli_reference_covers_every_visible_command_and_no_hidden_one():
    text = (DOCS / "reference" / "cli.md").read_text()
    titles = re.findall(r"^## `(wineq[^`]*)`$", text, flags=re.MULTILINE)
    assert "wineq data import" in titles
    assert "wineq list-runs" not in titles
    assert {"wineq train", "wineq register", "wineq infer", "wineq runs", "wineq show"} <= set(
        titles
    )


def test_the_faults_page_exit_code_table_is_the_one_the_code_uses():
    page = (DOCS / "faults.md").read_text()
    section = page.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `?(\d+)`? \| (\w+) \|", section, flags=re.MULTILINE)
    assert {int(code): kind for code, kind in rows} == {
        0: "success",
        **{code: cls.__name__ for code, cls in EXIT_CODES.items()},
    }


def test_the_readme_shows_the_ranges_the_code_refuses_outside():
    from winequality.io.limits import LIMITS

    text = (ROOT / "README.md").read_text()
    shown = dict(re.findall(r"^\| ([a-zA-Z ]+) \| ([0-9.]+–[0-9.]+[^|]*?) \|$", text, re.M))
    expected = {}
    for feature, limit in LIMITS.items():
        unit = f" {limit.unit}" if limit.unit else ""
        expected[feature] = f"{limit.low:g}–{limit.high:g}{unit}" + (
            " (or 0)" if limit.zero else ""
        )
    assert shown == expected
