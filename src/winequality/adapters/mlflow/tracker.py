"""ExperimentTracker: wineq's front to MLflow, always through MlflowClient.

A thin facade, as MlflowClient is over its tracking and registry clients: it forwards to
the connection (store, login, environment), the runs (logging, listing, paging), the
registry (versions, aliases) and the packaging of a run's MLflow Model. Model bytes never
go to MLflow: a registered version carries the DVC path and md5 as tags.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, Optional, TypeVar

from winequality.adapters.mlflow.connection import Connection, TrackingStore, tracking_store
from winequality.adapters.mlflow.packaging import Packaging
from winequality.adapters.mlflow.registry import Registry
from winequality.adapters.mlflow.runs import Experiment, RunReader, RunWriter
from winequality.records import (
    ALIAS,
    ChampionMove,
    Comparison,
    References,
    RunRecord,
    VersionRecord,
)

T = TypeVar("T")


class ExperimentTracker:
    """Runs of one experiment and versions of one registered model, in one MLflow store."""

    def __init__(
        self,
        store: TrackingStore,
        experiment: str,
        model_name: str,
        timeout: float = 10.0,
        credentials: Optional[dict[str, str]] = None,
    ):
        self.connection = Connection(store, timeout, credentials)
        self._experiment = Experiment(self.connection, experiment)
        self.writer = RunWriter(self.connection, self._experiment)
        self.reader = RunReader(self.connection, self._experiment)
        self.registry = Registry(self.connection, model_name)
        self.packaging = Packaging(self.connection, self._experiment)

    @classmethod
    def from_settings(cls, settings) -> ExperimentTracker:
        """The tracker of `settings`' store, experiment and registered model."""
        return cls(
            tracking_store(settings.tracking_uri, settings.home_dir, settings.store_busy_timeout),
            settings.experiment,
            settings.model_name,
            settings.tracking_timeout,
            settings.mlflow_credentials(),
        )

    @property
    def store(self) -> TrackingStore:
        return self.connection.store

    @property
    def experiment(self) -> str:
        return self._experiment.name

    @property
    def model_name(self) -> str:
        return self.registry.model_name

    @property
    def client(self):
        """The MlflowClient of the store (opened on first use)."""
        return self.connection.client

    def experiment_id(self, create: bool = True) -> Optional[str]:
        return self._experiment.id(create)

    # ------------------------------------------------------------- runs: logging

    def start_run(self, params: dict[str, object], tags: dict[str, str]) -> str:
        return self.writer.start_run(params, tags)

    def log_metrics(
        self, run_id: str, series: dict[str, list[float]], final: dict[str, float]
    ) -> None:
        self.writer.log_metrics(run_id, series, final)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        self.writer.set_tags(run_id, tags)

    def log_pointer(self, run_id: str, text: str, filename: str) -> None:
        self.writer.log_pointer(run_id, text, filename)

    def log_dataset(
        self, run_id: str, name: str, digest: str, source: dict, profile: dict, context: str
    ) -> None:
        self.writer.log_dataset(run_id, name, digest, source, profile, context)

    def log_report(self, run_id: str, description: str, plots: list[Path], table) -> None:
        self.writer.log_report(run_id, description, plots, table)

    def end_run(self, run_id: str, status: str) -> None:
        self.writer.end_run(run_id, status)

    def log_wine_model(
        self,
        run_id: str,
        pointer: str,
        remote: dict,
        example,
        requirements: list[str],
        intervals: bool = True,
    ) -> str:
        return self.packaging.log_wine_model(
            run_id, pointer, remote, example, requirements, intervals
        )

    # ------------------------------------------------------------- runs: reading

    @cached_property
    def quick(self):
        """MLflow's REST API or SQLite file read without MLflow (quick.py), or None."""
        from winequality.adapters.mlflow.quick import quick_reader

        connection = self.connection
        return quick_reader(connection.store, connection.credentials, connection.timeout)

    def _quickly(self, read: Callable[[Any], T], otherwise: Callable[[], T]) -> T:
        """`read(quick reader)` where it answers; MlflowClient (`otherwise`) where not."""
        from winequality.adapters.mlflow.quick import Miss

        if self.quick is not None:
            try:
                return read(self.quick)
            except Miss:
                pass
        return otherwise()

    def get_run(self, run_id: str) -> RunRecord:
        return self._quickly(lambda q: q.get_run(run_id), lambda: self.reader.get_run(run_id))

    def search_runs(
        self, filter_string: str = "", order_by: Optional[list[str]] = None, max_results: int = 1000
    ) -> list[RunRecord]:
        return self.reader.search_runs(filter_string, order_by, max_results)

    def runs_page(self, page_size: int, page: int = 1) -> tuple[list[RunRecord], bool]:
        return self._quickly(
            lambda q: q.runs_page(self._experiment.name, page_size, page),
            lambda: self.reader.runs_page(page_size, page),
        )

    def best_run(self, max_rmse: Optional[float] = None) -> Optional[RunRecord]:
        return self.reader.best_run(max_rmse)

    def artifacts(self, run_id: str) -> list[tuple[str, int]]:
        return self._quickly(lambda q: q.artifacts(run_id), lambda: self.reader.artifacts(run_id))

    def ui_url(self, run: RunRecord) -> Optional[str]:
        return self.reader.ui_url(run)

    def model_remote(self, model_id: str) -> dict:
        return self.packaging.model_remote(model_id)

    # ------------------------------------------------------------- registry

    def references(self) -> References:
        """The model md5s every live run and registered version references, and those only
        deleted runs do (references.py)."""
        from winequality.adapters.mlflow.references import references

        return references(self.connection)

    def versions(self, doing: str = "", needs: str = "") -> list[VersionRecord]:
        return self._quickly(
            lambda q: q.versions(self.model_name), lambda: self.registry.versions(doing, needs)
        )

    def register(
        self,
        run: RunRecord,
        tags: dict[str, str],
        alias: str = ALIAS,
        description: str = "",
        model_description: str = "",
    ) -> VersionRecord:
        return self.registry.register(run, tags, alias, description, model_description)

    def set_alias(self, version: str, alias: str = ALIAS) -> None:
        self.registry.set_alias(version, alias)

    def version(self, version: str, name: Optional[str] = None) -> VersionRecord:
        return self._quickly(
            lambda q: q.version(name or self.model_name, version),
            lambda: self.registry.version(version, name),
        )

    def version_by_alias(self, alias: str, name: Optional[str] = None) -> VersionRecord:
        return self._quickly(
            lambda q: q.version_by_alias(name or self.model_name, alias),
            lambda: self.registry.version_by_alias(alias, name),
        )

    def champion_history(self) -> list[ChampionMove]:
        return self.registry.champion_history()

    def record_move(self, move: ChampionMove) -> None:
        self.registry.record_move(move)

    def tag_version(self, version: str, tags: dict[str, str]) -> None:
        self.registry.tag_version(version, tags)

    # ------------------------------------------------------------- comparisons

    def record_comparison(
        self, result: Comparison, table, plot: Optional[Path], model_ids: list, digest: str
    ) -> tuple[str, Optional[str]]:
        """The comparison as a run of `<experiment>-comparisons` (comparisons.py)."""
        from winequality.adapters.mlflow.comparisons import ComparisonLog

        return ComparisonLog(self.connection, self.experiment).record(
            result, table, plot, model_ids, digest
        )
