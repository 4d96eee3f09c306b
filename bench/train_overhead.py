"""Training overhead: `wineq train --epochs 50` against the same training loop alone.

    python -m bench train_overhead PATH/TO/uci-wine-quality [--rounds 3] [--epochs 50]

`wineq train` pulls the data through DVC, records the run in MLflow (SQLite), stores and
pushes the model; `bench/plain_train.py` reads the same CSV and trains the same model.
Both print the same test RMSE. Target: at most 1.5x.
"""

from __future__ import annotations

import re
from pathlib import Path

from .harness import (
    PYTHON,
    WINEQ,
    alternate,
    median_seconds,
    ratio_row,
    remove_project,
    scratch_project,
    table_main,
)

LIMIT = 1.5
PLAIN = str(Path(__file__).with_name("plain_train.py"))


def bench(uci: Path, rounds: int = 3, epochs: int = 50) -> tuple[list, dict]:
    root = scratch_project(uci)
    try:
        commands = {
            "wineq": [WINEQ, "train", "--epochs", str(epochs)],
            "plain": [PYTHON, PLAIN, str(epochs)],
        }
        samples = alternate(commands, rounds, root)
    finally:
        remove_project(root)
    rmse = {
        name: sorted(
            {re.search(rb"test RMSE (\d\.\d+)", s.stdout).group(1).decode() for s in found}
        )
        for name, found in samples.items()
    }
    if rmse["wineq"] != rmse["plain"]:
        raise SystemExit(f"the two trainings differ: {rmse}; they must run the same loop")
    wineq_s, plain_s = median_seconds(samples["wineq"]), median_seconds(samples["plain"])
    row = ratio_row(
        f"`wineq train --epochs {epochs}`",
        f"{wineq_s:.1f} s",
        f"plain training script {plain_s:.1f} s",
        wineq_s / plain_s,
        LIMIT,
    )
    return [row], {
        "wineq_seconds": [s.seconds for s in samples["wineq"]],
        "plain_seconds": [s.seconds for s in samples["plain"]],
        "test_rmse": rmse["wineq"],
    }


def main(argv: list[str] | None = None) -> int:
    return table_main(__doc__, bench, argv, rounds=3, epochs=50)
