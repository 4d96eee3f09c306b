"""`wineq infer` on 1,000,000 wines: this work tree against an earlier commit, same machine,
same command, alternating.

    python bench/infer_before_after.py PATH/TO/uci-wine-quality --before REV [--rows N] [--rounds N]

REV's code runs from a git worktree (PYTHONPATH before the installed package), with a
model that REV trained itself, so each side predicts with the model format it writes:
here a calibrated model giving predicted_quality, quality_low, quality_high, p_premium;
before intervals, predicted_quality alone. Both read the same file and write --output.
Reports the median wall times and their ratio (limit 1.2: inference within 20% of before).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import (
    PYTHON,
    WINEQ,
    markdown,
    median_seconds,
    peak_of,
    ratio_row,
    remove_project,
    run,
    scratch_project,
)
from infer_scale import write_wines

LIMIT = 1.2
ROOT = Path(__file__).resolve().parent.parent
ENTRY = "import sys; from winequality.cli import app; sys.argv[0] = 'wineq'; app()"


def worktree(rev: str, parent: Path) -> Path:
    folder = parent / "before"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(folder), rev], check=True
    )
    return folder


def bench(uci: Path, before: str, rows: int, rounds: int) -> tuple[list, dict]:
    parent = Path(tempfile.mkdtemp(prefix="wineq-before-after-"))
    tree = worktree(before, parent)
    old = ["env", f"PYTHONPATH={tree / 'src'}", PYTHON, "-c", ENTRY]
    now_root, old_root = scratch_project(uci, parent), scratch_project(uci, parent)
    try:
        for root, wineq in ((now_root, [WINEQ]), (old_root, old)):
            run([*wineq, "train", "--epochs", "3"], root)
            run([*wineq, "register", "--min-rmse", "10"], root)
        wines = parent / "wines.csv"
        write_wines(now_root / "data" / "wine-quality.csv", wines, rows)
        commands = {
            "now": [WINEQ, "infer", str(wines), "--output", str(parent / "now.csv")],
            "before": [*old, "infer", str(wines), "--output", str(parent / "before.csv")],
        }
        samples: dict[str, list] = {name: [] for name in commands}
        for _ in range(rounds):
            for name, cmd in commands.items():
                cwd = now_root if name == "now" else old_root
                samples[name].append(peak_of(cmd, cwd))
        headers = {
            name: (parent / f"{name}.csv").open().readline().strip().split(",")[-4:]
            for name in commands
        }
        now_s, before_s = median_seconds(samples["now"]), median_seconds(samples["before"])
        detail = {
            "rows": rows,
            "before": before,
            "now_seconds": [s.seconds for s in samples["now"]],
            "before_seconds": [s.seconds for s in samples["before"]],
            "now_peak_mb": max(s.peak_mb for s in samples["now"]),
            "before_peak_mb": max(s.peak_mb for s in samples["before"]),
            "now_columns": headers["now"],
            "before_columns": headers["before"],
        }
    finally:
        remove_project(now_root)
        remove_project(old_root)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)])
        subprocess.run(["rm", "-rf", str(parent)])
    table = [
        ratio_row(
            f"`wineq infer`, {rows:,} wines, with intervals and p_premium",
            f"{now_s:.2f} s",
            f"{before} (quality alone) {before_s:.2f} s",
            now_s / before_s,
            LIMIT,
        )
    ]
    return table, detail


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="folder with the two UCI files")
    parser.add_argument("--before", required=True, help="the commit to compare with")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    table, detail = bench(Path(args.source), args.before, args.rows, args.rounds)
    print(markdown(table))
    print(json.dumps(detail, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
