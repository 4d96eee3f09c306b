"""wineq's MLflow Model: what MLflow's own tools load (pyfunc, `mlflow models serve`, Spark).

A run logs an MLflow Model (python_function flavour, "models from code": nothing is
pickled) whose artifacts are only the DVC pointer of the model file (path, md5, size)
and the DVC remote it was pushed to (URL and endpoint, never credentials). The code
travels with the model (MLflow's code paths), so a deployment machine needs MLflow,
torch and DVC, not a clone of this repository.

On load, the bytes are fetched once per process through DVC: from the clone's cache and
remote when the loader runs inside a clone, otherwise from the recorded remote into a
cache of the machine's own (`~/.cache/wineq/dvc`). Their md5 is checked; altered bytes
are refused with the same IntegrityError `wineq infer` gives.

This module imports MLflow because MLflow loads it; wineq's own commands never do.
"""

from __future__ import annotations

import json
from pathlib import Path

from mlflow.pyfunc import PythonModel

POINTER = "pointer"
REMOTE = "dvc_remote"


def read_pointer(text: str) -> dict:
    """path, md5 and size from the `.dvc` pointer text a run records."""
    import yaml

    out = yaml.safe_load(text)["outs"][0]
    return {"path": out["path"], "md5": out["md5"], "size": int(out.get("size", -1))}


class WineQualityModel(PythonModel):
    """Predicted quality for a frame of wines (UCI column names, a `color` column), with
    each wine's interval, chance of a premium score and whether it is unlike the training
    wines (`unusual`). Values no wine can have are refused with wineq's own message.

    Params (MLflow's inference params): `interval`, the interval's level (default 0.8),
    and `premium`, the score p_premium counts from (default 7).
    """

    # The input is checked against the model's signature; MLflow's type-hint validation
    # would only repeat that, and it warns on every definition of this class without it.
    _skip_type_hint_validation = True

    def load_context(self, context) -> None:
        from winequality.adapters.dvc import fetch_recorded
        from winequality.domain import model as nn_model

        pointer = read_pointer(Path(context.artifacts[POINTER]).read_text())
        remote = json.loads(Path(context.artifacts[REMOTE]).read_text())
        self._net = nn_model.from_bytes(fetch_recorded(pointer["md5"], remote))

    def predict(self, context, model_input, params=None):
        import pandas as pd
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

        from winequality.domain import model as nn_model
        from winequality.errors import DataError, UsageError
        from winequality.io.formats.rounding import prediction_numbers
        from winequality.io.validation import validated_frame
        from winequality.schema import (
            DEFAULT_INTERVAL,
            DEFAULT_PREMIUM,
            OUTPUTS,
            checked_level,
            checked_premium,
        )

        params = params or {}
        try:
            level = checked_level(float(params.get("interval", DEFAULT_INTERVAL)), "interval")
            premium = params.get("premium", DEFAULT_PREMIUM)
            if float(premium) != int(premium):
                raise UsageError(f"premium {premium}: give a whole quality score, e.g. 7")
            premium = checked_premium(int(premium), "premium")
            calibration = self._net.calibration
            if calibration is not None and not calibration.supports(level):
                calibration.half_width(level)  # raises, saying the highest level
        except (UsageError, ValueError) as exc:
            # the scoring server answers a bad request, not an internal error
            raise MlflowException(str(exc), error_code=INVALID_PARAMETER_VALUE) from None
        try:
            frame = validated_frame(_named(pd.DataFrame(model_input)), "the input frame")
        except DataError as exc:  # wines no wine could be, as wineq infer refuses them: a 400
            raise MlflowException(str(exc), error_code=INVALID_PARAMETER_VALUE) from None
        found = nn_model.predict_with_intervals(
            self._net, nn_model.frame_inputs(frame), level, premium
        )
        # a model saved before calibration gives the quality alone, one saved before it
        # kept a summary of its training wines no unusual flag
        return pd.DataFrame(prediction_numbers(found, OUTPUTS))


def _named(frame):
    """The frame with UCI's column names where its columns came unnamed, in UCI's order:
    Spark's `udf(*columns)` names them 0, 1, ... for a model that declares no inputs."""
    from winequality.schema import COLOR, FEATURES

    names = [*FEATURES, COLOR]
    if [str(c) for c in frame.columns] == [str(i) for i in range(len(names))]:
        return frame.set_axis(names, axis=1)
    return frame
