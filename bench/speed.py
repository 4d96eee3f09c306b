"""All speed and scale benchmarks of wineq, each against its baseline in the same run.

    python -m bench speed PATH/TO/uci-wine-quality [--json bench/results/speed.json] [--quick]

Prints one markdown table of ratios and writes the details as JSON. `--quick` uses fewer
rounds and rows, for a smoke check.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import fetch, infer_scale, runs_scale, startup, summary, train_overhead
from .harness import markdown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=summary(__doc__))
    parser.add_argument("source", help="folder with the two UCI files")
    parser.add_argument("--json", default="bench/results/speed.json", help="details, as JSON")
    parser.add_argument("--quick", action="store_true", help="fewer rounds and rows")
    args = parser.parse_args(argv)
    uci = Path(args.source)
    quick = args.quick
    started = time.perf_counter()
    rows, details = [], {}

    def step(name, rows_and_detail):
        found, detail = rows_and_detail
        rows.extend(found)
        details[name] = detail
        print(markdown(found).splitlines()[-1], file=sys.stderr, flush=True)

    step("startup", startup.bench(3 if quick else 9))
    step("fetch", fetch.bench(uci, 2 if quick else 5))
    step("runs", runs_scale.bench(100 if quick else 1000, 2 if quick else 7))
    step("train", train_overhead.bench(uci, 1 if quick else 3, 5 if quick else 50))
    step("infer", infer_scale.bench(uci, 20_000 if quick else 1_000_000, 1 if quick else 3))
    report = {
        "rows": rows,
        "details": details,
        "seconds": time.perf_counter() - started,
    }
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(markdown(rows))
    met = all(r["met"] for r in rows)
    print(f"All targets met: {met}; benchmark wall time {report['seconds']:.0f} s; JSON: {out}")
    return 0
