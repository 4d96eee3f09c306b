"""Fixtures: a real git + DVC project with a local-folder remote and a real SQLite MLflow store.

The expensive part (git/DVC init, data import, MLflow schema) is built once per session
and copied for each test, so every test owns its project, store and cache.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support.project import GIT, enter, run, write_uci_files


@pytest.fixture(scope="session")
def uci_source(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("uci")
    return folder, write_uci_files(folder)


@pytest.fixture(scope="session")
def remote_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("dvc-remote")


@pytest.fixture(scope="session")
def template(tmp_path_factory, uci_source, remote_dir) -> Path:
    """A committed git + DVC project with data imported and an initialised MLflow store."""
    from mlflow.tracking import MlflowClient

    from winequality.settings import load_settings
    from winequality.workflows.service import WineService

    root = tmp_path_factory.mktemp("template") / "project"
    root.mkdir()
    run(GIT + ["init", "-q", "-b", "main"], root)
    run(["dvc", "init", "-q"], root)
    run(["dvc", "config", "core.analytics", "false"], root)
    # Committed (not --local) so that clones find the remote, as a team's repo would.
    run(["dvc", "remote", "add", "-d", "shared", str(remote_dir)], root)
    # as wineq's own .gitignore: the local MLflow store and its lock are not code
    (root / ".gitignore").write_text("mlflow.db\nmlflow.db-*\nmlflow.db.lock\nmlruns/\n.env\n")
    (root / "models").mkdir()
    (root / "models" / ".gitignore").write_text("/model.pt\n")  # as wineq's own repository
    source, spec = uci_source
    WineService(load_settings(root)).import_data(str(source), files=spec)
    MlflowClient(f"sqlite:///{root / 'mlflow.db'}").search_experiments()  # creates the schema
    run(GIT + ["add", "-A"], root)
    run(GIT + ["commit", "-q", "-m", "project with data"], root)
    return root


@pytest.fixture
def project(template, tmp_path, monkeypatch) -> Path:
    """A private copy of the template project, as the current directory."""
    root = tmp_path / "project"
    shutil.copytree(template, root, symlinks=True)
    enter(root, monkeypatch)
    return root


@pytest.fixture
def champion(project, cli):
    """The project with a 3-epoch model registered as @champion."""
    assert cli("train", "--epochs", "3").exit_code == 0
    assert cli("register", "--min-rmse", "5").exit_code == 0
    return project


@pytest.fixture
def global_tracking_uri(project):
    """MLflow's process-wide tracking URI on the project's store, as a user's script sets
    it; unset again afterwards, so no later test inherits it."""
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    yield
    mlflow.set_tracking_uri(None)


@pytest.fixture
def cli():
    """Invoke `wineq` in-process: returns the click Result (stdout, stderr, exit_code)."""
    from winequality.cli import app

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke
