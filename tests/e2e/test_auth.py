"""A team server with MLflow's own authentication (`mlflow server --app-name basic-auth`),
started on loopback, with three real users made through MLflow's auth API: a trainer
(EDIT on the experiment), a maintainer (MANAGE on the registered model) and a consumer
(READ). Each refusal is one line with its own exit code, and leaves nothing behind."""

from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.support.servers import BIN, free_port, http_ok, mlflow_auth_server, start

ADMIN = ("admin", "admin-Secret-4417")
USERS = {
    "trainer": "trainer-Secret-2291",
    "maintainer": "maintainer-Secret-7730",
    "consumer": "consumer-Secret-5108",
}
EXPERIMENT = MODEL = "wine-quality"


@contextmanager
def login(user: str, password: str):
    """MLflow's credential variables for the block, put back after."""
    names = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")
    before = {name: os.environ.get(name) for name in names}
    os.environ.update(dict(zip(names, (user, password), strict=True)))
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The server, its three users and their permissions, made as an admin would."""
    from mlflow.server import get_app_client
    from mlflow.tracking import MlflowClient

    workdir = tmp_path_factory.mktemp("auth-server")
    server = mlflow_auth_server(workdir, ADMIN)
    try:
        with login(*ADMIN):
            auth = get_app_client("basic-auth", tracking_uri=server.url)
            for user, password in USERS.items():
                auth.create_user(user, password)
            admin = MlflowClient(server.url)
            experiment = admin.create_experiment(EXPERIMENT)
            admin.create_registered_model(MODEL)
            grants = [
                ("trainer", "experiment", experiment, "EDIT"),
                ("maintainer", "experiment", experiment, "READ"),
                ("consumer", "experiment", experiment, "READ"),
                ("maintainer", "registered_model", MODEL, "MANAGE"),
                ("consumer", "registered_model", MODEL, "READ"),
            ]
            for user, kind, resource, permission in grants:
                auth.grant_user_permission(user, kind, resource, permission)
        yield server
    finally:
        server.stop()


@pytest.fixture
def team(project, server, monkeypatch):
    monkeypatch.setenv("WINEQ_TRACKING_URI", server.url)
    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(name, raising=False)  # restored after: the tracker exports .env's
    return project


def as_user(monkeypatch, user: str, password: str | None = None) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password or USERS[user])


def admin_view(server):
    """What the store holds, seen by the admin: run ids and versions."""
    from mlflow.tracking import MlflowClient

    with login(*ADMIN):
        client = MlflowClient(server.url)
        experiment = client.get_experiment_by_name(EXPERIMENT).experiment_id
        runs = {r.info.run_id: r.info.status for r in client.search_runs([experiment])}
        versions = {v.version for v in client.search_model_versions(f"name = '{MODEL}'")}
        aliases = dict(client.get_registered_model(MODEL).aliases or {})
    return runs, versions, aliases


def remote_objects(remote_dir: Path) -> set[str]:
    return {str(p) for p in remote_dir.rglob("*") if p.is_file()}


def one_line(result, code: int) -> str:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stderr.startswith("Error: ") and len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr
    return result.stderr.strip()


def test_each_role_does_what_it_may_and_is_told_plainly_what_it_may_not(
    team, server, cli, monkeypatch, remote_dir, tmp_path
):
    # the trainer trains and lists runs
    as_user(monkeypatch, "trainer")
    result = cli("train", "--epochs", "2", "--members", "2", "--json")
    assert result.exit_code == 0, result.stderr
    listed = cli("runs")  # the registry is not the trainer's to read: said, not fatal
    assert listed.exit_code == 0, listed.stderr
    assert json.loads(result.stdout)["run_id"][:8] in listed.stdout
    assert listed.stderr.startswith("Registered versions not shown: user 'trainer' lacks")
    # ... but may not register
    before = admin_view(server)
    line = one_line(cli("register", "--min-rmse", "5"), 10)
    assert "user 'trainer'" in line and "registering run" in line
    assert f"EDIT or MANAGE on registered model '{MODEL}'" in line
    assert admin_view(server) == before

    # the consumer lists runs, and may neither train nor register
    as_user(monkeypatch, "consumer")
    assert cli("runs").exit_code == 0
    objects = remote_objects(remote_dir)
    line = one_line(cli("train", "--epochs", "2", "--members", "2"), 10)
    assert "user 'consumer'" in line and "starting a run" in line
    assert f"EDIT on experiment '{EXPERIMENT}'" in line
    line = one_line(cli("register", "--min-rmse", "5"), 10)
    assert "user 'consumer'" in line and "registered model" in line
    assert admin_view(server) == before  # no run, version or alias made
    assert remote_objects(remote_dir) == objects  # nothing pushed

    # the maintainer registers and moves the champion
    as_user(monkeypatch, "maintainer")
    result = cli("register", "--min-rmse", "5")
    assert result.exit_code == 0, result.stderr
    runs, versions, aliases = admin_view(server)
    assert aliases == {"champion": "1"} and versions == {"1"}

    # the consumer infers with it
    as_user(monkeypatch, "consumer")
    wines = tmp_path / "wines.csv"
    wines.write_text("\n".join((team / "data" / "wine-quality.csv").read_text().splitlines()[:20]))
    result = cli("infer", str(wines))
    assert result.exit_code == 0, result.stderr
    assert "Predicted 19 wines with wine-quality/1" in result.stderr

    # neither the consumer nor the trainer may move the champion: not by promote, not by force
    as_user(monkeypatch, "trainer")
    newer = json.loads(cli("train", "--epochs", "1", "--members", "2", "--json").stdout)["run_id"]
    as_user(monkeypatch, "maintainer")
    assert cli("register", "--run-id", newer, "--alias", "challenger").exit_code == 0
    before = admin_view(server)
    for user in ("consumer", "trainer"):
        as_user(monkeypatch, user)
        line = one_line(cli("promote", "2", "--reason", "mine now"), 10)
        assert f"user '{user}'" in line and "registered model" in line
        forced = cli("register", "--run-id", newer, "--force", "--reason", "mine now")
        line = one_line(forced, 10)
        assert f"user '{user}'" in line and "registered model" in line
    assert admin_view(server) == before  # every alias and version as it was


@pytest.mark.parametrize(
    "user, password, words",
    [
        ("consumer", "not-the-password", "refused the login of user 'consumer'"),
        ("nobody", "whatever", "refused the login of user 'nobody'"),
        (None, None, "requires a login: set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"),
    ],
)
def test_a_bad_login_is_one_line_of_its_own_kind(
    team, server, cli, monkeypatch, user, password, words
):
    if user:
        as_user(monkeypatch, user, password)
    line = one_line(cli("runs"), 11)
    assert words in line
    if password:
        assert password not in line


def test_a_removed_user_is_told_so(team, server, cli, monkeypatch):
    from mlflow.server import get_app_client

    with login(*ADMIN):
        get_app_client("basic-auth", tracking_uri=server.url).create_user("leaver", "leaver-Pw-881")
    as_user(monkeypatch, "leaver", "leaver-Pw-881")
    assert cli("runs").exit_code == 10  # known, but granted nothing on the experiment
    with login(*ADMIN):
        get_app_client("basic-auth", tracking_uri=server.url).delete_user("leaver")
    assert "refused the login of user 'leaver'" in one_line(cli("runs"), 11)


def test_credentials_come_from_the_projects_env_file(team, server, cli):
    (team / ".env").write_text(
        f"MLFLOW_TRACKING_USERNAME=consumer\nMLFLOW_TRACKING_PASSWORD={USERS['consumer']}\n"
    )
    result = cli("runs", "--json")
    assert result.exit_code == 0, result.stderr


def test_passwords_appear_nowhere(team, server, cli, monkeypatch, remote_dir, tmp_path):
    """Every command above, then a scan of the store, the artifacts, the project and the
    outputs for the passwords."""
    outputs = []
    for user, args in (
        ("trainer", ["train", "--epochs", "2", "--members", "2"]),
        ("trainer", ["-v", "runs"]),
        ("consumer", ["-v", "register", "--min-rmse", "5"]),
        ("consumer", ["train", "--epochs", "2"]),
        ("maintainer", ["register", "--min-rmse", "5"]),
        ("consumer", ["show"]),
    ):
        as_user(monkeypatch, user)
        try:
            result = cli(*args)
            outputs.append(result.stdout + result.stderr)
        except Exception as exc:  # -v lets the error through: its traceback is an output too
            import traceback

            outputs.append("".join(traceback.format_exception(exc)))
    secrets = [password.encode() for password in (*USERS.values(), ADMIN[1])]
    scanned = 0
    for folder in (server.workdir, team, remote_dir):
        for path in folder.rglob("*"):
            if path.is_file() and path.name != "basic_auth.ini":  # the admin's own config
                content = path.read_bytes()
                scanned += len(content)
                for secret in secrets:
                    assert secret not in content, f"{secret!r} in {path}"
    for text in outputs:
        for secret in secrets:
            assert secret.decode() not in text
    print(f"secret scan: {scanned:,} bytes, 0 hits")  # shown with pytest -s
    assert scanned > 100_000  # the store, the artifacts, the data and the model were read


# ---------------------------------------------------------------- storage permissions


@pytest.fixture(scope="module")
def iam_s3(tmp_path_factory):
    """moto's S3 server enforcing IAM: a writer and a read-only user, each with real keys.

    moto checks signatures and policies once its first INITIAL_NO_AUTH_ACTION_COUNT
    requests are spent: the set-up spends some, anonymous calls spend the rest."""
    import boto3

    workdir = tmp_path_factory.mktemp("moto-iam")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start(
        "moto S3 server (IAM enforced)",
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        workdir / "moto.log",
        url,
        http_ok(url + "/moto-api/"),
        env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "40"},
    )
    setup = {"endpoint_url": url, "region_name": "us-east-1"}
    setup |= {"aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
    s3, iam = boto3.client("s3", **setup), boto3.client("iam", **setup)
    s3.create_bucket(Bucket="wineq-team")
    keys = {}
    for user, actions in (
        ("writer", ["s3:*"]),
        ("reader", ["s3:GetObject", "s3:ListBucket", "s3:HeadObject"]),
    ):
        iam.create_user(UserName=user)
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}  # fmt: skip
        iam.put_user_policy(UserName=user, PolicyName="s3", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        keys[user] = {
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    for _ in range(60):  # spend what is left of the unchecked requests
        try:
            s3.list_buckets()
        except Exception:
            break
    else:
        pytest.fail("moto never started to check credentials")
    yield url, keys
    server.stop()


def test_read_only_storage_keys_infer_but_cannot_push_a_model(project, server, iam_s3, tmp_path):
    import subprocess

    from tests.support.project import GIT, run

    endpoint, keys = iam_s3
    run(["dvc", "remote", "add", "-d", "-f", "team", "s3://wineq-team/dvcstore"], project)
    run(["dvc", "remote", "modify", "team", "endpointurl", endpoint], project)
    run(["dvc", "push", "-q", "data.dvc"], project, env={**os.environ, **keys["writer"]})
    run(GIT + ["commit", "-qam", "the team's S3 remote"], project)

    def wineq(user: str, storage: str, *args: str, cwd: Path = project):
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLFLOW_"))},
            **keys[storage],
            "WINEQ_TRACKING_URI": server.url,
            "MLFLOW_TRACKING_USERNAME": user,
            "MLFLOW_TRACKING_PASSWORD": USERS[user],
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        }
        return subprocess.run(
            [str(BIN / "wineq"), *args], cwd=cwd, env=env, capture_output=True, text=True
        )

    trained = wineq("trainer", "writer", "train", "--epochs", "2", "--members", "2", "--json")
    assert trained.returncode == 0, trained.stderr
    run_id = json.loads(trained.stdout)["run_id"]
    registered = wineq("maintainer", "reader", "register", "--min-rmse", "5", "--run-id", run_id)
    assert registered.returncode == 0, registered.stderr
    before = admin_view(server)

    # a read-only key cannot push: the run ends FAILED, nothing is registered
    refused = wineq("trainer", "reader", "train", "--epochs", "2", "--members", "2", "--seed", "5")
    assert refused.returncode == 4, refused.stderr
    assert refused.stderr.startswith("Error: could not push models/model.pt")
    assert len(refused.stderr.splitlines()) == 1
    runs, versions, aliases = admin_view(server)
    failed = set(runs) - set(before[0])
    assert len(failed) == 1 and runs[failed.pop()] == "FAILED"
    assert (versions, aliases) == before[1:]

    # ... and the consumer's read-only key infers, in a clone whose cache is empty
    clone = tmp_path / "clone"
    run(GIT + ["clone", "-q", str(project), str(clone)], tmp_path)
    wines = tmp_path / "wines.csv"
    wines.write_text(
        "\n".join((project / "data" / "wine-quality.csv").read_text().splitlines()[:9])
    )
    inferred = wineq(
        "consumer", "reader", "infer", str(wines), "-o", str(tmp_path / "p.csv"), cwd=clone
    )
    assert inferred.returncode == 0, inferred.stderr
    label = re.search(r"registered as (wine-quality/\d+)", registered.stdout).group(1)
    assert f"Predicted 8 wines with {label}" in inferred.stderr
    secrets = [keys[user]["AWS_SECRET_ACCESS_KEY"] for user in ("reader", "writer")]
    secrets += [USERS["trainer"], USERS["maintainer"], USERS["consumer"]]
    for secret in secrets:
        for output in (trained, registered, refused, inferred):
            assert secret not in output.stdout + output.stderr
    scanned = 0
    for folder in (server.workdir, project, clone):  # store, artifacts, DVC files, data
        for path in folder.rglob("*"):
            if path.is_file() and path.name != "basic_auth.ini":
                content = path.read_bytes()
                scanned += len(content)
                for secret in secrets:
                    assert secret.encode() not in content, f"a secret in {path}"
    print(f"secret scan: {scanned:,} bytes, 0 hits")  # shown with pytest -s
    assert scanned > 100_000
