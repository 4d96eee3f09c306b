"""What the workflows need of the adapters, as Protocols: the workflows are written against
these, and the type checker holds ExperimentTracker, ModelStore and ModelResolver to them
where `service.WineService` hands them over."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Optional, Protocol

from winequality.records import ModelSource, RunRecord, StoredFile, VersionRecord


class Tracker(Protocol):
    """Runs of one experiment and versions of one registered model (MLflow)."""

    @property
    def experiment(self) -> str: ...

    @property
    def model_name(self) -> str: ...

    def start_run(self, params: dict[str, object], tags: dict[str, str]) -> str: ...

    def log_metrics(
        self, run_id: str, series: dict[str, list[float]], final: dict[str, float]
    ) -> None: ...

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None: ...

    def log_pointer(self, run_id: str, text: str, filename: str) -> None: ...

    def log_dataset(
        self, run_id: str, name: str, digest: str, source: dict, profile: dict, context: str
    ) -> None: ...

    def log_report(self, run_id: str, description: str, plots: list[Path], table: Any) -> None: ...

    def log_wine_model(
        self,
        run_id: str,
        pointer: str,
        remote: dict,
        example: Any,
        requirements: list[str],
        intervals: bool = True,
    ) -> str: ...

    def end_run(self, run_id: str, status: str) -> None: ...

    def get_run(self, run_id: str) -> RunRecord: ...

    def search_runs(
        self, filter_string: str = "", order_by: Optional[list[str]] = None, max_results: int = 1000
    ) -> list[RunRecord]: ...

    def runs_page(self, page_size: int, page: int = 1) -> tuple[list[RunRecord], bool]: ...

    def best_run(self, max_rmse: Optional[float] = None) -> Optional[RunRecord]: ...

    def artifacts(self, run_id: str) -> list[tuple[str, int]]: ...

    def ui_url(self, run: RunRecord) -> Optional[str]: ...

    def versions(self, doing: str = "", needs: str = "") -> list[VersionRecord]: ...

    def register(
        self,
        run: RunRecord,
        tags: dict[str, str],
        alias: str = ...,
        description: str = "",
        model_description: str = "",
    ) -> VersionRecord: ...

    def set_alias(self, version: str, alias: str = ...) -> None: ...

    def version(self, version: str, name: Optional[str] = None) -> VersionRecord: ...


class Store(Protocol):
    """Data and model bytes (DVC)."""

    def save_data(self, content: bytes) -> StoredFile: ...

    def add_data_version(self, content: bytes, meta: dict) -> StoredFile: ...

    def ensure_data_pushed(self, md5: str) -> Optional[str]: ...

    def fetch_data_version(self, md5: str) -> bytes: ...

    def pull_data(self) -> StoredFile: ...

    def open_data(self) -> AbstractContextManager[Any]: ...

    def save_model(self, relpath: str, content: bytes) -> StoredFile: ...

    def in_remote(self, md5: str) -> bool: ...

    def fetch(self, path: str, md5: str) -> bytes: ...

    def bucket_filesystem(self, url: str) -> Any: ...


class Resolver(Protocol):
    """Runs and registered versions found by name, and exactly their model bytes."""

    def find_run(self, run_id: str) -> RunRecord: ...

    def version(self, model: Optional[str] = None, hint: str = ...) -> VersionRecord: ...

    def source(self, model: Optional[str] = None, run_id: Optional[str] = None) -> ModelSource: ...

    def resolve(
        self, model: Optional[str] = None, run_id: Optional[str] = None
    ) -> tuple[ModelSource, bytes]: ...
