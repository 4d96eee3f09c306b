"""DVC's own experiment tools on wineq runs: `dvc repro`, `dvc exp run`, `dvc exp show`,
`dvc metrics diff`, `dvc plots diff` and a parallel queue, each experiment also an MLflow
run, with the repository's own dvc.yaml and params.yaml."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from tests.support.project import BIN, GIT, md5_of, run, tracker_for

REPO = Path(__file__).parents[2]


@pytest.fixture
def pipeline(project) -> Path:
    """The project with the repository's dvc.yaml, params.yaml and code, trained small."""
    for name in ("dvc.yaml", ".dvcignore"):
        shutil.copy(REPO / name, project / name)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["train"].update(epochs=3, members=2)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    shutil.copytree(
        REPO / "src" / "winequality",
        project / "src" / "winequality",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    run(GIT + ["add", "-A"], project)
    run(GIT + ["commit", "-q", "-m", "the pipeline"], project)
    return project


def _metrics(root: Path) -> dict:
    return json.loads((root / "reports" / "metrics.json").read_text())


def _exp_table(root: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(run(["dvc", "exp", "show", "--csv"], root))))


def test_repro_and_exp_run_are_mlflow_runs_that_dvc_compares(pipeline, cli, tmp_path):
    run(["dvc", "repro"], pipeline)
    first = _metrics(pipeline)
    tracker = tracker_for(pipeline)
    baseline = tracker.get_run(first["mlflow_run_id"])
    assert baseline.status == "FINISHED" and baseline.params["epochs"] == "3"
    assert baseline.metrics["test_rmse"] == pytest.approx(first["test_rmse"], abs=1e-6)
    assert first["model_md5"] == baseline.lineage["model_md5"]
    assert baseline.lineage["git_dirty"] == "false"
    assert (pipeline / "reports" / "plots" / "loss.csv").read_text().startswith("epoch,")
    run(GIT + ["add", "dvc.lock", "reports"], pipeline)
    run(GIT + ["commit", "-q", "-m", "baseline"], pipeline)

    out = run(["dvc", "exp", "run", "-S", "train.epochs=4", "-n", "longer"], pipeline)
    assert "longer" in out
    second = _metrics(pipeline)
    exp_run = tracker.get_run(second["mlflow_run_id"])
    assert exp_run.params["epochs"] == "4"
    assert exp_run.lineage["dvc_experiment"] == "longer"
    assert exp_run.tags["mlflow.runName"] == "longer"
    assert exp_run.lineage["git_dirty"] == "false"  # only params.yaml changed: logged as params

    table = _exp_table(pipeline)
    longer = next(row for row in table if row["Experiment"] == "longer")
    assert longer["train.epochs"] == "4" and longer["mlflow_run_id"] == exp_run.run_id
    assert float(longer["test_rmse"]) == pytest.approx(exp_run.metrics["test_rmse"], abs=1e-6)

    diff = json.loads(
        run(["dvc", "metrics", "diff", "HEAD", "longer", "--all", "--json"], pipeline)
    )
    assert "test_rmse" in diff["reports/metrics.json"]
    plots = json.loads(run(["dvc", "plots", "diff", "HEAD", "longer", "--json"], pipeline))
    assert {"loss", "predicted_vs_true", "error_by_quality"} <= set(plots["data"])
    [loss] = plots["data"]["loss"]
    assert set(loss["revisions"]) == {"HEAD", "longer"}
    assert {v["rev"] for v in loss["content"]["data"]["values"]} == {"HEAD", "longer"}

    # `wineq show` finds the run by its DVC experiment's name
    shown = cli("show", "longer")
    assert shown.exit_code == 0, shown.stderr
    assert f"Run {exp_run.run_id} (longer)" in shown.stdout

    # a model trained through DVC is registered and used like any other
    result = cli("register", "--min-rmse", "5", "--run-id", exp_run.run_id)
    assert result.exit_code == 0, result.stderr
    wines = tmp_path / "wines.csv"
    wines.write_text((pipeline / "data" / "wine-quality.csv").read_text()[:4000].rsplit("\n", 1)[0])
    result = cli("infer", str(wines), "--model", "wine-quality@champion")
    assert result.exit_code == 0, result.stderr
    assert f"md5 {exp_run.lineage['model_md5']}" in result.stderr


def _wait_for_queue(root: Path, timeout: float = 420) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = run(["dvc", "queue", "status"], root)
        if "Queued" not in status and "Running" not in status:
            return status
        assert time.monotonic() < deadline, status
        time.sleep(3)


def test_a_parallel_queue_loses_no_run_and_each_model_is_usable(pipeline, cli, remote_dir):
    for seed in (1, 2, 3, 4):
        run(
            ["dvc", "exp", "run", "--queue", "-S", f"train.seed={seed}", "-n", f"s{seed}"], pipeline
        )
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    # the workers outlive `queue start`: keep them off the test's pipes
    subprocess.run(
        ["dvc", "queue", "start", "-j", "2"],
        cwd=pipeline,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    try:
        status = _wait_for_queue(pipeline)
    finally:
        subprocess.run(["dvc", "queue", "stop"], cwd=pipeline, env=env, capture_output=True)
    assert status.count("Success") == 4, status

    runs = tracker_for(pipeline).search_runs()  # in this clone's store, not the temp copies'
    by_name = {r.lineage.get("dvc_experiment"): r for r in runs}
    assert set(by_name) == {"s1", "s2", "s3", "s4"} and len(runs) == 4
    md5s = set()
    for name, record in by_name.items():
        assert record.status == "FINISHED", name
        assert record.params["seed"] == name[1:]
        md5 = record.lineage["model_md5"]
        assert md5_of(remote_dir / "files" / "md5" / md5[:2] / md5[2:]) == md5
        md5s.add(md5)
    assert len(md5s) == 4

    table = {row["Experiment"]: row for row in _exp_table(pipeline)}
    for name, record in by_name.items():
        assert table[name]["mlflow_run_id"] == record.run_id
        # each becomes champion in turn: a tolerance wide enough for any of them
        result = cli("register", "--min-rmse", "5", "--run-id", record.run_id, "--tolerance", "5")
        assert result.exit_code == 0, result.stderr
    assert len(tracker_for(pipeline).versions()) == 4


def test_a_code_change_makes_dvc_train_again(pipeline):
    run(["dvc", "repro"], pipeline)
    assert "up to date" in run(["dvc", "status"], pipeline).lower()
    code = pipeline / "src" / "winequality" / "domain" / "model.py"
    code.write_text(code.read_text() + "\n# a change\n")
    status = run(["dvc", "status"], pipeline)
    assert "train:" in status and "src/winequality" in status
