"""Scratch wineq projects for tests, benchmarks and docs: synthetic UCI files, a real git +
DVC project, and the commands and checks used on them."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from winequality.io.uci import SourceFile
from winequality.schema import FEATURES

BIN = Path(sys.executable).parent
GIT = ["git", "-c", "user.name=wineq tests", "-c", "user.email=tests@wineq.invalid"]
HEADER = ";".join(f'"{name}"' for name in FEATURES + ["quality"])
FIRST_RED = [7.4, 0.7, 0.0, 1.9, 0.076, 11.0, 34.0, 0.9978, 3.51, 0.56, 9.4]
"""The features of UCI's first red wine: a real wine, inside every range limits.py sets."""


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


def enter(root: Path, monkeypatch) -> None:
    """Work in `root` as a user would: no WINEQ_ settings of the caller's, a fixed width."""
    for name in list(os.environ):
        if name.startswith("WINEQ_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(root)


def tracker_for(root: Path, **settings):
    """The project's ExperimentTracker, with settings overridden as a CLI flag would."""
    from winequality.settings import load_settings
    from winequality.workflows.service import WineService

    return WineService(load_settings(root, **settings)).tracker


def remote_object(root: Path, md5: str, area: str = "files/md5") -> Path:
    """The file of the object with this md5 in the project's DVC folder remote: DVC's copy,
    or with `area="wineq-vault/models"` (or `/data`) the copy in wineq's vault."""
    url = run(["dvc", "config", "remote.shared.url"], root).strip()
    return (root / ".dvc" / url if not Path(url).is_absolute() else Path(url)) / (
        f"{area}/{md5[:2]}/{md5[2:]}"
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


LOAD_AND_PREDICT = """
import json, sys
import mlflow, pandas as pd
model = mlflow.pyfunc.load_model(sys.argv[1])
frame = pd.read_csv(sys.argv[2], sep=";")  # as read: the sulfur dioxides are int64
assert str(frame["total sulfur dioxide"].dtype) == "int64"
print(json.dumps(model.predict(frame).to_dict(orient="list")))
"""


def load_elsewhere(folder: Path, project: Path, uri: str, wines: Path, **env):
    """MLflow's loader in a fresh process in `folder`, with only the tracking URI set."""
    folder.mkdir(parents=True, exist_ok=True)
    full = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
        "XDG_CACHE_HOME": str(folder / "cache"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, uri, str(wines)],
        cwd=folder,
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
    )
