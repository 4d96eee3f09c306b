"""Load on a team server: 8 `wineq train` and 16 `wineq infer` processes at once, from two
clones, against one authenticated MLflow server (basic-auth, SQLite store) and one S3
remote (moto's server).

    python -m bench team_load PATH/TO/uci-wine-quality [--trainers 8] [--inferers 16]
                                  [--epochs 5]

Checks, after the burst: every process finished or failed with one clear line; no run is
left RUNNING; every finished run's model is fetched from the S3 remote by a store with an
empty cache and re-scores to its recorded test RMSE; `champion` points at a version that
exists. Reports the wall time of the burst and the server's error count (HTTP 5xx and
tracebacks in its log).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.servers import S3_ENV, mlflow_auth_server, moto_s3

from . import summary
from .harness import BIN, WINEQ, run

ADMIN = ("admin", "load-admin-Secret-1")
USERS = {"trainer": "load-trainer-Secret-2", "maintainer": "load-maint-Secret-3"}
USERS["consumer"] = "load-consumer-Secret-4"


def as_admin() -> dict:
    return {"MLFLOW_TRACKING_USERNAME": ADMIN[0], "MLFLOW_TRACKING_PASSWORD": ADMIN[1]}


def set_up_users(url: str) -> None:
    os.environ.update(as_admin())
    from mlflow.server import get_app_client
    from mlflow.tracking import MlflowClient

    auth, client = get_app_client("basic-auth", tracking_uri=url), MlflowClient(url)
    experiment = client.create_experiment("wine-quality")
    client.create_registered_model("wine-quality")
    for user, password in USERS.items():
        auth.create_user(user, password)
    for user, kind, resource, permission in (
        ("trainer", "experiment", experiment, "EDIT"),
        ("maintainer", "experiment", experiment, "READ"),
        ("maintainer", "registered_model", "wine-quality", "MANAGE"),
        ("consumer", "experiment", experiment, "READ"),
        ("consumer", "registered_model", "wine-quality", "READ"),
    ):
        auth.grant_user_permission(user, kind, resource, permission)


def rescore(root: Path, content: bytes) -> float:
    """Test RMSE of a model's bytes on the fixed test split `wineq train` scores on."""
    from winequality.domain import model as nn_model
    from winequality.domain.params import TrainParams
    from winequality.domain.splits import grouped_split, wine_keys
    from winequality.io.validation import load_training_frame
    from winequality.schema import TARGET
    from winequality.settings import Settings

    with open(root / "data" / "wine-quality.csv") as handle:
        frame = load_training_frame(handle, "data/wine-quality.csv")
    split_seed = Settings.model_fields["split_seed"].default
    _, test = grouped_split(wine_keys(frame), TrainParams().test_size, split_seed)
    predicted = nn_model.predict(nn_model.from_bytes(content), nn_model.frame_inputs(frame)[test])
    return nn_model.regression_metrics(frame[TARGET].to_numpy()[test], predicted)["rmse"]


def project(uci: Path, base: Path, endpoint: str) -> tuple[Path, Path]:
    """A committed project with the team's S3 remote and the data, and a second clone."""
    root = base / "project"
    root.mkdir()
    env = {**os.environ, **S3_ENV}
    for cmd in (
        ["git", "init", "-q", "-b", "main"],
        ["dvc", "init", "-q"],
        ["dvc", "config", "core.analytics", "false"],
        ["dvc", "remote", "add", "-d", "team", "s3://wineq-load/dvcstore"],
        ["dvc", "remote", "modify", "team", "endpointurl", endpoint],
    ):
        subprocess.run(cmd, cwd=root, check=True, env=env)
    (root / ".gitignore").write_text("mlflow.db*\nmlruns/\n.env\n")
    subprocess.run(
        [WINEQ, "data", "import", "--source", str(uci.resolve())], cwd=root, check=True, env=env
    )
    run(["git", "add", "-A"], root)
    run(["git", "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-qm", "team"], root)
    clone = base / "clone"
    run(["git", "clone", "-q", str(root), str(clone)], base)
    subprocess.run(["dvc", "pull", "-q", "data.dvc"], cwd=clone, check=True, env=env)
    return root, clone


