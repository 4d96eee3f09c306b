"""Inference at scale: `wineq infer` on 1,000,000 and 4,000,000 wines against the I/O floor.

    python -m bench infer_scale PATH/TO/uci-wine-quality [--rows 1000000] [--rounds 3]

The wines are drawn from the real data (rows resampled, each feature jittered by 2% of
its spread), comma-separated with a color column. The floor is `bench/io_floor.py`:
pandas alone reading the same file and writing the same output (input + one column).
Targets: wall time at most 1.5x the floor; peak memory flat (4M rows within 10% of 1M)
and under 600 MB; output rows in input order. Peak memory is the larger of the largest
process's peak and the sampled sum over the process tree (bench/peak.py), since wineq
looks its model up in a child process while it loads torch.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from .harness import (
    PYTHON,
    WINEQ,
    median_seconds,
    peak_of,
    ratio_row,
    remove_project,
    run,
    scratch_project,
    table_main,
    write_wines,
)

TIME_LIMIT = 1.5
MEMORY_MB = 600
GROWTH = 1.10
FLOOR = str(Path(__file__).with_name("io_floor.py"))


def check_order(inputs: Path, output: Path) -> None:
    """The output holds one prediction per input row, in the input's order."""
    import pandas as pd

    columns = ["alcohol", "density"]
    a = pd.read_csv(inputs, usecols=columns)[columns].to_numpy()
    b = pd.read_csv(output, usecols=[*columns, "predicted_quality"])
    if len(a) != len(b) or not np.array_equal(a, b[columns].to_numpy()):
        raise SystemExit(f"{output}: rows are not the input's rows in the input's order")
    q = b["predicted_quality"].to_numpy()
    if not np.all((q >= 0) & (q <= 10)):
        raise SystemExit(f"{output}: predictions outside 0-10")


def bench(uci: Path, rows: int = 1_000_000, rounds: int = 3, big: int = 4) -> tuple[list, dict]:
    root = scratch_project(uci)
    work = Path(tempfile.mkdtemp(prefix="wineq-infer-", dir=root.parent))
    try:
        run([WINEQ, "train", "--epochs", "3"], root)  # the architecture of every model
        run([WINEQ, "register", "--min-rmse", "10"], root)
        small, large = work / "wines-1x.csv", work / f"wines-{big}x.csv"
        write_wines(root / "data" / "wine-quality.csv", small, rows)
        write_wines(root / "data" / "wine-quality.csv", large, rows * big, seed=1)
        out = work / "predicted.csv"
        commands = {
            "wineq": [WINEQ, "infer", str(small), "--output", str(out)],
            "floor": [PYTHON, FLOOR, str(small), str(out)],
        }
        samples: dict[str, list] = {name: [] for name in commands}
        for _ in range(rounds):
            for name, cmd in commands.items():
                samples[name].append(peak_of(cmd, root))
                if name == "wineq":
                    check_order(small, out)
        wineq_s, floor_s = median_seconds(samples["wineq"]), median_seconds(samples["floor"])
        peak_small = max(s.peak_mb for s in samples["wineq"])
        large_sample = peak_of([WINEQ, "infer", str(large), "--output", str(out)], root)
        check_order(large, out)
        growth = large_sample.peak_mb / peak_small
        detail = {
            "rows": rows,
            "wineq_seconds": [s.seconds for s in samples["wineq"]],
            "floor_seconds": [s.seconds for s in samples["floor"]],
            "wineq_peak_mb": peak_small,
            # (largest single process, summed tree): wineq and its model lookup child overlap
            "wineq_peak_parts_mb": [(s.process_mb, s.tree_mb) for s in samples["wineq"]],
            "big_peak_parts_mb": (large_sample.process_mb, large_sample.tree_mb),
            "floor_peak_mb": max(s.peak_mb for s in samples["floor"]),
            "big_rows": rows * big,
            "big_seconds": large_sample.seconds,
            "big_peak_mb": large_sample.peak_mb,
            "input_mb": small.stat().st_size / 2**20,
        }
    finally:
        remove_project(root)
    table = [
        ratio_row(
            f"`wineq infer`, {rows:,} rows: wall time",
            f"{wineq_s:.2f} s",
            f"pandas read + write {floor_s:.2f} s",
            wineq_s / floor_s,
            TIME_LIMIT,
        ),
        ratio_row(
            f"`wineq infer`: peak memory, {rows * big:,} vs {rows:,} rows",
            f"{large_sample.peak_mb:.0f} MB vs {peak_small:.0f} MB",
            f"limit {MEMORY_MB} MB (pandas alone, {rows:,} rows: {detail['floor_peak_mb']:.0f} MB)",
            growth,
            GROWTH,
        ),
    ]
    if max(large_sample.peak_mb, peak_small) > MEMORY_MB:
        table[1]["met"] = False
    return table, detail


def main(argv: list[str] | None = None) -> int:
    return table_main(__doc__, bench, argv, rows=1_000_000, rounds=3)
