"""`wineq infer` on 1,000,000 wines: this work tree against another commit, in one run.

    python -m bench versus PATH/TO/uci-wine-quality --rev 70d48d9 [--rows 1000000] [--rounds 3]

The other commit is checked out with `git worktree` and run from the same virtual
environment (its `src` first on PYTHONPATH). Each side trains and registers its own model
(`--epochs 3`: the architecture of every model; the weights do not change the cost) in a
scratch project of its own on the real data, then both predict the same file to a CSV,
alternating, `--rounds` times. The ratio is this tree's median over the other's (limit 1.2:
a change may cost at most a fifth more).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

from .harness import (
    ENV,
    WINEQ,
    markdown,
    median_seconds,
    peak_of,
    ratio_row,
    remove_project,
    run,
    scratch_project,
    write_wines,
)

LIMIT = 1.2
ROOT = Path(__file__).resolve().parent.parent


def _with_source(src: Path | None):
    """ENV with `src` first on PYTHONPATH (the other commit), or ENV itself."""
    if src is None:
        return dict(ENV)
    return {**ENV, "PYTHONPATH": os.pathsep.join(filter(None, [str(src), ENV.get("PYTHONPATH")]))}


def bench(uci: Path, rev: str, rows: int, rounds: int) -> tuple[list, dict]:
    import bench.harness as harness

    work = Path(tempfile.mkdtemp(prefix="wineq-versus-"))
    other = work / "other"
    subprocess.run(
        ["git", "worktree", "add", "-q", "--detach", str(other), rev], cwd=ROOT, check=True
    )
    sides = {"this tree": None, rev: other / "src"}
    projects: dict[str, Path] = {}
    try:
        for name, src in sides.items():
            harness.ENV = _with_source(src)  # scratch_project and run read it
            projects[name] = scratch_project(uci, work)
            run([WINEQ, "train", "--epochs", "3"], projects[name])
            run([WINEQ, "register", "--min-rmse", "10"], projects[name])
        wines = work / "wines.csv"
        write_wines(projects["this tree"] / "data" / "wine-quality.csv", wines, rows)
        samples: dict[str, list] = {name: [] for name in sides}
        for _ in range(rounds):
            for name, src in sides.items():
                harness.ENV = _with_source(src)
                cmd = [
                    WINEQ,
                    "infer",
                    str(wines),
                    "--output",
                    str(work / f"out-{len(samples[name])}.csv"),
                ]
                samples[name].append(peak_of(cmd, projects[name]))
    finally:
        harness.ENV = _with_source(None)
        for root in projects.values():
            remove_project(root)
        subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT)
    mine, theirs = median_seconds(samples["this tree"]), median_seconds(samples[rev])
    table = [
        ratio_row(
            f"`wineq infer`, {rows:,} wines to CSV: wall time",
            f"{mine:.2f} s",
            f"commit {rev} {theirs:.2f} s",
            mine / theirs,
            LIMIT,
        )
    ]
    detail = {name: [s.seconds for s in found] for name, found in samples.items()}
    detail["peak_mb"] = {name: max(s.peak_mb for s in found) for name, found in samples.items()}
    return table, detail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="folder with the two UCI files")
    parser.add_argument("--rev", required=True, help="the commit to compare with")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    rows, detail = bench(Path(args.source), args.rev, args.rows, args.rounds)
    print(markdown(rows))
    print(json.dumps(detail, indent=2))
    return 0
