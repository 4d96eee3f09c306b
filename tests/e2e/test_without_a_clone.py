"""The people who only use the model: wineq installed from its wheel into a fresh virtual
environment, run from an empty folder with nothing but the team's tracking URI and the
remote's credentials — a real `mlflow server` and an S3 remote (moto) on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pandas as pd
import pytest
from tests.support.project import tracker_for
from tests.support.servers import S3_ENV

REPO = Path(__file__).resolve().parents[2]
NAMES = {"WINEQ_EXPERIMENT": "consumers", "WINEQ_MODEL_NAME": "consumer-model"}


@pytest.fixture(scope="session")
def wheel_venv(tmp_path_factory) -> Path:
    """A fresh venv holding only wineq's wheel. Its dependencies (torch, MLflow, DVC: GBs
    from the registry) are this venv's, reached by a .pth file placed after the venv's own
    packages, so `winequality` itself can only come from the wheel."""
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(folder / "dist"), str(REPO)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = (folder / "dist").glob("wineq-*.whl")
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    own = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    (Path(own) / "zz_wineq_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def consumer(venv: Path, folder: Path, server: str, *args: str) -> subprocess.CompletedProcess:
    """`wineq ARGS` from the wheel's venv in `folder`: the tracking URI and the S3 keys in
    the environment, the user's cache in the folder, no WINEQ_* but the names."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WINEQ_", "MLFLOW_"))}
    env.update(S3_ENV)
    env.update(NAMES)
    env.update(MLFLOW_TRACKING_URI=server, XDG_CACHE_HOME=str(folder / "cache"), COLUMNS="200")
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        [str(venv / "bin" / "wineq"), *args],
        cwd=folder, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_the_wheel_scores_lists_shows_and_compares_from_an_empty_folder(
    project, cli, sqlite_server, s3, aws, wheel_venv, tmp_path, monkeypatch
):
    from tests.e2e.test_team import use_s3_remote

    endpoint, _ = s3
    use_s3_remote(project, endpoint, "consumers")
    monkeypatch.setenv("WINEQ_TRACKING_URI", sqlite_server)
    for key, value in NAMES.items():
        monkeypatch.setenv(key, value)
    runs = []
    for seed in ("1", "2"):
        result = cli("train", "--epochs", "3", "--seed", seed, "--json")
        assert result.exit_code == 0, result.stderr
        runs.append(json.loads(result.stdout)["run_id"])
    assert cli("register", "--min-rmse", "5", "--run-id", runs[0]).exit_code == 0
    wines = project / "data" / "wine-quality.csv"
    frame = pd.read_csv(wines, sep=";").drop(columns="quality").head(20)
    frame.to_csv(tmp_path / "wines.csv", sep=";", index=False)
    expected = cli("infer", tmp_path / "wines.csv").stdout

    empty = tmp_path / "empty"
    empty.mkdir()
    in_venv = consumer(wheel_venv, empty, sqlite_server, "--version")
    assert in_venv.stdout.strip() == "wineq 0.2.0", in_venv.stderr
    where = consumer(wheel_venv, empty, sqlite_server, "infer", "--help")
    assert where.returncode == 0
    listed = consumer(wheel_venv, empty, sqlite_server, "runs")
    assert listed.returncode == 0, listed.stderr
    assert runs[0][:8] in listed.stdout and runs[1][:8] in listed.stdout
    assert "v1@champion" in listed.stdout
    shown = consumer(wheel_venv, empty, sqlite_server, "show", "@champion")
    assert shown.returncode == 0, shown.stderr
    assert runs[0] in shown.stdout and "s3 (s3://wineq/consumers/dvcstore)" in shown.stdout
    for how in (
        [],
        ["--model", "1"],
        ["--model", "consumer-model@champion"],
        ["--run-id", runs[0]],
    ):
        scored = consumer(
            wheel_venv, empty, sqlite_server, "infer", str(tmp_path / "wines.csv"), *how
        )
        assert scored.returncode == 0, scored.stderr
        assert scored.stdout == expected, how
    md5 = tracker_for(project).get_run(runs[0]).lineage["model_md5"]
    cached = list((empty / "cache" / "wineq" / "dvc").rglob(md5[2:]))
    assert len(cached) == 1  # fetched once from the recorded S3 remote, into the user's cache
    # the data versions both runs trained on come from the same remote: compare leaves
    # out every wine either trained on
    compared = consumer(
        wheel_venv, empty, sqlite_server, "compare", "1", runs[1], "--data", str(wines), "--json"
    )
    assert compared.returncode == 0, compared.stderr
    found = json.loads(compared.stdout)
    in_clone = json.loads(cli("compare", "1", runs[1], "--data", wines, "--json").stdout)
    assert found["wines"] == in_clone["wines"] > 0
    assert [m["scores"] for m in found["models"]] == [m["scores"] for m in in_clone["models"]]
    for command in (["train"], ["register"], ["data", "log"]):
        refused = consumer(wheel_venv, empty, sqlite_server, *command)
        assert refused.returncode == 9
        assert refused.stderr.startswith(f"Error: wineq {command[0]} needs a clone of the project")
        assert len(refused.stderr.splitlines()) == 1
    assert sorted(p.name for p in empty.iterdir()) == ["cache"]  # nothing else left behind


