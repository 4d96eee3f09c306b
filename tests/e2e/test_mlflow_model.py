"""Every registered version is an MLflow Model: MLflow's own loader takes it, inside a
clone or on a machine with nothing but the tracking URI and the remote, and its bytes
still come only from DVC."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from tests.support.project import HEADER, load_elsewhere, synthetic_wines, tracker_for


@pytest.fixture
def registered(project, cli):
    result = cli("train", "--epochs", "3", "--json")
    assert result.exit_code == 0, result.stderr
    registered = cli("register", "--min-rmse", "5")
    assert registered.exit_code == 0, registered.stderr
    return json.loads(result.stdout)["run_id"]


@pytest.fixture
def wines(tmp_path) -> Path:
    path = tmp_path / "wines.csv"
    rows = [r + ";white" for r in synthetic_wines(40, "white", seed=21)]
    path.write_text(HEADER + ';"color"\n' + "\n".join(rows) + "\n")
    return path


OUTPUT = ["predicted_quality", "quality_low", "quality_high", "p_premium", "unusual"]


def wineq_predictions(cli, wines: Path, out: Path) -> list[float]:
    return wineq_output(cli, wines, out)["predicted_quality"]


def wineq_output(cli, wines: Path, out: Path, *options: str) -> dict[str, list[float]]:
    result = cli("infer", wines, "--output", out, *options)
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(out, sep=";")[OUTPUT].to_dict(orient="list")


def assert_same_output(found: dict, expected: dict) -> None:
    """Every column to the bit: the file's decimals and MLflow's np.round are one number."""
    assert list(found) == OUTPUT
    for name in OUTPUT:
        assert found[name] == expected[name], name


def test_a_run_logs_an_mlflow_model_of_pointers_and_code(project, registered):
    import mlflow
    from mlflow.models import Model
    from mlflow.tracking._tracking_service.utils import is_tracking_uri_set

    assert not is_tracking_uri_set()  # register borrowed the process-wide URI and gave it back

    tracker = tracker_for(project)
    version = tracker.version_by_alias("champion")
    model_id = version.lineage["mlflow_model_id"]
    client = tracker.client
    mv = client.get_model_version("wine-quality", "1")
    assert mv.source == f"models:/{model_id}"  # a source MLflow resolves to the logged model
    local = Path(client.download_artifacts(registered, "", str(project.parent / "dl")))
    logged = client.get_logged_model(model_id)
    assert logged.source_run_id == registered
    run = client.get_run(registered)  # the run's output: its page in MLflow's UI lists it
    assert [m.model_id for m in run.outputs.model_outputs] == [model_id]
    folder = Path(
        mlflow.artifacts.download_artifacts(
            f"models:/{model_id}",
            dst_path=str(project.parent / "model"),
            tracking_uri=tracker.store.uri,
        )
    )
    mlmodel = Model.load(str(folder / "MLmodel"))
    assert "python_function" in mlmodel.flavors
    # no declared inputs: MLflow's check would refuse integer columns; the model checks
    assert mlmodel.signature.inputs is None
    assert mlmodel.signature.outputs.to_dict() == [
        {"name": name, "type": "boolean" if name == "unusual" else "double", "required": True}
        for name in OUTPUT
    ]
    params = {p["name"]: p for p in mlmodel.signature.params.to_dict()}
    assert (params["interval"]["default"], params["premium"]["default"]) == (0.8, 7)
    files = {p.relative_to(folder).as_posix(): p.stat().st_size for p in folder.rglob("*")}
    assert not any(name.endswith("model.pt") for name in files)  # the bytes stay in DVC
    assert max(files.values()) < 100_000
    pointer = (folder / "artifacts" / "model.pt.dvc").read_text()
    assert f"md5: {version.lineage['model_md5']}" in pointer
    assert json.loads((folder / "artifacts" / "dvc_remote.json").read_text())["name"] == "shared"
    assert local.is_dir()


def test_mlflow_loads_it_inside_and_outside_a_clone_with_wineqs_predictions(
    project, cli, registered, wines, tmp_path
):
    expected = wineq_output(cli, wines, tmp_path / "out.csv")
    inside = load_elsewhere(project / "sub", project, "models:/wine-quality@champion", wines)
    assert inside.returncode == 0, inside.stderr
    assert_same_output(json.loads(inside.stdout), expected)
    outside = load_elsewhere(tmp_path / "empty", project, "models:/wine-quality@champion", wines)
    assert outside.returncode == 0, outside.stderr
    assert_same_output(json.loads(outside.stdout), expected)
    md5 = tracker_for(project).version("1").lineage["model_md5"]
    cached = list((tmp_path / "empty" / "cache" / "wineq" / "dvc").rglob(md5[2:]))
    assert len(cached) == 1  # fetched from the recorded remote into the machine's cache


def test_altered_bytes_heal_or_are_refused_by_mlflows_loader_as_by_wineq(
    project, cli, registered, wines, tmp_path
):
    from tests.support.project import damaged, remote_object

    md5 = tracker_for(project).version("1").lineage["model_md5"]
    cached = project / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    expected = wineq_output(cli, wines, tmp_path / "before.csv")
    with damaged(cached):  # the remote still has the truth: fetched again, in the same call
        healed = load_elsewhere(project / "sub", project, "models:/wine-quality/1", wines)
        assert healed.returncode == 0, healed.stderr
        assert_same_output(json.loads(healed.stdout), expected)
    vaulted = remote_object(project, md5, "wineq-vault/models")
    with damaged(cached), damaged(remote_object(project, md5)):  # the vault's copy heals
        healed = load_elsewhere(project / "sub", project, "models:/wine-quality/1", wines)
        assert healed.returncode == 0, healed.stderr
    with damaged(cached), damaged(remote_object(project, md5)), damaged(vaulted):
        done = load_elsewhere(project / "sub", project, "models:/wine-quality/1", wines)
    with damaged(cached), damaged(remote_object(project, md5)), damaged(vaulted):
        by_wineq = cli("infer", wines)
    assert done.returncode != 0 and by_wineq.exit_code == 5
    refusal = by_wineq.stderr.removeprefix("Error: wine-quality/1: ").strip()
    assert refusal.startswith("models/model.pt: the DVC cache's copy hashes to ")
    assert "and the copy in DVC remote shared (" in refusal
    assert f"IntegrityError: {refusal}" in done.stderr


def test_a_frame_without_the_columns_or_with_text_is_refused_with_wineqs_message(
    project, registered, global_tracking_uri
):
    import mlflow
    from mlflow.exceptions import MlflowException
    from tests.support.project import FIRST_RED

    from winequality.schema import FEATURES

    model = mlflow.pyfunc.load_model("models:/wine-quality@champion")
    with pytest.raises(MlflowException) as missing:
        model.predict(pd.DataFrame({"alcohol": [10.0], "color": ["red"]}))
    assert missing.value.message == (
        "the input frame: missing column 'fixed acidity' (needs all 11 UCI features)"
    )
    text = pd.DataFrame([FIRST_RED], columns=FEATURES).assign(color="red").astype({"pH": object})
    text.loc[0, "pH"] = "3,51"
    with pytest.raises(MlflowException) as refused:
        model.predict(text)
    assert refused.value.message == (
        "the input frame: column 'pH', row 1 (line 2) has '3,51', not a number"
    )


def test_mlflow_models_serve_answers_with_wineqs_predictions(
    project, cli, registered, wines, tmp_path
):
    """`mlflow models serve` as a deployment machine runs it: an empty folder, the tracking
    URI in the environment, a real server process on a loopback port."""
    import urllib.error
    import urllib.request

    from tests.support.servers import BIN, free_port, http_ok, start

    expected = wineq_output(cli, wines, tmp_path / "out.csv")
    at_90 = wineq_output(cli, wines, tmp_path / "out90.csv", "--interval", "0.9")
    folder = tmp_path / "deploy"
    folder.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
        "XDG_CACHE_HOME": str(folder / "cache"),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",  # MLflow runs `uvicorn` from PATH
    }
    server = start(
        "mlflow models serve",
        [str(BIN / "mlflow"), "models", "serve", "-m", "models:/wine-quality@champion",
         "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
        folder / "serve.log",
        f"http://127.0.0.1:{port}",
        http_ok(f"http://127.0.0.1:{port}/ping"),
        timeout=120,
        cwd=folder,
        env=env,
    )  # fmt: skip
    try:
        frame = pd.read_csv(wines, sep=";")  # integer sulfur dioxides, as pd.read_csv reads them
        assert str(frame["free sulfur dioxide"].dtype) == "int64"
        split = json.loads(frame.to_json(orient="split", index=False))
        bodies = {
            ("application/json", "default"): json.dumps({"dataframe_split": split}).encode(),
            ("text/csv", "default"): frame.to_csv(index=False).encode(),
            # MLflow's inference params: the interval's level, per request
            ("application/json", "0.9"): json.dumps(
                {"dataframe_split": split, "params": {"interval": 0.9}}
            ).encode(),
        }
        for (content_type, level), body in bodies.items():
            request = urllib.request.Request(
                f"{server.url}/invocations", data=body, headers={"Content-Type": content_type}
            )
            with urllib.request.urlopen(request, timeout=60) as response:
                answer = json.loads(response.read())
            found = pd.DataFrame(answer["predictions"]).to_dict(orient="list")
            assert_same_output(found, at_90 if level == "0.9" else expected)
        # a level out of range is the client's mistake: 400 and the reason, not a 500
        bad = json.dumps({"dataframe_split": split, "params": {"interval": 1.5}}).encode()
        assert "interval 1.5: give a level between 0 and 1" in refusal(server.url, bad)
        # a density in g/L is no wine: a 400 with wineq's own line, not a table of qualities
        grams = frame.assign(density=frame["density"] * 1000)
        grams = json.loads(grams.to_json(orient="split", index=False))
        assert (
            "the input frame: column 'density' looks like g/L, not g/cm³: all 44 values"
            in refusal(server.url, json.dumps({"dataframe_split": grams}).encode())
        )
        # a value that is no number: wineq's own line, not MLflow's type error
        text = frame.astype({"pH": object})
        text.loc[2, "pH"] = "3,2"
        assert "the input frame: column 'pH', row 3 (line 4) has '3,2', not a number" in (
            refusal(server.url, text.to_csv(index=False).encode(), "text/csv")
        )
    finally:
        server.stop()


def refusal(url: str, body: bytes, content_type: str = "application/json") -> str:
    """The scoring server's message for a request it must refuse with a 400."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"{url}/invocations", data=body, headers={"Content-Type": content_type}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    assert refused.value.code == 400
    return json.loads(refused.value.read())["message"]


