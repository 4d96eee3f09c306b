"""Fixtures: a real git + DVC project with a local-folder remote and a real SQLite MLflow store.

The expensive part (git/DVC init, data import, MLflow schema) is built once per session
and copied for each test, so every test owns its project, store and cache.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from winequality.io.uci import SourceFile
from winequality.schema import FEATURES

BIN = Path(sys.executable).parent
GIT = ["git", "-c", "user.name=wineq tests", "-c", "user.email=tests@wineq.invalid"]
HEADER = ";".join(f'"{name}"' for name in FEATURES + ["quality"])


def run(cmd: list[str], cwd: Path, env: dict | None = None) -> str:
    env = {**(env or os.environ), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def synthetic_wines(n: int, color: str, seed: int) -> list[str]:
    """UCI-formatted rows with a learnable quality signal and some exact duplicates."""
    rng = np.random.default_rng(seed)
    red = color == "red"
    cols = {
        "fixed acidity": rng.normal(8.3 if red else 6.9, 1.2, n),
        "volatile acidity": rng.gamma(4, 0.13 if red else 0.07, n),
        "citric acid": rng.uniform(0, 0.7, n),
        "residual sugar": rng.gamma(2, 1.3 if red else 3.2, n),
        "chlorides": rng.gamma(5, 0.017 if red else 0.009, n),
        "free sulfur dioxide": rng.integers(3, 60, n).astype(float),
        "total sulfur dioxide": rng.integers(10, 200, n).astype(float),
        "density": rng.normal(0.9967 if red else 0.994, 0.002, n),
        "pH": rng.normal(3.3 if red else 3.19, 0.15, n),
        "sulphates": rng.normal(0.66 if red else 0.49, 0.12, n),
        "alcohol": rng.normal(10.4, 1.1, n),
    }
    score = 5.6 + 0.45 * (cols["alcohol"] - 10.4) - 1.2 * (cols["volatile acidity"] - 0.4)
    quality = np.clip(np.rint(score + rng.normal(0, 0.45, n)), 3, 9).astype(int)
    rows = []
    for i in range(n):
        values = [f"{cols[name][i]:.4g}" for name in FEATURES] + [str(quality[i])]
        rows.append(";".join(values))
    rows += rows[: n // 10]  # exact duplicates, as in the real data
    return rows


def write_uci_files(folder: Path, n_red: int = 160, n_white: int = 260, seed: int = 7) -> dict:
    """The two UCI files in their published format, and the checks they pass."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = {}
    for color, n, name in (
        ("red", n_red, "winequality-red.csv"),
        ("white", n_white, "winequality-white.csv"),
    ):
        content = (
            HEADER + "\n" + "\n".join(synthetic_wines(n, color, seed + len(color))) + "\n"
        ).encode()
        (folder / name).write_bytes(content)
        spec[color] = SourceFile(name, len(content), hashlib.sha256(content).hexdigest())
    return spec


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


def enter(root: Path, monkeypatch) -> None:
    """Work in `root` as a user would: no WINEQ_ settings of the caller's, a fixed width."""
    for name in list(os.environ):
        if name.startswith("WINEQ_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(root)


@pytest.fixture
def cli():
    """Invoke `wineq` in-process: returns the click Result (stdout, stderr, exit_code)."""
    from winequality.cli import app

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke


def tracker_for(root: Path, **settings):
    """The project's ExperimentTracker, with settings overridden as a CLI flag would."""
    from winequality.settings import load_settings
    from winequality.workflows.service import WineService

    return WineService(load_settings(root, **settings)).tracker


def remote_object(root: Path, md5: str) -> Path:
    """The file of the object with this md5 in the project's DVC folder remote."""
    url = run(["dvc", "config", "remote.shared.url"], root).strip()
    return (root / ".dvc" / url if not Path(url).is_absolute() else Path(url)) / (
        f"files/md5/{md5[:2]}/{md5[2:]}"
    )


@contextmanager
def damaged(path: Path):
    """`path` with one byte flipped for the block, then as it was."""
    original = path.read_bytes()
    path.chmod(0o644)
    path.unlink()
    path.write_bytes(original[:-1] + bytes([original[-1] ^ 0xFF]))
    try:
        yield original
    finally:
        path.unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(original)
        path.chmod(0o444)  # as DVC keeps its objects


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()
