"""No module of wineq imports another module's private names (import-linter checks the
layers; this is the one rule it has no contract for)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "winequality"


def private_imports(root: Path) -> list[str]:
    """`module: name` for every `from winequality... import _name` under `root`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("winequality"):
                found += [
                    f"{path.relative_to(root)}: {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
    return found


def test_no_module_imports_another_modules_private_names():
    assert private_imports(PACKAGE) == []


def test_the_check_finds_a_private_import(tmp_path):
    (tmp_path / "probe.py").write_text("from winequality.io.validation import _bad_value\n")
    assert private_imports(tmp_path) == ["probe.py: winequality.io.validation._bad_value"]
