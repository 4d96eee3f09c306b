"""Start-up: `wineq --help` and `wineq runs --help` against `python -c "import typer"`.

    python -m bench startup [--rounds 9]

Each command runs `rounds` times, interleaved, after one warm-up round; the ratio is of
medians. Target: at most 2x.
"""

from __future__ import annotations

from .harness import PYTHON, WINEQ, alternate, median_seconds, ratio_row, table_main

LIMIT = 2.0


def bench(rounds: int = 9) -> tuple[list[dict], dict]:
    commands = {
        "typer": [PYTHON, "-c", "import typer"],
        "wineq --help": [WINEQ, "--help"],
        "wineq runs --help": [WINEQ, "runs", "--help"],
    }
    alternate(commands, 1)  # warm the file cache
    samples = alternate(commands, rounds)
    floor = median_seconds(samples["typer"])
    rows = []
    for name in ("wineq --help", "wineq runs --help"):
        seconds = median_seconds(samples[name])
        rows.append(
            ratio_row(
                f"start-up: `{name}`",
                f"{seconds * 1000:.0f} ms",
                f'`python -c "import typer"` {floor * 1000:.0f} ms',
                seconds / floor,
                LIMIT,
            )
        )
    return rows, {name: [x.seconds for x in found] for name, found in samples.items()}


def main(argv: list[str] | None = None) -> int:
    return table_main(__doc__, bench, argv, source=False, rounds=9)
