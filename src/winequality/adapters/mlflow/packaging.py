"""A run's MLflow Model: an MLmodel whose only artifacts are the DVC pointer and remote of
the model bytes, with wineq's code, a signature and an input example, so that MLflow's
loader, scoring server and Spark take a registered version as it is."""

from __future__ import annotations

import json
from pathlib import Path

from winequality.adapters.mlflow.connection import Connection
from winequality.adapters.mlflow.runs import Experiment

# The "models from code" entry of a run's MLflow Model: nothing is pickled.
MODEL_ENTRY = """import mlflow

from winequality.adapters.mlflow.pyfunc import WineQualityModel

mlflow.models.set_model(WineQualityModel())
"""


def signature(intervals: bool, familiar: bool = True):
    """Inputs (11 features, colour), outputs (the prediction, the interval and p_premium
    columns when the model is calibrated, the unusual flag when it keeps a summary of its
    training wines) and the inference params.

    The inputs are not declared: MLflow's schema check refuses int64 for a double column
    (`pd.read_csv` and Spark's inferSchema read the UCI files' sulfur dioxides, `12`, `87`,
    as integers), and its scoring server cannot parse CSV against columns of any type. The
    model checks its input itself (`io.validation`, as `wineq infer`): any numbers, and a
    value that is no number, or a missing column, refused with wineq's message. The input
    example still shows MLflow's UI the columns.
    """
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    from winequality.schema import (
        DEFAULT_INTERVAL,
        DEFAULT_PREMIUM,
        PREDICTION,
        UNCERTAINTY,
        UNUSUAL,
    )

    outputs: list = [
        ColSpec("double", c) for c in (PREDICTION, *(UNCERTAINTY if intervals else ()))
    ]
    if familiar:
        outputs.append(ColSpec("boolean", UNUSUAL))
    return ModelSignature(
        inputs=None,
        outputs=Schema(outputs),
        params=ParamSchema(
            [
                ParamSpec("interval", "double", DEFAULT_INTERVAL),
                ParamSpec("premium", "long", DEFAULT_PREMIUM),
            ]
        ),
    )


def _stage(work: Path, pointer: str, remote: dict) -> tuple[dict[str, str], Path, Path]:
    """The model's artifacts, wineq's code and the entry script, written into `work`."""
    import shutil

    import winequality

    (work / "model.pt.dvc").write_text(pointer)
    (work / "dvc_remote.json").write_text(json.dumps(remote, indent=2))
    code = work / "code" / "winequality"
    shutil.copytree(
        Path(winequality.__file__).parent,
        code,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    entry = work / "wine_quality_model.py"
    entry.write_text(MODEL_ENTRY)
    artifacts = {
        "pointer": str(work / "model.pt.dvc"),
        "dvc_remote": str(work / "dvc_remote.json"),
    }
    return artifacts, code, entry


class Packaging:
    """Logs a run's MLflow Model into the run's experiment."""

    def __init__(self, connection: Connection, experiment: Experiment):
        self.connection = connection
        self.experiment = experiment

    def log_wine_model(
        self,
        run_id: str,
        pointer: str,
        remote: dict,
        example,
        requirements: list[str],
        intervals: bool = True,
    ) -> str:
        """Log the run's MLflow Model (see pyfunc.py); the signature lists the interval and
        p_premium columns only if the model is calibrated (`intervals`).

        Returns the logged model's id; registering `models:/<id>` makes a version that
        MLflow's loader, scoring server and Spark take as it is.
        """
        import tempfile

        import mlflow.pyfunc
        from mlflow.entities import LoggedModelOutput

        client = self.connection.client
        with tempfile.TemporaryDirectory(prefix="wineq-model-") as tmp:
            work = Path(tmp)
            artifacts, code, entry = _stage(work, pointer, remote)
            with self.connection.calls("logging the MLflow Model"):
                logged = client.create_logged_model(
                    self.experiment.id(), name="model", source_run_id=run_id
                )
                try:
                    mlflow.pyfunc.save_model(
                        work / "model",
                        python_model=str(entry),
                        artifacts=artifacts,
                        code_paths=[str(code)],
                        signature=signature(intervals),
                        input_example=example,
                        pip_requirements=requirements,
                    )
                    client.log_model_artifacts(logged.model_id, str(work / "model"))
                except BaseException:
                    client.finalize_logged_model(logged.model_id, "FAILED")
                    raise
                client.finalize_logged_model(logged.model_id, "READY")
                # the run's output, so the run's page in MLflow's UI lists the model
                client.log_outputs(run_id, [LoggedModelOutput(logged.model_id, step=0)])
        return logged.model_id

    def model_remote(self, model_id: str) -> dict:
        """The DVC remote a run's MLflow Model records (its `dvc_remote.json`): where runs
        from before the `wineq.dvc_location` tag pushed their bytes."""
        import json
        import tempfile

        import mlflow.artifacts

        with (
            tempfile.TemporaryDirectory(prefix="wineq-remote-") as folder,
            self.connection.calls("reading the model's DVC remote"),
            self.connection.process_tracking_uri(),
        ):
            logged = self.connection.client.get_logged_model(model_id)
            path = mlflow.artifacts.download_artifacts(
                artifact_uri=f"{logged.artifact_location}/artifacts/dvc_remote.json",
                dst_path=folder,
            )
            return json.loads(Path(path).read_text())
