"""Listing at scale: `wineq runs` with 1,000 runs against a plain MlflowClient.search_runs script.

    python -m bench runs_scale [--runs 1000] [--rounds 7]

The store is a fresh SQLite MLflow store (wineq's default) filled with `runs` runs that
carry wineq's params, metrics and tags, and one registered version. The baseline,
`bench/runs_baseline.py` (run by its path, in the project), asks MlflowClient for the same newest 20 runs and prints the
same columns. Also checked: newest first, and `--page 2` continues where page 1 ended.
Target: at most 1.3x.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from .harness import (
    PYTHON,
    WINEQ,
    alternate,
    median_seconds,
    ratio_row,
    remove_project,
    run,
    table_main,
)

LIMIT = 1.3
BASELINE = str(Path(__file__).with_name("runs_baseline.py"))


def populate(root: Path, n: int) -> list[str]:
    """`n` finished runs, oldest first, like those `wineq train` records; their ids."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    from winequality.adapters.mlflow import tracking_store
    from winequality.settings import load_settings

    settings = load_settings(root)
    store = tracking_store(settings.tracking_uri, settings.project_dir)
    client = MlflowClient(store.uri)
    experiment = client.create_experiment(
        settings.experiment, artifact_location=store.artifact_location
    )
    start = int(time.time() * 1000) - n * 60_000
    ids = []
    for i in range(n):
        t = start + i * 60_000
        created = client.create_run(experiment, start_time=t, tags={"wineq.git_commit": "0" * 40})
        rid = created.info.run_id
        params = {"epochs": 50, "lr": 5e-4, "batch_size": 64, "hidden": "64,64", "seed": i}
        params.update({f"p{j}": j for j in range(12)})
        metrics = {"test_rmse": 0.66 + (i % 97) / 1000, "test_mae": 0.51, "test_r2": 0.4}
        metrics.update({f"test_m{j}": 0.1 * j for j in range(20)})
        client.log_batch(
            rid,
            metrics=[Metric(k, v, t, 0) for k, v in metrics.items()],
            params=[Param(k, str(v)) for k, v in params.items()],
            tags=[RunTag(f"wineq.tag{j}", "x" * 32) for j in range(8)],
        )
        client.set_terminated(rid, "FINISHED", end_time=t + 20_000)
        ids.append(rid)
    client.create_registered_model(settings.model_name)
    source = f"{client.get_run(ids[-1]).info.artifact_uri}/model"
    client.create_model_version(settings.model_name, source, run_id=ids[-1])
    return ids


def bench(runs: int = 1000, rounds: int = 7) -> tuple[list, dict]:
    base = Path(tempfile.mkdtemp(prefix="wineq-bench-"))
    root = base / "project"
    root.mkdir()
    try:
        run(["git", "init", "-q", "-b", "main"], root)
        run(["dvc", "init", "-q"], root)
        started = time.perf_counter()
        ids = populate(root, runs)
        filled = time.perf_counter() - started
        newest = ids[::-1]
        page1 = [r["run_id"] for r in json.loads(run([WINEQ, "runs", "--json"], root))]
        page2 = [
            r["run_id"] for r in json.loads(run([WINEQ, "runs", "--json", "--page", "2"], root))
        ]
        if page1 != newest[:20] or page2 != newest[20:40]:
            raise SystemExit("wineq runs: not newest first, or page 2 does not follow page 1")
        commands = {
            "wineq": [WINEQ, "runs"],
            "baseline": [PYTHON, BASELINE],
        }
        alternate(commands, 1, root)
        samples = alternate(commands, rounds, root)
    finally:
        remove_project(root)
    wineq_s, base_s = median_seconds(samples["wineq"]), median_seconds(samples["baseline"])
    row = ratio_row(
        f"`wineq runs` with {runs:,} runs (newest 20)",
        f"{wineq_s:.2f} s",
        f"MlflowClient.search_runs script {base_s:.2f} s",
        wineq_s / base_s,
        LIMIT,
    )
    return [row], {
        "runs": runs,
        "fill_seconds": filled,
        "wineq_seconds": [s.seconds for s in samples["wineq"]],
        "baseline_seconds": [s.seconds for s in samples["baseline"]],
    }


def main(argv: list[str] | None = None) -> int:
    return table_main(__doc__, bench, argv, source=False, runs=1000, rounds=7)