SPARK_SCORE = """
import json, sys
import mlflow
from pyspark.sql import SparkSession
from winequality.schema import COLOR, FEATURES

spark = (
    SparkSession.builder.master("local[2]")
    .config("spark.ui.enabled", "false")
    .config("spark.sql.shuffle.partitions", "2")
    .getOrCreate()
)
udf = mlflow.pyfunc.spark_udf(
    spark,
    "models:/wine-quality@champion",
    result_type="predicted_quality double, quality_low double, quality_high double, "
    "p_premium double, unusual boolean",
)
wines = spark.read.csv(sys.argv[1], sep=";", header=True, inferSchema=True)
assert dict(wines.dtypes)["total sulfur dioxide"] == "int"  # inferSchema: no cast needed
scored = wines.withColumn("wineq", udf(*FEATURES, COLOR)).select("wineq.*")
rows = scored.collect()
print(json.dumps({name: [row[name] for row in rows] for name in scored.columns}))
spark.stop()
"""


def test_spark_scores_a_csv_with_wineqs_predictions(project, cli, registered, wines, tmp_path):
    """Batch scoring with MLflow's spark_udf on a local Spark session, as on a cluster: a
    process of its own, so Spark's JVM ends with it."""
    expected = wineq_output(cli, wines, tmp_path / "out.csv")
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
        "PYSPARK_PYTHON": sys.executable,  # Spark's Python workers: this venv
    }
    done = subprocess.run(
        [sys.executable, "-c", SPARK_SCORE, str(wines)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert_same_output(json.loads(done.stdout.strip().splitlines()[-1]), expected)


def test_a_version_registered_before_mlflow_models_still_serves_wineq(
    project, cli, wines, tmp_path
):
    """A run from before this change has no MLflow Model: its version points at the pointer
    artifact, and `wineq infer` uses it exactly as before."""
    result = cli("train", "--epochs", "3", "--json")
    run_id = json.loads(result.stdout)["run_id"]
    tracker = tracker_for(project)
    tracker.client.delete_tag(run_id, "wineq.mlflow_model_id")  # as older runs were
    assert cli("register", "--min-rmse", "5").exit_code == 0
    version = tracker.client.get_model_version("wine-quality", "1")
    assert version.source.endswith("/artifacts/model") and not version.model_id
    assert "mlflow_model_id" not in tracker.version("1").lineage
    from_version = wineq_predictions(cli, wines, tmp_path / "a.csv")
    result = cli("infer", wines, "--run-id", run_id, "--output", tmp_path / "b.csv")
    assert result.exit_code == 0, result.stderr
    assert from_version == pd.read_csv(tmp_path / "b.csv", sep=";")["predicted_quality"].tolist()
