"""Hyper-parameters (domain/params.py): their MLflow text, their checks, params.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from winequality.domain.params import DEFAULTS, TrainParams, knobs, read_params_file
from winequality.errors import UsageError

REPOSITORY = Path(__file__).resolve().parents[3]


def test_params_round_trip_through_their_mlflow_text():
    params = TrainParams(epochs=7, hidden=(32, 16), lr=0.001, sigma=0.1)
    logged = params.as_mlflow()
    assert logged["hidden"] == "32,16" and logged["epochs"] == "7"
    assert all(isinstance(v, str) for v in logged.values())
    assert TrainParams.from_text(logged) == params
    assert TrainParams.from_text({}) == DEFAULTS


@pytest.mark.parametrize(
    "values, message",
    [
        ({"epochs": "0"}, "--epochs 0: must be at least 1"),
        ({"hidden": "64,x"}, "--hidden '64,x': must be layer widths"),
        ({"hidden": ""}, "--hidden : must be layer widths"),
        ({"batch_size": "1.5"}, "--batch-size '1.5': must be at least 1"),
        ({"neighbour_power": "-1"}, "--neighbour-power -1.0: must be 0 or more"),
        ({"dropout": "0.1"}, "unknown training parameter 'dropout'"),
    ],
)
def test_bad_params_are_usage_errors_naming_the_option(values, message):
    with pytest.raises(UsageError, match="^" + message.replace("(", r"\(")):
        TrainParams.from_text(values)


def test_the_repository_params_yaml_holds_every_default():
    """params.yaml (what `dvc repro` trains with) says what `wineq train` does alone."""
    texts = read_params_file(REPOSITORY / "params.yaml")
    assert set(texts) == {name for name, _ in knobs()}
    assert TrainParams.from_text(texts) == DEFAULTS
