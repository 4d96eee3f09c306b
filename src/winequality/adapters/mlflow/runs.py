"""Runs of one experiment: starting them, logging what they did, reading them back a page
at a time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from winequality.adapters.mlflow.connection import Connection
from winequality.adapters.mlflow.errors import is_duplicate_dataset
from winequality.errors import TrackingError
from winequality.records import RMSE, RunRecord

POINTER_DIR = "model"
MAX_BATCH = 1000  # MLflow's limit of metrics per log_batch request


def run_record(run) -> RunRecord:
    return RunRecord(
        run_id=run.info.run_id,
        status=run.info.status,
        start_time=run.info.start_time,
        params=dict(run.data.params),
        metrics=dict(run.data.metrics),
        tags=dict(run.data.tags),
        end_time=run.info.end_time,
        artifact_uri=run.info.artifact_uri or "",
        experiment_id=run.info.experiment_id or "",
    )


class Experiment:
    """One experiment of a store, by name; its id is looked up (or made) once."""

    def __init__(self, connection: Connection, name: str):
        self.connection = connection
        self.name = name
        self._id: Optional[str] = None

    def id(self, create: bool = True) -> Optional[str]:
        if self._id is None:
            from mlflow.exceptions import MlflowException

            with self.connection.calls(f"looking up experiment {self.name!r}"):
                found = self.connection.client.get_experiment_by_name(self.name)
                if found is None and create:
                    try:
                        self._id = self.connection.client.create_experiment(
                            self.name, artifact_location=self.connection.store.artifact_location
                        )
                    except MlflowException as exc:
                        # Another process created it first: use theirs.
                        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                            raise
                        found = self.connection.client.get_experiment_by_name(self.name)
                if found is not None:
                    self._id = found.experiment_id
        return self._id


class RunWriter:
    """Starts runs and logs their params, metrics, tags, dataset, report and end."""

    def __init__(self, connection: Connection, experiment: Experiment):
        self.connection = connection
        self.experiment = experiment

    def start_run(self, params: dict[str, object], tags: dict[str, str]) -> str:
        from mlflow.entities import Param, RunTag

        with self.connection.calls(
            "starting a run", f"EDIT on experiment {self.experiment.name!r}"
        ):
            run = self.connection.client.create_run(self.experiment.id(), tags=tags)
            run_id = run.info.run_id
            self.connection.client.log_batch(
                run_id, params=[Param(k, str(v)) for k, v in params.items()], synchronous=True
            )
            name = tags.get("mlflow.runName") or run_id[:8]
            self.connection.client.log_batch(run_id, tags=[RunTag("mlflow.runName", name)])
        return run_id

    def log_metrics(
        self, run_id: str, series: dict[str, list[float]], final: dict[str, float]
    ) -> None:
        """Per-step series and final values, batched (one request per 1,000 values)."""
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [
            Metric(key, float(value), now, step)
            for key, values in series.items()
            for step, value in enumerate(values, start=1)
        ]
        metrics += [Metric(key, float(value), now, 0) for key, value in final.items()]
        with self.connection.calls(
            "logging metrics", f"EDIT on experiment {self.experiment.name!r}"
        ):
            for start in range(0, len(metrics), MAX_BATCH):
                self.connection.client.log_batch(run_id, metrics=metrics[start : start + MAX_BATCH])

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        from mlflow.entities import RunTag

        with self.connection.calls("tagging the run"):
            self.connection.client.log_batch(
                run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()]
            )

    def log_pointer(self, run_id: str, text: str, filename: str) -> None:
        """A small text artifact in the run; registered versions point at it."""
        with self.connection.calls("storing the model pointer"):
            self.connection.client.log_text(run_id, text, f"{POINTER_DIR}/{filename}")

    def log_dataset(
        self, run_id: str, name: str, digest: str, source: dict, profile: dict, context: str
    ) -> None:
        """The data as one of the run's dataset inputs (the UI's Dataset column): its DVC
        md5 as the digest, where it lives as the source, wine counts as the profile."""
        from mlflow.entities import Dataset, DatasetInput, InputTag

        from winequality.schema import COLOR, FEATURES, TARGET

        columns = [{"type": "double", "name": f, "required": True} for f in FEATURES]
        columns += [
            {"type": "string", "name": COLOR, "required": True},
            {"type": "long", "name": TARGET, "required": True},
        ]
        dataset = Dataset(
            name=name,
            digest=digest,
            source_type="dvc",
            source=json.dumps(source),
            schema=json.dumps({"mlflow_colspec": columns}),
            profile=json.dumps(profile),
        )
        import time

        from mlflow.exceptions import MlflowException

        inputs = [DatasetInput(dataset, [InputTag("mlflow.data.context", context)])]
        with self.connection.calls("logging the dataset input"):
            for attempt in range(3):
                try:
                    self.connection.client.log_inputs(run_id, inputs)
                    return
                except MlflowException as exc:
                    # Two trainers logging the same new dataset at once: MLflow's store
                    # inserts it twice and one insert fails. The other's is there now.
                    if attempt == 2 or not is_duplicate_dataset(str(exc.message)):
                        raise
                    time.sleep(0.2 * (attempt + 1))

    def log_report(self, run_id: str, description: str, plots: list[Path], table) -> None:
        """What the run's page shows: its description (markdown), its plots as images under
        `plots/`, and `table` (a DataFrame) as the `test_predictions.json` table artifact."""
        from mlflow.entities import RunTag

        with self.connection.calls("logging the run's report"):
            self.connection.client.log_batch(
                run_id, tags=[RunTag("mlflow.note.content", description)]
            )
            for path in plots:
                self.connection.client.log_artifact(run_id, str(path), "plots")
            self.connection.client.log_table(run_id, table, "test_predictions.json")

    def end_run(self, run_id: str, status: str) -> None:
        with self.connection.calls(f"ending the run as {status}"):
            self.connection.client.set_terminated(run_id, status)


class RunReader:
    """Reads runs back: one by id, searches, pages, the best, a run's artifacts."""

    def __init__(self, connection: Connection, experiment: Experiment):
        self.connection = connection
        self.experiment = experiment

    def artifacts(self, run_id: str) -> list[tuple[str, int]]:
        """Every artifact of the run's own folder: (path inside it, size in bytes). Not the
        files of its MLflow Model, which MLflow also lists under the run's `model/`."""
        import mlflow.artifacts
        from mlflow.exceptions import MlflowException

        found = []
        doing = f"listing the artifacts of run {run_id}"
        with self.connection.calls(doing):
            root = self.connection.client.get_run(run_id).info.artifact_uri.rstrip("/")
            folders: list[str] = [""]
            try:
                while folders:
                    folder = folders.pop()
                    for info in mlflow.artifacts.list_artifacts(
                        artifact_uri=f"{root}/{folder}" if folder else root,
                        tracking_uri=self.connection.store.uri,
                    ):
                        path = f"{folder}/{info.path.rsplit('/', 1)[-1]}".lstrip("/")
                        if info.is_dir:
                            folders.append(path)
                        else:
                            found.append((path, int(info.file_size or 0)))
            except MlflowException:
                raise
            except Exception as exc:  # the artifact store's own client: files, S3, ...
                raise TrackingError(f"{doing}: {type(exc).__name__}: {exc}") from exc
        return sorted(found)

    def ui_url(self, run: RunRecord) -> Optional[str]:
        """The run's page in MLflow's UI, when the store is a server (it serves the UI)."""
        if not self.connection.store.is_server:
            return None
        return f"{self.connection.store.display.rstrip('/')}/#/experiments/{run.experiment_id}/runs/{run.run_id}"

    def get_run(self, run_id: str) -> RunRecord:
        with self.connection.calls(f"looking up run {run_id}"):
            return run_record(self.connection.client.get_run(run_id))

    def search_runs(
        self,
        filter_string: str = "",
        order_by: Optional[list[str]] = None,
        max_results: int = 1000,
    ) -> list[RunRecord]:
        return self._search(filter_string, order_by, max_results)[0]

    def runs_page(self, page_size: int, page: int = 1) -> tuple[list[RunRecord], bool]:
        """Page `page` (from 1) of the runs, newest first, and whether another page follows.

        Pages follow MLflow's page tokens, so each costs one query of `page_size` runs.
        """
        token = None
        for number in range(1, page + 1):
            found, token = self._search(max_results=page_size, page_token=token)
            if not token and number < page:
                return [], False
        return found, bool(token)

    def _search(
        self,
        filter_string: str = "",
        order_by: Optional[list[str]] = None,
        max_results: int = 1000,
        page_token: Optional[str] = None,
    ) -> tuple[list[RunRecord], Optional[str]]:
        """One page of runs (newest first unless `order_by`) and the next page's token."""
        experiment_id = self.experiment.id(create=False)
        if experiment_id is None:
            return [], None
        with self.connection.calls(
            "searching runs", f"READ on experiment {self.experiment.name!r}"
        ):
            runs = self.connection.client.search_runs(
                [experiment_id],
                filter_string=filter_string,
                order_by=order_by or ["attributes.start_time DESC"],
                max_results=max_results,
                page_token=page_token,
            )
        return [run_record(run) for run in runs], runs.token

    def best_run(self, max_rmse: Optional[float] = None) -> Optional[RunRecord]:
        """The finished run with the lowest test RMSE (at or below `max_rmse` when given)."""
        bar = f" and metrics.{RMSE} <= {float(max_rmse)!r}" if max_rmse is not None else ""
        runs = self.search_runs(
            f"attributes.status = 'FINISHED'{bar}",
            order_by=[f"metrics.{RMSE} ASC", "attributes.start_time DESC"],
            max_results=1,
        )
        return runs[0] if runs else None

    # ------------------------------------------------------------- registry