def test_a_run_from_before_the_location_tag_is_fetched_from_its_mlflow_model(
    project, cli, sqlite_server, s3, aws, wheel_venv, tmp_path, monkeypatch
):
    """Runs recorded before `wineq.dvc_location` name their remote in the MLflow Model's
    dvc_remote.json; outside a clone that is where the bytes are fetched from."""
    from tests.e2e.test_team import use_s3_remote

    use_s3_remote(project, s3[0], "older")
    monkeypatch.setenv("WINEQ_TRACKING_URI", sqlite_server)
    monkeypatch.setenv("WINEQ_EXPERIMENT", "older-runs")
    result = cli("train", "--epochs", "3", "--json")
    assert result.exit_code == 0, result.stderr
    run_id = json.loads(result.stdout)["run_id"]
    tracker = tracker_for(project)
    tracker.connection.client.delete_tag(run_id, "wineq.dvc_location")
    wines = project / "data" / "wine-quality.csv"
    expected = cli("infer", wines, "--run-id", run_id).stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    scored = consumer(wheel_venv, empty, sqlite_server, "infer", str(wines), "--run-id", run_id)
    assert scored.returncode == 0, scored.stderr
    assert scored.stdout == expected


def test_the_quick_readers_answer_as_mlflows_client(
    project, cli, sqlite_server, s3, aws, monkeypatch
):
    """`wineq runs`, `show` and `infer` read runs and versions through MLflow's REST API
    (a server) or its SQLite file (the embedded store) without importing MLflow; each
    answer equals MlflowClient's, field for field."""
    for uri in (None, sqlite_server):
        if uri:
            monkeypatch.setenv("WINEQ_TRACKING_URI", uri)
        monkeypatch.setenv("WINEQ_EXPERIMENT", "quick")
        monkeypatch.setenv("WINEQ_MODEL_NAME", "quick-model")
        for _ in range(3):
            assert cli("train", "--epochs", "2", "--json").exit_code == 0
        assert cli("register", "--min-rmse", "5").exit_code == 0
        tracker = tracker_for(project)
        quick = tracker.quick
        assert type(quick).__name__ == ("RestReader" if uri else "SqliteReader")
        for size, page in ((2, 1), (2, 2), (2, 3), (10, 1)):
            assert quick.runs_page("quick", size, page) == tracker.reader.runs_page(size, page)
        runs, _ = tracker.reader.runs_page(10, 1)
        for run in runs:
            assert quick.get_run(run.run_id) == tracker.reader.get_run(run.run_id)
            assert quick.artifacts(run.run_id) == tracker.reader.artifacts(run.run_id)
        assert quick.versions("quick-model") == tracker.registry.versions()
        assert quick.version("quick-model", "1") == tracker.registry.version("1")
        assert quick.version_by_alias(
            "quick-model", "champion"
        ) == tracker.registry.version_by_alias("champion")
