"""The short commands' latency against another commit, on the same store, in one run:
`wineq runs`, `wineq show @champion` and `wineq infer` of 20 wines, on an `mlflow server`
(HTTP) and on the embedded SQLite store; and `wineq runs` against `mlflow runs list`.

    python -m bench latency PATH/TO/uci-wine-quality --rev 5d1ea65 [--rounds 5]

One scratch project on the real data holds one run registered as @champion (trained by
this tree). The other commit runs from a `git worktree` with the same virtual environment
(its `src` first on PYTHONPATH). Both read the project's own SQLite file, then the same
file behind a real `mlflow server` on loopback. Each command alternates between the two
sides `--rounds` times; the ratio is this tree's median over the other's. Limits: at most
0.5 against the server, 1.0 (no slower) on SQLite, and `wineq runs` at most 0.6 of
`mlflow runs list` on the same SQLite store.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .harness import (
    BIN,
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
from .versus import ROOT, _with_source

LIMITS = {"server": 0.5, "sqlite": 1.0}
VERSUS_MLFLOW = 0.6


def _server(project: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """`mlflow server` on the project's own SQLite file, on a free loopback port."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [str(BIN / "mlflow"), "server", "--backend-store-uri", f"sqlite:///{project / 'mlflow.db'}",
           "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]  # fmt: skip
    process = subprocess.Popen(cmd, cwd=project, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            with urllib.request.urlopen(url + "/health", timeout=1):
                return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit(f"mlflow server did not start; see {log}")


def _commands(wines: Path) -> dict[str, list[str]]:
    return {
        "`wineq runs`": [WINEQ, "runs"],
        "`wineq show @champion`": [WINEQ, "show", "@champion"],
        "`wineq infer` of 20 wines": [WINEQ, "infer", str(wines)],
    }


def _alternate(sides: dict, commands: dict, project: Path, extra: dict, rounds: int) -> dict:
    """name -> side -> samples, each command run on each side in turn, `rounds` times."""
    import bench.harness as harness

    found: dict = {name: {side: [] for side in sides} for name in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            for side, src in sides.items():
                harness.ENV = {**_with_source(src), **extra}
                found[name][side].append(peak_of(cmd, project))
    harness.ENV = _with_source(None)
    return found


def bench(uci: Path, rev: str, rounds: int) -> tuple[list, dict]:
    work = Path(tempfile.mkdtemp(prefix="wineq-latency-"))
    other = work / "other"
    subprocess.run(["git", "worktree", "add", "-q", "--detach", str(other), rev], cwd=ROOT, check=True)  # fmt: skip
    sides = {"this tree": None, rev: other / "src"}
    project = scratch_project(uci, work)
    server: subprocess.Popen | None = None
    rows, detail = [], {}
    try:
        run([WINEQ, "train", "--epochs", "3"], project)
        run([WINEQ, "register", "--min-rmse", "10"], project)
        wines = work / "wines.csv"
        write_wines(project / "data" / "wine-quality.csv", wines, 20)
        server, url = _server(project, work / "server.log")
        for store, extra in (("server", {"WINEQ_TRACKING_URI": url}), ("sqlite", {})):
            found = _alternate(sides, _commands(wines), project, extra, rounds)
            for name, samples in found.items():
                mine, theirs = median_seconds(samples["this tree"]), median_seconds(samples[rev])
                rows.append(ratio_row(f"{name}, {store}", f"{mine:.2f} s",
                                      f"commit {rev} {theirs:.2f} s", mine / theirs, LIMITS[store]))  # fmt: skip
                detail[f"{name}, {store}"] = {s: [x.seconds for x in v] for s, v in samples.items()}
        listing = _alternate(
            {"this tree": None},
            {"wineq": [WINEQ, "runs"], "mlflow": [str(BIN / "mlflow"), "runs", "list",
             "--experiment-id", _experiment_id(project)]},
            project, {"MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}"}, rounds,
        )  # fmt: skip
        mine = median_seconds(listing["wineq"]["this tree"])
        theirs = median_seconds(listing["mlflow"]["this tree"])
        rows.append(ratio_row("`wineq runs` against `mlflow runs list`, sqlite", f"{mine:.2f} s",
                              f"mlflow runs list {theirs:.2f} s", mine / theirs, VERSUS_MLFLOW))  # fmt: skip
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        remove_project(project)
        subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT)
    return rows, detail


def _experiment_id(project: Path) -> str:
    import sqlite3

    with sqlite3.connect(project / "mlflow.db") as db:
        (found,) = db.execute(
            "SELECT experiment_id FROM experiments WHERE name = 'wine-quality'"
        ).fetchone()
    return str(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="folder with the two UCI files")
    parser.add_argument("--rev", required=True, help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    rows, detail = bench(Path(args.source), args.rev, args.rounds)
    print(markdown(rows))
    print(json.dumps(detail, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
