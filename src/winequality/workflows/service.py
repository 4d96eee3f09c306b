"""The workflows behind the CLI, one module each, behind a thin `WineService`.

`WineService` builds the ModelStore (DVC: the bytes), the ExperimentTracker (MLflow: the
metadata) and the ModelResolver from settings, once, and hands them to the workflow a
call asks for. Every decision lives in the workflow modules, where tests reach it without
a terminal:

    workflows/data.py      import the UCI files into data.dvc
    workflows/train.py     pull the data, train, score, store the model, record the run
    workflows/register.py  check a run and its bytes, register it, move the alias
    workflows/champion.py  the gate before champion moves, promote (rollback), history
    workflows/compare.py   score models on the same wines none of them trained on
    workflows/infer.py     resolve a model (here or in a child process), predict a file
    workflows/runs.py      list the experiment's runs; show one run or version whole
    workflows/housekeeping.py  wineq gc (what MLflow no longer references) and wineq check
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Optional, Union

from winequality.domain.params import TrainParams
from winequality.records import (
    AddOptions,
    ChampionMove,
    Collection,
    CompareOptions,
    Comparison,
    DataAddition,
    DataVersion,
    Garbage,
    GateOptions,
    InferOptions,
    InferResult,
    ModelDetail,
    Registration,
    RunDetail,
    RunRecord,
    RunsPage,
    StoredFile,
    TrainResult,
    VersionCheck,
    VersionRecord,
)
from winequality.settings import Settings

if TYPE_CHECKING:  # built on first use: MLflow and DVC load only when a workflow needs them
    from winequality.adapters.dvc import ModelStore
    from winequality.adapters.mlflow import ExperimentTracker
    from winequality.adapters.models import ModelResolver


class WineService:
    """The workflows, built from settings. Example: `WineService(load_settings()).list_runs()`."""

    def __init__(self, settings: Settings):
        self.settings = settings

    @cached_property
    def store(self) -> ModelStore:
        """The clone's DVC store; outside a clone, the remotes the runs recorded."""
        from winequality.adapters.dvc import store_for

        return store_for(self.settings)

    @cached_property
    def tracker(self) -> ExperimentTracker:
        from winequality.adapters.mlflow import ExperimentTracker

        return ExperimentTracker.from_settings(self.settings)

    @cached_property
    def resolver(self) -> ModelResolver:
        from winequality.adapters.models import ModelResolver

        return ModelResolver(
            self.tracker, self.store, self.settings.model_name, self.settings.experiment
        )

    def import_data(self, source: Optional[str] = None, files=None) -> tuple[StoredFile, int]:
        """Verify the UCI files, build data/wine-quality.csv, track it in DVC and push it."""
        from winequality.workflows import data

        return data.import_data(self.store, source or self.settings.data_source, files)

    def add_data(
        self, wines: list[Union[Path, str, BinaryIO]], options: Optional[AddOptions] = None
    ) -> DataAddition:
        """Add labelled wines to the data set as a new version, pushed before data.dvc
        names it (see `workflows.data.add_wines`)."""
        from winequality.workflows import data

        return data.add_wines(
            self.store,
            self.settings.project_dir,
            wines,
            options or AddOptions(),
            bucket=self.store.bucket_filesystem,
        )

    def data_log(self) -> list[DataVersion]:
        """The data versions, newest first, with the runs that trained on each."""
        from winequality.workflows import data

        return data.data_log(self.tracker, self.settings.project_dir)

    def pull_data_version(
        self, run_id: Optional[str], version: Optional[str], output: Optional[Path]
    ) -> tuple[str, Path, int]:
        """Exactly the data a run trained on (or a version by md5), written to `output`."""
        from winequality.workflows import data

        return data.pull_version(self.store, self.resolver, run_id, version, output)

    def collect_garbage(
        self, dry_run: bool, grace_s: float, progress: Optional[Callable[[Garbage], None]] = None
    ) -> Collection:
        """Remove (or list) the model bytes no live run and no registered version references."""
        from winequality.workflows import housekeeping

        return housekeeping.collect(self.tracker, self.store, dry_run, grace_s, progress)

    def check_versions(self, repair: bool = False) -> list[VersionCheck]:
        """Whether every registered version's model and data bytes are in the remote intact."""
        from winequality.workflows import housekeeping

        return housekeeping.check(self.tracker, self.store, repair)

    def train(
        self,
        params: TrainParams,
        on_epoch: Optional[Callable[[int, float, float], None]] = None,
        report_dir: Optional[Path] = None,
    ) -> TrainResult:
        """Pull the data, train, score on the fixed test split, store the model, record it
        all; `report_dir` also gets the files a DVC stage declares (metrics, plot data)."""
        from winequality.workflows import train

        return train.train(self.settings, self.store, self.tracker, params, on_epoch, report_dir)

    def find_run(self, run_id: str) -> RunRecord:
        """A run of the experiment by id or by a unique prefix of at least 4 characters."""
        return self.resolver.find_run(run_id)

    def register(
        self, max_rmse: float, run_id: Optional[str] = None, gate: Optional[GateOptions] = None
    ) -> Registration:
        """Register the best finished run at or below `max_rmse` (or the run named) and move
        `gate.alias` (default champion) onto it, through the gate when it is champion."""
        from winequality.workflows import register

        gate = replace(gate or GateOptions(), user=self.user)
        return register.register(self.tracker, self.store, self.resolver, max_rmse, run_id, gate)

    def promote(self, model: str, reason: str) -> tuple[VersionRecord, Optional[ChampionMove]]:
        """Move champion to the version `model` names at once (a rollback), recording why."""
        from winequality.workflows import champion

        gate = GateOptions(reason=reason, user=self.user)
        return champion.promote(self.tracker, self.resolver, model, gate)

    def compare(self, refs: list[str], options: Optional[CompareOptions] = None) -> Comparison:
        """Score the models `refs` name on the same wines, none of them trained on."""
        from winequality.workflows import compare

        return compare.compare(
            self.tracker, self.store, self.resolver, refs, options, self.store.bucket_filesystem
        )

    def model_detail(self) -> ModelDetail:
        """The registered model's versions and the champion's history."""
        from winequality.workflows import champion

        return champion.model_detail(self.tracker)

    @property
    def user(self) -> str:
        """Who runs this, for the champion's history: the MLflow login, else the OS user."""
        import getpass

        login = self.settings.mlflow_credentials().get("MLFLOW_TRACKING_USERNAME")
        try:
            return login or getpass.getuser()
        except (KeyError, OSError):
            return "unknown"

    def model_choices(self) -> list[VersionRecord]:
        """Registered versions, newest first, for interactive picking."""
        return self.tracker.versions()

    def infer(
        self, wines: Union[Path, BinaryIO], options: Optional[InferOptions] = None
    ) -> InferResult:
        """Predict quality for every wine in `wines` with exactly the registered bytes.

        `options.lookup="process"` resolves the model in a child process while torch loads
        here (what `wineq infer` does); `"here"`, the default, resolves it in this process.
        """
        from winequality.workflows import infer

        return infer.infer(
            self.settings,
            lambda: self.resolver,
            wines,
            options or InferOptions(),
            bucket=self.store.bucket_filesystem,
        )

    def list_runs(self, limit: int = 20, page: int = 1) -> RunsPage:
        """A page of the experiment's runs, newest first, with the versions registered from them."""
        from winequality.workflows import runs

        return runs.list_runs(self.tracker, limit, page)

    def close_gone_runs(self) -> list[str]:
        """End as FAILED the RUNNING runs whose training process died on this machine."""
        from winequality.workflows import runs

        return runs.close_gone(self.tracker)

    def show(self, target: Optional[str] = None) -> RunDetail:
        """One run whole: by run id or prefix, NAME@ALIAS, NAME/VERSION (default: champion)."""
        from winequality.workflows import runs

        return runs.show(self.tracker, self.resolver, target)