def wineq(user: str, url: str, cwd: Path, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_TRACKING_", "WINEQ_"))}
    env |= S3_ENV | {"WINEQ_TRACKING_URI": url, "COLUMNS": "200"}
    env |= {"MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": USERS[user]}
    return subprocess.Popen(
        [WINEQ, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=summary(__doc__))
    parser.add_argument("uci", type=Path, help="folder with the two UCI files")
    parser.add_argument("--trainers", type=int, default=8, help="default 8")
    parser.add_argument("--inferers", type=int, default=16, help="default 16")
    parser.add_argument("--epochs", type=int, default=5, help="default 5")
    args = parser.parse_args(argv)

    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ['PATH']}"  # dvc, git hooks: the venv's
    base = Path(tempfile.mkdtemp(prefix="wineq-load-"))
    s3 = moto_s3(base)
    server = mlflow_auth_server(base / "server", ADMIN, workers=None)  # as teams run it
    try:
        import boto3

        boto3.client("s3", endpoint_url=s3.url, region_name=S3_ENV["AWS_DEFAULT_REGION"], **{
            "aws_access_key_id": S3_ENV["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": S3_ENV["AWS_SECRET_ACCESS_KEY"],
        }).create_bucket(Bucket="wineq-load")  # fmt: skip
        os.environ["AWS_DEFAULT_REGION"] = S3_ENV["AWS_DEFAULT_REGION"]
        set_up_users(server.url)
        clones = project(args.uci, base, s3.url)
        first = wineq("trainer", server.url, clones[0], "train", "--epochs", "2", "--json")
        out, err = first.communicate()
        assert first.returncode == 0, err
        reg = wineq("maintainer", server.url, clones[0], "register", "--min-rmse", "1")
        assert reg.wait() == 0, reg.stderr.read()
        wines = base / "wines.csv"
        wines.write_text(
            "\n".join((clones[0] / "data" / "wine-quality.csv").read_text().splitlines()[:2001])
        )

        started = time.monotonic()
        jobs = []
        for i in range(args.trainers):
            cmd = ("train", "--epochs", str(args.epochs), "--seed", str(i + 1), "--json")
            jobs.append(("train", wineq("trainer", server.url, clones[i % 2], *cmd)))
        for i in range(args.inferers):
            output = base / f"predictions-{i}.csv"
            cmd = ("infer", str(wines), "--output", str(output))
            jobs.append(("infer", wineq("consumer", server.url, clones[i % 2], *cmd)))
        results = [(kind, p, *p.communicate(timeout=1800)) for kind, p in jobs]
        wall = time.monotonic() - started

        outcomes: dict[str, int] = {}
        run_ids = []
        for kind, process, out, err in results:
            ok = process.returncode == 0
            outcomes[f"{kind} {'ok' if ok else 'failed'}"] = outcomes.get(f"{kind} {'ok' if ok else 'failed'}", 0) + 1  # fmt: skip
            if not ok:
                lines = err.strip().splitlines()
                clear = len(lines) == 1 and lines[0].startswith("Error: ")
                print(
                    f"{kind} exit {process.returncode}: {err.strip()[:300]!r} (one line: {clear})"
                )
            elif kind == "train":
                run_ids.append(json.loads(out)["run_id"])

        from mlflow.tracking import MlflowClient

        from winequality.adapters.dvc import ModelStore

        os.environ.update(as_admin())
        client = MlflowClient(server.url)
        experiment = client.get_experiment_by_name("wine-quality").experiment_id
        statuses = [r.info.status for r in client.search_runs([experiment], max_results=1000)]
        os.environ.update(S3_ENV)
        fresh = base / "fetcher"
        run(["git", "clone", "-q", str(clones[0]), str(fresh)], base)
        store = ModelStore(fresh)  # an empty cache: the S3 remote is the only source
        rescored = 0
        for run_id in run_ids:
            recorded = client.get_run(run_id)
            tags, metrics = recorded.data.tags, recorded.data.metrics
            content = store.fetch(tags["wineq.model_path"], tags["wineq.model_md5"])
            assert abs(rescore(clones[0], content) - metrics["test_rmse"]) < 1e-6, run_id
            rescored += 1
        champion = client.get_model_version_by_alias("wine-quality", "champion")
        log = (base / "server" / "server.log").read_text(errors="replace")
        errors = len(re.findall(r'" 5\d\d ', log)) + log.count("Traceback")
        report = {
            "trainers": args.trainers,
            "inferers": args.inferers,
            "epochs": args.epochs,
            "wall_seconds": round(wall, 1),
            "outcomes": outcomes,
            "runs_by_status": {s: statuses.count(s) for s in sorted(set(statuses))},
            "left_running": statuses.count("RUNNING"),
            "rescored_to_their_rmse": f"{rescored}/{len(run_ids)}",
            "champion": f"wine-quality/{champion.version} (exists)",
            "server_errors": errors,
        }
        print(json.dumps(report, indent=2))
        return 0
    finally:
        server.stop()
        s3.stop()
        shutil.rmtree(base, ignore_errors=True)
