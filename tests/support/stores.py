"""Small real stores for the unit layer: an MLflow SQLite store, and a git + DVC repository
with a local-folder remote holding one model. Each is built once per session and copied
for every test (`copy`), so a test owns its store and may damage it."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from tests.support.project import GIT, run

MODEL_PATH = "models/model.pt"
MODEL_BYTES = b"the bytes of a wine model, stored by DVC and named by MLflow\n"
START = 1_800_000_000_000  # ms; runs made by RunMaker start a minute apart from here


def copy(template: Path, target: Path) -> Path:
    """A private copy of a template folder (DVC's read-only objects stay read-only)."""
    shutil.copytree(template, target, symlinks=True)
    return target


# ---------------------------------------------------------------- MLflow


def mlflow_store(folder: Path) -> Path:
    """An empty MLflow store, `folder`/mlflow.db with MLflow's schema made (the slow part);
    no experiment yet, so a copy's experiment keeps its artifacts in the copy."""
    from mlflow.tracking import MlflowClient

    folder.mkdir(parents=True, exist_ok=True)
    MlflowClient(f"sqlite:///{folder / 'mlflow.db'}").search_experiments()
    return folder


class RunMaker:
    """Makes runs in the store of `folder` with MLflow's own client, as a trainer would
    have left them: status, test RMSE and lineage tags; each starts a minute after the last.

    Example: `run_id = RunMaker(folder, "wine-quality")(0.7, md5=stored.md5)`.
    """

    def __init__(self, folder: Path, experiment: str):
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
        found = self.client.get_experiment_by_name(experiment)
        self.experiment_id = (
            found.experiment_id
            if found
            else self.client.create_experiment(
                experiment, artifact_location=(folder / "mlruns").as_uri()
            )
        )
        self.made = 0

    def __call__(
        self,
        rmse: Optional[float] = None,
        *,
        status: str = "FINISHED",
        md5: Optional[str] = None,
        tags: Optional[dict[str, str]] = None,
        params: Optional[dict[str, str]] = None,
    ) -> str:
        from mlflow.entities import Metric, Param

        from winequality.records import RMSE, TAG_PREFIX

        start = START + 60_000 * self.made
        self.made += 1
        lineage = (
            {f"{TAG_PREFIX}model_path": MODEL_PATH, f"{TAG_PREFIX}model_md5": md5} if md5 else {}
        )
        run = self.client.create_run(
            self.experiment_id, start_time=start, tags={**lineage, **(tags or {})}
        )
        run_id = run.info.run_id
        metrics = [Metric(RMSE, rmse, start, 0)] if rmse is not None else []
        self.client.log_batch(
            run_id,
            metrics=metrics,
            params=[Param(k, v) for k, v in (params or {}).items()],
        )
        if status != "RUNNING":
            self.client.set_terminated(run_id, status, end_time=start + 1000)
        return run_id


# ---------------------------------------------------------------- DVC


@dataclass(frozen=True)
class DvcRepo:
    """A git + DVC repository (`root`) whose default remote `shared` is the folder `remote`,
    with MODEL_BYTES stored as MODEL_PATH by `ModelStore.save_model` (md5 `md5`)."""

    root: Path
    remote: Path
    md5: str

    def moved(self, folder: Path) -> DvcRepo:
        """The same repository in a copy of its folder."""
        return DvcRepo(folder / self.root.name, folder / self.remote.name, self.md5)

    def cache_object(self, md5: Optional[str] = None) -> Path:
        md5 = md5 or self.md5
        return self.root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]

    def remote_object(self, md5: Optional[str] = None) -> Path:
        md5 = md5 or self.md5
        return self.remote / "files" / "md5" / md5[:2] / md5[2:]

    def vault_object(self, md5: Optional[str] = None, kind: str = "models") -> Path:
        """The copy wineq keeps out of `dvc gc`'s reach (adapters/dvc/vault.py)."""
        md5 = md5 or self.md5
        return self.remote / "wineq-vault" / kind / md5[:2] / md5[2:]


def dvc_repo(folder: Path) -> DvcRepo:
    """`folder`/repo and its remote `folder`/remote, named relative to the repository so
    that a copy of `folder` has a remote of its own."""
    from winequality.adapters.dvc import ModelStore

    root, remote = folder / "repo", folder / "remote"
    root.mkdir(parents=True)
    remote.mkdir()
    run(GIT + ["init", "-q", "-b", "main"], root)
    run(["dvc", "init", "-q"], root)
    run(["dvc", "config", "core.analytics", "false"], root)
    run(["dvc", "remote", "add", "-d", "shared", "../remote"], root)
    stored = ModelStore(root).save_model(MODEL_PATH, MODEL_BYTES)
    assert stored.md5 == hashlib.md5(MODEL_BYTES).hexdigest()
    return DvcRepo(root, remote, stored.md5)
