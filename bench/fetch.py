"""Model fetch: resolving the registered champion whose bytes are already in the DVC cache.

    python -m bench fetch PATH/TO/uci-wine-quality [--rounds 5]

Each round is a fresh process that first imports what `wineq infer` needs: torch, pandas,
mlflow, dvc, wineq's modules and the modules MLflow and DVC import lazily on the way
(found by a first process). Then it times settings, the registry lookup (alias →
version → DVC path and md5), opening the DVC repository, the cached read with its md5
check, and loading the weights. Target: at most 0.5 s beyond the imports. The first
process's time, lazy imports included, is reported too.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from .harness import (
    PYTHON,
    WINEQ,
    peak_of,
    ratio_row,
    remove_project,
    run,
    scratch_project,
    table_main,
)

BUDGET = 0.5
PROBE = """
import importlib, json, sys, time
preload = json.loads(sys.argv[1]) if len(sys.argv) > 1 else []
t0 = time.perf_counter()
import torch, pandas, mlflow, dvc.repo
from winequality.domain import model as nn_model
from winequality.adapters.models import ModelResolver
from winequality.settings import load_settings
for name in preload:
    try:
        importlib.import_module(name)
    except ImportError:
        pass  # an alias some package registered in sys.modules, not importable by name
before = set(sys.modules)
t1 = time.perf_counter()
resolver = ModelResolver.from_settings(load_settings())
source = resolver.source()
net = nn_model.from_bytes(resolver.fetch(source))
t2 = time.perf_counter()
loaded = sorted(set(sys.modules) - before)
print(json.dumps({"imports": t1 - t0, "fetch": t2 - t1, "loaded": loaded}))
"""


def bench(uci: Path, rounds: int = 5) -> tuple[list, dict]:
    root = scratch_project(uci)
    try:
        run([WINEQ, "train", "--epochs", "3"], root)
        run([WINEQ, "register", "--min-rmse", "10"], root)
        # A first process finds the modules that MLflow and DVC import lazily on the way;
        # later ones import them up front, so only the work itself is timed.
        first = json.loads(run([PYTHON, "-c", PROBE], root))
        preload = json.dumps(first["loaded"])
        found = [
            json.loads(peak_of([PYTHON, "-c", PROBE, preload], root).stdout) for _ in range(rounds)
        ]
        for f in found:
            if f["loaded"]:
                print(f"note: still imported during the fetch: {f['loaded'][:5]}", flush=True)
    finally:
        remove_project(root)
    fetch = statistics.median(f["fetch"] for f in found)
    imports = statistics.median(f["imports"] for f in found)
    row = ratio_row(
        "model fetch from the DVC cache, beyond the imports",
        f"{fetch:.3f} s",
        f"budget {BUDGET} s (imports: {imports:.2f} s)",
        fetch / BUDGET,
        1.0,
    )
    return [row], {
        "fetch_seconds": [f["fetch"] for f in found],
        "imports_seconds": imports,
        "cold_fetch_seconds": first["fetch"],
        "lazily_imported_modules": len(first["loaded"]),
    }


def main(argv: list[str] | None = None) -> int:
    return table_main(__doc__, bench, argv, rounds=5)
