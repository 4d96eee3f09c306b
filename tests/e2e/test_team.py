"""From a laptop to a team: a real `mlflow server` (SQLite and PostgreSQL), an S3 DVC remote
on moto's standalone server, concurrent trainers, and clean failures."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from tests.support.project import GIT, load_elsewhere, md5_of, run, tracker_for
from tests.support.servers import BIN, S3_ENV, Postgres, free_port, mlflow_server

# ---------------------------------------------------------------- fixtures


def use_s3_remote(root: Path, endpoint: str, prefix: str) -> str:
    """Make an S3 remote the committed default, as a team would, and push the data there."""
    url = f"s3://wineq/{prefix}/dvcstore"
    env = {**os.environ, **S3_ENV}
    run(["dvc", "remote", "add", "-d", "-f", "s3", url], root)
    run(["dvc", "remote", "modify", "s3", "endpointurl", endpoint], root)
    run(["dvc", "push", "-q", "data.dvc"], root, env=env)
    run(GIT + ["commit", "-qam", "Use the team's S3 remote"], root)
    return url


def wineq(*args: str, cwd: Path, env: dict, **kw) -> subprocess.Popen:
    full = {
        **os.environ,
        **S3_ENV,
        **env,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "COLUMNS": "200",
    }
    # a runner started in the background ignores SIGINT, and so would every child: the
    # trainer gets Ctrl-C's default back, as it has on a terminal
    kw.setdefault("preexec_fn", lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    return subprocess.Popen([str(BIN / "wineq"), *args], cwd=cwd, env=full,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)  # fmt: skip


def rescore(root: Path, content: bytes) -> float:
    """Test RMSE of a model's bytes on the project's fixed test split."""
    from winequality.domain import model as nn_model
    from winequality.domain.splits import grouped_split, wine_keys
    from winequality.io.validation import load_training_frame

    with open(root / "data" / "wine-quality.csv") as handle:
        frame = load_training_frame(handle, "data")
    _, test = grouped_split(wine_keys(frame), 0.2, 20091)
    predicted = nn_model.predict(nn_model.from_bytes(content), nn_model.frame_inputs(frame)[test])
    return nn_model.regression_metrics(frame["quality"].to_numpy()[test], predicted)["rmse"]


def fresh_clone(root: Path, where: Path) -> Path:
    run(GIT + ["clone", "-q", str(root), str(where)], root.parent)
    return where


def check_trainers(processes, clone_for_fetch: Path, tracker) -> list:
    """All trainers finished, each with its own hash, and each hash fetches the bytes it scored."""
    from winequality.adapters.dvc import ModelStore

    outputs = [p.communicate(timeout=600) for p in processes]
    for p, (out, err) in zip(processes, outputs, strict=True):
        assert p.returncode == 0, err
        assert "locked" not in err.lower() and "lock" not in out.lower(), err
    run_ids = [json.loads(out)["run_id"] for out, _ in outputs]
    runs = [tracker.get_run(r) for r in run_ids]
    assert all(r.status == "FINISHED" for r in runs)
    hashes = [r.lineage["model_md5"] for r in runs]
    assert len(set(hashes)) == len(runs)
    store = ModelStore(clone_for_fetch)  # empty cache: the remote is the only source
    for r in runs:
        content = store.fetch(r.lineage["model_path"], r.lineage["model_md5"])
        assert rescore(clone_for_fetch, content) == pytest.approx(r.metrics["test_rmse"], abs=1e-6)
    return runs


# ---------------------------------------------------------------- servers


def test_the_whole_workflow_on_a_sqlite_server_and_an_s3_remote(
    project, cli, sqlite_server, s3, aws, tmp_path, monkeypatch
):
    endpoint, client = s3
    use_s3_remote(project, endpoint, "workflow")
    monkeypatch.setenv("WINEQ_TRACKING_URI", sqlite_server)
    result = cli("train", "--epochs", "3", "--json")
    assert result.exit_code == 0, result.stderr
    run_id = json.loads(result.stdout)["run_id"]
    result = cli("register", "--min-rmse", "5")
    assert result.exit_code == 0, result.stderr
    tracker = tracker_for(project)
    version = tracker.version_by_alias("champion")
    assert version.run_id == run_id
    md5 = version.lineage["model_md5"]
    keys = [
        o["Key"] for o in client.list_objects_v2(Bucket="wineq", Prefix="workflow/")["Contents"]
    ]
    assert f"workflow/dvcstore/files/md5/{md5[:2]}/{md5[2:]}" in keys
    assert version.lineage["dvc_remote"] == "s3 (s3://wineq/workflow/dvcstore)"
    # credentials are never recorded
    recorded = repr(tracker.get_run(run_id)) + repr(version)
    assert (
        S3_ENV["AWS_SECRET_ACCESS_KEY"] not in recorded
        and S3_ENV["AWS_ACCESS_KEY_ID"] not in recorded
    )

    wines = project / "data" / "wine-quality.csv"
    expected = cli("infer", wines).stdout
    # MLflow's own loader on a machine with no clone: the tracking URI and the S3
    # credentials in the environment, the bytes from the recorded S3 remote
    loaded = load_elsewhere(
        tmp_path / "deploy", project, "models:/wine-quality@champion", wines,
        MLFLOW_TRACKING_URI=sqlite_server, **S3_ENV,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    columns = expected.splitlines()[0].split(";")
    at = columns.index('"predicted_quality"')
    by_wineq = [float(line.split(";")[at]) for line in expected.splitlines()[1:]]
    assert json.loads(loaded.stdout)["predicted_quality"] == by_wineq
    clone = fresh_clone(project, tmp_path / "clone")
    monkeypatch.chdir(clone)
    result = cli("infer", wines, "--model", "wine-quality/1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == expected
    assert "v1@champion" in cli("runs").stdout


def test_the_workflow_on_a_postgresql_backed_server(project, cli, tmp_path, monkeypatch):
    postgres = Postgres()
    try:
        server = mlflow_server(tmp_path, postgres.uri)
        try:
            monkeypatch.setenv("WINEQ_TRACKING_URI", server.url)
            for seed in (1, 2):
                assert cli("train", "--epochs", "2", "--seed", str(seed)).exit_code == 0
            result = cli("register", "--min-rmse", "5")
            assert result.exit_code == 0, result.stderr
            tracker = tracker_for(project)
            best = tracker.best_run()
            assert tracker.version_by_alias("champion").run_id == best.run_id
            result = cli("infer", project / "data" / "wine-quality.csv")
            assert result.exit_code == 0, result.stderr
            assert "Against the quality column" in result.stderr
        finally:
            server.stop()
    finally:
        postgres.stop()


# ---------------------------------------------------------------- concurrency


def test_four_trainers_in_one_work_tree_on_a_server_and_s3(
    project, sqlite_server, s3, aws, tmp_path
):
    use_s3_remote(project, s3[0], "four")
    env = {"WINEQ_TRACKING_URI": sqlite_server, "WINEQ_EXPERIMENT": "four-at-once"}
    processes = [
        wineq("train", "--epochs", "3", "--seed", str(seed), "--json", cwd=project, env=env)
        for seed in range(4)
    ]
    clone = fresh_clone(project, tmp_path / "checker")
    run(["dvc", "pull", "-q", "data.dvc"], clone, env={**os.environ, **S3_ENV})
    tracker = tracker_for(project, tracking_uri=sqlite_server, experiment="four-at-once")
    check_trainers(processes, clone, tracker)


def test_two_clones_share_a_server_and_an_s3_remote(project, sqlite_server, s3, aws, tmp_path):
    use_s3_remote(project, s3[0], "clones")
    clones = [fresh_clone(project, tmp_path / f"clone{i}") for i in range(3)]
    env = {"WINEQ_TRACKING_URI": sqlite_server, "WINEQ_EXPERIMENT": "two-clones"}
    processes = [
        wineq("train", "--epochs", "3", "--seed", str(10 + i), "--json", cwd=clones[i % 2], env=env)
        for i in range(4)
    ]
    run(["dvc", "pull", "-q", "data.dvc"], clones[2], env={**os.environ, **S3_ENV})
    tracker = tracker_for(project, tracking_uri=sqlite_server, experiment="two-clones")
    check_trainers(processes, clones[2], tracker)


def test_four_trainers_on_the_embedded_sqlite_store(project, tmp_path):
    processes = [
        wineq("train", "--epochs", "3", "--seed", str(seed), "--json", cwd=project, env={})
        for seed in range(4)
    ]
    clone = fresh_clone(project, tmp_path / "checker")
    run(["dvc", "pull", "-q", "data.dvc"], clone)
    runs = check_trainers(processes, clone, tracker_for(project))
    assert {r.params["seed"] for r in runs} == {"0", "1", "2", "3"}


# ---------------------------------------------------------------- failures


def test_an_unreachable_server_is_a_clear_error_within_seconds(project, cli, monkeypatch):
    monkeypatch.setenv("WINEQ_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    for args in (("train", "--epochs", "1"), ("register",), ("runs",)):
        started = time.monotonic()
        result = cli(*args)
        assert time.monotonic() - started < 10
        assert result.exit_code == 6
        assert "Error: MLflow tracking server http://127.0.0.1:" in result.stderr
        assert "is unreachable" in result.stderr and "fix WINEQ_TRACKING_URI" in result.stderr
    assert not (project / "models" / "model.pt").exists()


def test_a_server_that_never_answers_is_an_error_not_a_hang(project, cli, monkeypatch):
    with socket.socket() as silent:  # accepts connections, never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setenv("WINEQ_TRACKING_URI", f"http://127.0.0.1:{silent.getsockname()[1]}")
        monkeypatch.setenv("WINEQ_TRACKING_TIMEOUT", "3")
        started = time.monotonic()
        result = cli("runs")
        assert time.monotonic() - started < 10
    assert result.exit_code == 6 and "is unreachable (timed out)" in result.stderr


def test_an_unreachable_dvc_remote_leaves_no_registrable_run(project, cli, aws, monkeypatch):
    run(["dvc", "remote", "add", "--local", "-d", "down", "s3://wineq/down"], project)
    run(
        [
            "dvc",
            "remote",
            "modify",
            "--local",
            "down",
            "endpointurl",
            f"http://127.0.0.1:{free_port()}",
        ],
        project,
    )
    result = cli("train", "--epochs", "2")
    # the run's data version must be in the remote first: no run starts without it
    assert result.exit_code == 4
    assert result.stderr.startswith("Error: could not push the data version ")
    assert "Could not connect to the endpoint URL" in result.stderr
    tracker = tracker_for(project)
    assert tracker.search_runs() == []
    result = cli("register", "--min-rmse", "5")
    assert result.exit_code == 8 and "no finished runs" in result.stderr
    assert tracker.versions() == []


def interrupt_training(project: Path, seed: int, sig: int) -> tuple[subprocess.Popen, str]:
    """Start a long `wineq train`, wait until its run is RUNNING and training, send `sig`."""
    trainer = wineq("train", "--epochs", "100000", "--seed", str(seed), cwd=project, env={})
    tracker = tracker_for(project)
    deadline = time.monotonic() + 120
    while not any(r.status == "RUNNING" for r in tracker.search_runs()):
        assert trainer.poll() is None and time.monotonic() < deadline, trainer.communicate()
        time.sleep(0.2)
    time.sleep(1.0)  # well into the epochs
    trainer.send_signal(sig)
    _, err = trainer.communicate(timeout=60)
    return trainer, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_training_ends_killed_and_never_tears_the_model(project, cli, sig):
    assert cli("train", "--epochs", "1").exit_code == 0
    model = project / "models" / "model.pt"
    before = model.read_bytes()
    trainer, err = interrupt_training(project, seed=3, sig=sig)
    assert trainer.returncode == 130, err
    assert "ended as KILLED" in err
    newest = tracker_for(project).search_runs()[0]
    assert newest.status == "KILLED" and newest.params["seed"] == "3"
    assert model.read_bytes() == before


def test_altered_bytes_in_the_remote_heal_from_the_vault_or_are_refused(
    project, cli, s3, aws, tmp_path, monkeypatch
):
    endpoint, client = s3
    use_s3_remote(project, endpoint, "altered")
    assert cli("train", "--epochs", "2").exit_code == 0
    assert cli("register", "--min-rmse", "5").exit_code == 0
    md5 = tracker_for(project).version("1").lineage["model_md5"]
    keys = [
        f"altered/dvcstore/{area}/{md5[:2]}/{md5[2:]}"
        for area in ("files/md5", "wineq-vault/models")
    ]
    originals = [client.get_object(Bucket="wineq", Key=key)["Body"].read() for key in keys]
    monkeypatch.setenv("WINEQ_TRACKING_URI", f"sqlite:///{project / 'mlflow.db'}")

    def alter(key: str, content: bytes) -> None:
        altered = bytearray(content)
        altered[len(altered) // 2] ^= 0xFF
        client.put_object(Bucket="wineq", Key=key, Body=bytes(altered))

    alter(keys[0], originals[0])  # DVC's copy: the vault's heals it, in the same command
    monkeypatch.chdir(fresh_clone(project, tmp_path / "healed"))
    healed = cli("infer", project / "data" / "wine-quality.csv")
    assert healed.exit_code == 0, healed.stderr

    alter(keys[1], originals[1])  # both copies
    monkeypatch.chdir(fresh_clone(project, tmp_path / "clone"))
    result = cli("infer", project / "data" / "wine-quality.csv")
    assert result.exit_code == 5, result.stderr
    assert result.stderr.startswith(
        "Error: wine-quality/1: models/model.pt: the copy in DVC remote s3 (s3://wineq/altered/"
    )
    assert f"does not hash to the recorded {md5}; the remote's object is damaged" in result.stderr
    assert md5_of(project / "models" / "model.pt") == md5  # the original is untouched


def test_dvc_gc_on_an_s3_remote_loses_no_model(project, cli, s3, aws, tmp_path, monkeypatch):
    endpoint, client = s3
    use_s3_remote(project, endpoint, "collected")
    assert cli("train", "--epochs", "2").exit_code == 0
    assert cli("register", "--min-rmse", "5").exit_code == 0
    md5 = tracker_for(project).version("1").lineage["model_md5"]
    run(["dvc", "gc", "-w", "-c", "-f"], project, env={**os.environ, **S3_ENV})
    listed = client.list_objects_v2(Bucket="wineq", Prefix="collected/")["Contents"]
    assert not any(o["Key"].endswith(f"files/md5/{md5[:2]}/{md5[2:]}") for o in listed)
    monkeypatch.setenv("WINEQ_TRACKING_URI", f"sqlite:///{project / 'mlflow.db'}")
    monkeypatch.chdir(fresh_clone(project, tmp_path / "clone"))
    result = cli("infer", project / "data" / "wine-quality.csv")
    assert result.exit_code == 0, result.stderr
    assert cli("check").exit_code == 0
