"""Serving a registered version: `mlflow models serve` against the same model in process.

    python -m bench serving PATH/TO/uci-wine-quality [--requests 40] [--seconds 20]

Trains and registers a model in a scratch project, starts `mlflow models serve -m
models:/wine-quality@champion --env-manager local` on a loopback port from an empty
folder (as a deployment machine would: only the tracking URI in its environment), and
scores 1,000 wines per request:
- latency: the median of `--requests` sequential JSON requests, against the median of
  as many `model.predict(frame)` calls on the same model loaded in this process;
- throughput: requests per second with 4 concurrent clients for `--seconds`.
The model is fetched once, when the server starts; the first request is not timed.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.servers import free_port, http_ok, start

from .harness import (
    BIN,
    WINEQ,
    ratio_row,
    remove_project,
    run,
    scratch_project,
    table_main,
    write_wines,
)

WINES = 1_000
CLIENTS = 4


def _post(url: str, body: bytes) -> list:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())["predictions"]


def bench(uci: Path, requests: int = 40, seconds: int = 20) -> tuple[list, dict]:
    import mlflow
    import pandas as pd

    from winequality.schema import FEATURES

    root = scratch_project(uci)
    deploy = Path(tempfile.mkdtemp(prefix="wineq-serve-"))
    server = None
    try:
        run([WINEQ, "train", "--epochs", "3"], root)
        run([WINEQ, "register", "--min-rmse", "10"], root)
        wines = deploy / "wines.csv"
        write_wines(root / "data" / "wine-quality.csv", wines, WINES)
        frame = pd.read_csv(wines)
        frame[FEATURES] = frame[FEATURES].astype(float)
        body = json.dumps(
            {"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}
        ).encode()

        tracking = f"sqlite:///{root / 'mlflow.db'}"
        port = free_port()
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": tracking,
            "XDG_CACHE_HOME": str(deploy / "cache"),
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        }
        cmd = [str(BIN / "mlflow"), "models", "serve", "-m", "models:/wine-quality@champion",
               "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        server = start(
            "mlflow models serve", cmd, deploy / "serve.log", url, http_ok(url + "/ping"),
            timeout=180, cwd=deploy, env=env,
        )  # fmt: skip
        startup = time.perf_counter() - started
        invocations = url + "/invocations"
        first = _post(invocations, body)  # not timed

        mlflow.set_tracking_uri(tracking)
        os.environ["XDG_CACHE_HOME"] = str(deploy / "cache-here")
        os.chdir(deploy)  # as the server: outside any clone
        here = mlflow.pyfunc.load_model("models:/wine-quality@champion")
        expected = here.predict(frame)["predicted_quality"].tolist()
        if [p["predicted_quality"] for p in first] != expected:
            raise SystemExit("the server and the model in process predict differently")

        served, local = [], []
        for _ in range(requests):  # alternating, so both see the same machine
            t = time.perf_counter()
            _post(invocations, body)
            served.append(time.perf_counter() - t)
            t = time.perf_counter()
            here.predict(frame)
            local.append(time.perf_counter() - t)

        def client(deadline: float) -> int:
            done = 0
            while time.perf_counter() < deadline:
                _post(invocations, body)
                done += 1
            return done

        deadline = time.perf_counter() + seconds
        t = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            counts = list(pool.map(client, [deadline] * CLIENTS))
        elapsed = time.perf_counter() - t
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(deploy, ignore_errors=True)
        remove_project(root)
    served_s, local_s = statistics.median(served), statistics.median(local)
    rps = sum(counts) / elapsed
    rows = [
        ratio_row(
            f"`mlflow models serve`: one request of {WINES:,} wines",
            f"{served_s * 1000:.0f} ms",
            f"the same model in process {local_s * 1000:.0f} ms",
            served_s / local_s,
            float("inf"),
        ),
        ratio_row(
            f"`mlflow models serve`: {CLIENTS} concurrent clients",
            f"{rps:.1f} requests/s ({rps * WINES:,.0f} wines/s)",
            f"sequential in process {1 / local_s:.1f} calls/s",
            (1 / local_s) / rps,
            float("inf"),
        ),
    ]
    return rows, {
        "served_seconds": served,
        "in_process_seconds": local,
        "requests_per_second": rps,
        "requests_by_client": counts,
        "server_start_seconds": startup,
    }


def main(argv: list[str] | None = None) -> int:
    return table_main(__doc__, bench, argv, requests=40, seconds=20)
