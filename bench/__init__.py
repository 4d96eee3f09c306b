"""wineq's benchmarks: `python -m bench --list` names them, `python -m bench NAME` runs one.

Each benchmark is a module with a `main(argv)`; its docstring's first paragraph is its
summary. Modules are imported only when they run, so listing them costs nothing.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

BENCHMARKS = {
    "speed": "bench.speed",
    "startup": "bench.startup",
    "fetch": "bench.fetch",
    "runs_scale": "bench.runs_scale",
    "train_overhead": "bench.train_overhead",
    "infer_scale": "bench.infer_scale",
    "serving": "bench.serving",
    "quality": "bench.quality",
    "intervals": "bench.intervals",
    "formats": "bench.formats",
    "team_load": "bench.team_load",
    "versus": "bench.versus",
    "trust": "bench.trust",
    "latency": "bench.latency",
}


def summary(doc: str | None) -> str:
    """The first paragraph of a docstring, on one line."""
    first = (doc or "").strip().split("\n\n")[0]
    return " ".join(first.split())


def summary_of(name: str) -> str:
    """A benchmark's summary, read from its source without importing it."""
    spec = importlib.util.find_spec(BENCHMARKS[name])
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    return summary(ast.get_docstring(tree))
