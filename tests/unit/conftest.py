"""Fixtures of the unit layer: a real MLflow SQLite store and a real git + DVC repository
with a folder remote, each built once per session and copied for every test."""

from __future__ import annotations

import pytest

from tests.support.stores import RunMaker, copy, dvc_repo, mlflow_store

EXPERIMENT = MODEL_NAME = "wine-quality"


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory):
    return mlflow_store(tmp_path_factory.mktemp("mlflow-template") / "store")


@pytest.fixture
def mlflow_folder(mlflow_template, tmp_path):
    """A private MLflow store: `mlflow.db` (and `mlruns/`, once runs log artifacts)."""
    return copy(mlflow_template, tmp_path / "store")


@pytest.fixture
def tracker(mlflow_folder):
    """wineq's ExperimentTracker on the test's store, as a project without settings has it."""
    from winequality.adapters.mlflow import ExperimentTracker, tracking_store

    return ExperimentTracker(tracking_store(None, mlflow_folder), EXPERIMENT, MODEL_NAME)


@pytest.fixture
def make_run(mlflow_folder):
    """Makes a run of the test's store: `make_run(0.7, md5=..., status="FINISHED")`."""
    return RunMaker(mlflow_folder, EXPERIMENT)


@pytest.fixture(scope="session")
def dvc_template(tmp_path_factory):
    return dvc_repo(tmp_path_factory.mktemp("dvc-template"))


@pytest.fixture
def dvc(dvc_template, tmp_path):
    """A private git + DVC repository with its remote, holding the template's model."""
    return dvc_template.moved(copy(dvc_template.root.parent, tmp_path / "dvc"))


@pytest.fixture
def store(dvc):
    """wineq's ModelStore on the test's repository and its default remote."""
    from winequality.adapters.dvc import ModelStore

    return ModelStore(dvc.root)
