"""What the benchmarks share: timing a command with its peak memory (peak.py as the
launcher), a scratch wineq project on the real UCI data, wines drawn from that data, the
ratio table and the command line of a table benchmark.

Each speed benchmark compares wineq with a baseline run in the same invocation,
alternating the two, and reports the ratio of medians; no benchmark asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import summary

BIN = Path(sys.executable).parent
# run by its path: the measured commands run in scratch projects, where `-m bench` is not found
LAUNCHER = Path(__file__).with_name("peak.py")
PYTHON = str(Path(sys.executable))
WINEQ = str(BIN / "wineq")
ENV = {
    **os.environ,
    "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    "GIT_AUTHOR_NAME": "wineq bench",
    "GIT_AUTHOR_EMAIL": "bench@wineq.invalid",
    "GIT_COMMITTER_NAME": "wineq bench",
    "GIT_COMMITTER_EMAIL": "bench@wineq.invalid",
    "PYTHONDONTWRITEBYTECODE": "1",
}


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_mb: float
    """The larger of the two figures below."""
    stdout: bytes
    process_mb: float = 0.0
    """Peak of the largest single process (the kernel's ru_maxrss)."""
    tree_mb: float = 0.0
    """Peak of the process tree's summed resident memory, sampled every 10 ms."""


def peak_of(cmd: list[str], cwd: Path | None = None) -> Sample:
    """Wall time, peak resident memory and standard output of one command (peak.py)."""
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        out_path = Path(tmp) / "stdout"
        with open(out_path, "wb") as out, open(Path(tmp) / "stderr", "w+b") as err:
            code = subprocess.call(
                [PYTHON, str(LAUNCHER), str(result), *cmd], cwd=cwd, env=ENV, stdout=out, stderr=err
            )
            if code != 0:
                err.seek(0)
                raise SystemExit(f"{' '.join(cmd)} failed ({code}):\n{err.read()[-2000:].decode()}")
        measured = json.loads(result.read_text())
        # Linux reports ru_maxrss in KiB
        return Sample(
            measured["seconds"],
            measured["peak_kib"] / 1024,
            out_path.read_bytes(),
            measured["max_process_kib"] / 1024,
            measured["tree_sum_kib"] / 1024,
        )


def alternate(commands: dict[str, list[str]], rounds: int, cwd: Path | None = None) -> dict:
    """Run each command `rounds` times, interleaved; name → list of Samples."""
    samples: dict[str, list[Sample]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            samples[name].append(peak_of(cmd, cwd))
    return samples


def median_seconds(samples: list[Sample]) -> float:
    return statistics.median(s.seconds for s in samples)


def run(cmd: list[str], cwd: Path) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def scratch_project(uci: Path, parent: Path | None = None) -> Path:
    """A committed git + DVC project with a local remote and the real data imported."""
    base = Path(tempfile.mkdtemp(prefix="wineq-bench-", dir=parent))
    root = base / "project"
    root.mkdir()
    run(["git", "init", "-q", "-b", "main"], root)
    run(["dvc", "init", "-q"], root)
    run(["dvc", "config", "core.analytics", "false"], root)
    run(["dvc", "remote", "add", "-d", "local", str(base / "remote")], root)
    (root / ".gitignore").write_text("mlflow.db*\nmlruns/\n")
    run([WINEQ, "data", "import", "--source", str(Path(uci).resolve())], root)
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-q", "-m", "bench project"], root)
    return root


def remove_project(root: Path) -> None:
    shutil.rmtree(root.parent, ignore_errors=True)


def ratio_row(target: str, measured: str, baseline: str, ratio: float, limit: float) -> dict:
    return {
        "target": target,
        "wineq": measured,
        "baseline": baseline,
        "ratio": ratio,
        "limit": limit,
        "met": ratio <= limit,
    }


def table_main(doc: str, bench, argv: list[str] | None, source: bool = True, **options: int) -> int:
    """Command line of one benchmark: `[SOURCE] [--OPTION N ...]`, then its table and JSON.

    `bench(uci, **options)` (or `bench(**options)` without a source) returns the rows
    of the table and a dict of details.
    """
    parser = argparse.ArgumentParser(description=summary(doc))
    if source:
        parser.add_argument("source", help="folder with the two UCI files")
    for name, default in options.items():
        parser.add_argument(f"--{name}", type=int, default=default, help=f"default {default}")
    args = vars(parser.parse_args(argv))
    given = [Path(args.pop("source"))] if source else []
    rows, detail = bench(*given, **args)
    print(markdown(rows))
    print(json.dumps(detail, indent=2))
    return 0


def markdown(rows: list[dict]) -> str:
    lines = [
        "| target | wineq | baseline | ratio | limit | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        limit, met = f"≤ {r['limit']:g}", "yes" if r["met"] else "**no**"
        if r["limit"] == float("inf"):  # measured, with no target to meet
            limit, met = "—", "—"
        lines.append(
            f"| {r['target']} | {r['wineq']} | {r['baseline']} | {r['ratio']:.2f} | "
            f"{limit} | {met} |"
        )
    return "\n".join(lines)


def write_wines(source: Path, out: Path, rows: int, seed: int = 0) -> None:
    """`rows` wines resampled from the real data with jitter, written in 1M-row blocks.

    Each feature is jittered by 2% of its spread; the file is comma-separated with a
    color column, as users' files are.
    """
    import numpy as np
    import pandas as pd

    from winequality.schema import COLOR, FEATURES

    real = pd.read_csv(source, sep=";")
    rng = np.random.default_rng(seed)
    spread = real[FEATURES].std().to_numpy()
    block = 1_000_000
    with open(out, "w", newline="") as handle:
        for start in range(0, rows, block):
            n = min(block, rows - start)
            pick = rng.integers(0, len(real), n)
            values = real[FEATURES].to_numpy()[pick] + rng.normal(0, 0.02, (n, 11)) * spread
            frame = pd.DataFrame(np.clip(values, 0, None).round(4), columns=FEATURES)
            frame[COLOR] = real[COLOR].to_numpy()[pick]
            frame.to_csv(handle, index=False, header=start == 0)
