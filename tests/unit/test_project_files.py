"""What a fresh clone carries for DVC's conventions: the lock and the small outputs of a
real run of the train stage on the committed data, so that `dvc status` reports only
what truly changed since and `dvc exp show` has main's metrics."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_the_lock_records_a_run_on_the_committed_data_params_and_outputs():
    lock = yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"]["train"]
    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["train"]
    assert lock["cmd"] == stage["cmd"]
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert lock["params"]["params.yaml"]["train"] == params["train"]
    data = yaml.safe_load((ROOT / "data.dvc").read_text())["outs"][0]
    (dep,) = [d for d in lock["deps"] if d["path"] == "data/wine-quality.csv"]
    assert dep["size"] == data["size"] and data["nfiles"] == 1  # the one file of data.dvc
    outs = {o["path"]: o for o in lock["outs"]}
    metrics = (ROOT / "reports" / "metrics.json").read_bytes()
    assert outs["reports/metrics.json"]["md5"] == hashlib.md5(metrics).hexdigest()
    plots = sorted((ROOT / "reports" / "plots").iterdir())
    assert outs["reports/plots"]["nfiles"] == len(plots)
    assert outs["reports/plots"]["size"] == sum(p.stat().st_size for p in plots)
    assert 0 < json.loads(metrics)["test_rmse"] < 1
