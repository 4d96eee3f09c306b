"""ExperimentTracker: the only module that talks to MLflow, always through MlflowClient,
and the one place that decides what a tracking URI means (`tracking_store`).

It records runs (params, metrics, lineage tags) and holds the model registry. Model bytes
never go to MLflow: a registered version carries the DVC path and md5 as tags, and its
source is a tiny pointer artifact inside the run.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from winequality.errors import (
    AccessDenied,
    NotAuthenticated,
    NotFoundError,
    TrackingError,
    WineqError,
)
from winequality.records import ALIAS, RMSE, RunRecord, VersionRecord, without_credentials

POINTER_DIR = "model"
# The "models from code" entry of a run's MLflow Model: nothing is pickled.
MODEL_ENTRY = """import mlflow

from winequality.adapters.mlflow.pyfunc import WineQualityModel

mlflow.models.set_model(WineQualityModel())
"""
MAX_BATCH = 1000  # MLflow's limit of metrics per log_batch request
SQLITE_BUSY_TIMEOUT = 60  # seconds; lets concurrent trainers share one SQLite file


@dataclass(frozen=True)
class TrackingStore:
    """What a tracking URI means: the one place wineq decides it.

    `uri` is what MlflowClient gets; `display` is what users see (no query parameters,
    no credentials); `artifact_location` is where new experiments keep their small
    artifacts when no server decides it.
    """

    uri: str
    display: str
    kind: str
    """'server' (http/https), 'sqlite', or 'database' (any other SQLAlchemy URI)."""
    artifact_location: Optional[str]

    @property
    def is_server(self) -> bool:
        return self.kind == "server"


def tracking_store(
    uri: Optional[str], home_dir: Path, busy_timeout: float = SQLITE_BUSY_TIMEOUT
) -> TrackingStore:
    """The store a WINEQ_TRACKING_URI names; None means the project's own SQLite file
    (in `home_dir`: the clone, or the clone that queued a DVC experiment).

    Example: `tracking_store(None, Path("."))` is `sqlite:///<project>/mlflow.db`.
    """
    local_artifacts = (home_dir / "mlruns").as_uri()
    if not uri:
        path = (home_dir / "mlflow.db").as_posix()
        return TrackingStore(
            f"sqlite:///{path}?timeout={busy_timeout:g}",
            f"sqlite:///{path}",
            "sqlite",
            local_artifacts,
        )
    if uri.startswith(("http://", "https://")):
        return TrackingStore(uri, without_credentials(uri), "server", None)
    if uri.startswith("sqlite:"):
        path = uri.removeprefix("sqlite:///")
        if uri.startswith("sqlite:///") and path and not path.startswith(("/", ":memory:")):
            # relative to the clone, not to wherever wineq runs (a DVC experiment's copy)
            uri = f"sqlite:///{(home_dir / path).as_posix()}"
        return TrackingStore(uri, without_credentials(uri), "sqlite", local_artifacts)
    return TrackingStore(uri, without_credentials(uri), "database", local_artifacts)


def _refuse_foreign_sqlite(store: TrackingStore, problem) -> None:
    """A SQLite file that holds tables but not MLflow's schema record belongs to something
    else: refuse it before MLflow would add its own tables to it."""
    import sqlite3

    path = Path(store.uri.removeprefix("sqlite:///").split("?", 1)[0])
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return  # a new store: MLflow makes it
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        found = problem(str(exc))
        if found is None:
            raise TrackingError(f"MLflow store {store.display}: {exc}") from None
        raise TrackingError(found) from None
    except OSError:
        return  # MLflow's own connection will say what is wrong
    if tables and "alembic_version" not in tables:
        raise TrackingError(
            f"MLflow store {store.display} is a SQLite database of something else (its "
            f"tables: {', '.join(sorted(tables)[:3])}...), not an MLflow store; point "
            "WINEQ_TRACKING_URI elsewhere, or move it aside"
        )


def _duplicate_dataset(text: str) -> bool:
    """Whether an error is the lost race of two runs inserting the same dataset."""
    text = text.lower()
    return "datasets" in text and (
        "unique constraint" in text or "duplicate" in text or "already exists" in text
    )


def _known_revision(text: str) -> bool:
    """Whether the schema revision MLflow found is one of its own past ones (an older
    store), not one it has never seen (a store of a newer MLflow)."""
    import re

    import mlflow.store.db_migrations as migrations

    found = re.search(r"found version (\w+)", text)
    versions = Path(migrations.__file__).parent / "versions"
    return bool(found) and any(versions.glob(f"{found.group(1)}_*.py"))


def _sqlite_reason(text: str) -> str:
    """SQLite's own words out of a SQLAlchemy error text."""
    for reason in ("file is not a database", "database disk image is malformed"):
        if reason in text:
            return reason
    return text.splitlines()[0][:120]


def _sqlite_lock(store: TrackingStore):
    """An inter-process lock beside a SQLite store (no-op for servers and other databases)."""
    if store.kind != "sqlite" or not store.uri.startswith("sqlite:///"):
        return nullcontext()
    from filelock import FileLock

    path = store.uri.removeprefix("sqlite:///").split("?", 1)[0]
    return FileLock(f"{path}.lock", timeout=120)


def _run_record(run) -> RunRecord:
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


def _version_record(mv) -> VersionRecord:
    return VersionRecord(
        name=mv.name,
        version=str(mv.version),
        run_id=mv.run_id,
        tags=dict(mv.tags or {}),
        aliases=tuple(getattr(mv, "aliases", None) or ()),
        description=mv.description or "",
    )


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
        self.store = store
        self.experiment = experiment
        self.model_name = model_name
        self.timeout = timeout
        self.credentials = credentials or {}
        """MLFLOW_TRACKING_* login from settings (environment or .env); exported for MLflow."""
        self._client = None
        self._experiment_id: Optional[str] = None

    @property
    def who(self) -> str:
        """The login as messages name it: the user, or the token."""
        user = self.credentials.get("MLFLOW_TRACKING_USERNAME")
        return f"user {user!r}" if user else "the login of MLFLOW_TRACKING_TOKEN"

    @contextmanager
    def _calls(self, doing: str, needs: str = "") -> Iterator[None]:
        """Translate MLflow's errors into wineq's, naming what was being done (and, when a
        server with authentication refuses it, the permission it `needs`)."""
        from mlflow.exceptions import MlflowException

        try:
            yield
        except MlflowException as exc:
            if exc.error_code == "PERMISSION_DENIED":
                raise AccessDenied(
                    f"{self.who} lacks the permission for {doing} at MLflow "
                    f"{self.store.display}: it needs {needs or 'a permission not granted'}; "
                    "ask an admin of the server to grant it"
                ) from None
            if exc.error_code == "UNAUTHENTICATED":
                if not self.credentials:
                    raise NotAuthenticated(
                        f"MLflow {self.store.display} requires a login: set "
                        "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or "
                        "MLFLOW_TRACKING_TOKEN) in the environment or .env"
                    ) from None
                raise NotAuthenticated(
                    f"MLflow {self.store.display} refused the login of {self.who} "
                    "(wrong password, or the user was removed); check "
                    "MLFLOW_TRACKING_PASSWORD in the environment or .env"
                ) from None
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                raise NotFoundError(f"{doing}: {exc.message}") from exc
            problem = self._store_problem(str(exc.message))
            if problem is not None:  # a store that broke or locked after it was opened
                raise TrackingError(f"{problem} (while {doing})") from None
            first_line = str(exc.message).strip().splitlines()[0] if exc.message else exc
            raise TrackingError(
                f"MLflow at {self.store.display} failed while {doing}: {first_line}"
            ) from exc

    def _store_problem(self, text: str) -> Optional[str]:
        """The one line for a damaged, foreign, locked or full SQLite store, from the text
        of whatever error MLflow or SQLAlchemy raised; None for any other error."""
        if self.store.kind != "sqlite":
            return None
        where = f"MLflow store {self.store.display}"
        path = self.store.display.removeprefix("sqlite:///")
        if "out-of-date database schema" in text and _known_revision(text):
            return (
                f"{where} has the schema of an older MLflow; back it up, then run "
                f"`mlflow db upgrade {self.store.display}`"
            )
        if "out-of-date database schema" in text or "Can't locate revision" in text:
            return (
                f"{where} was written by a newer MLflow than this one, or its schema record "
                "is damaged; use that MLflow, upgrade MLflow here (`pip install -U mlflow`), "
                "or restore the store from a backup"
            )
        if "not a database" in text or "malformed" in text or "already exists" in text:
            return (
                f"{where} is damaged or not an MLflow database (SQLite: {_sqlite_reason(text)}); "
                "restore it from a backup, or move it aside and a new, empty one will be made"
            )
        if "database is locked" in text:
            return (
                f"{where} stayed locked by another process past the wait "
                f"(WINEQ_STORE_BUSY_TIMEOUT); wait for it to finish, or find it with `fuser {path}`"
            )
        if "disk is full" in text:
            return f"{where}: the disk is full; free some space, then run the command again"
        if "readonly database" in text or "read-only" in text:
            return f"{where} cannot be written (read-only); check the permissions of {path}"
        return None

    @contextmanager
    def _store_faults(self) -> Iterator[None]:
        """A damaged, foreign or locked SQLite store as one line naming the way out.

        Nothing is written to such a store: MLflow refuses it before any write, and a
        SQLite file of another application is refused before MLflow would add its tables."""
        if self.store.kind != "sqlite":
            yield
            return
        _refuse_foreign_sqlite(self.store, self._store_problem)
        try:
            yield
        except WineqError:
            raise
        except Exception as exc:  # SQLAlchemy's and MLflow's errors alike, read by their text
            problem = self._store_problem(str(exc))
            if problem is None:
                raise
            raise TrackingError(problem) from None

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

    def _check_server(self) -> None:
        """Fail in seconds, not after minutes of MLflow's retries, when the server is down."""
        import urllib.error
        import urllib.request

        url = self.store.uri.rstrip("/") + "/health"
        try:
            with urllib.request.urlopen(url, timeout=min(self.timeout, 5.0)) as response:
                response.read(64)
        except urllib.error.HTTPError:
            return  # it answered: a proxy or an older server without /health
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TrackingError(
                f"MLflow tracking server {self.store.display} is unreachable ({reason}); start "
                "it (`mlflow server ...`) or fix WINEQ_TRACKING_URI"
            ) from exc

    @property
    def client(self):
        if self._client is None:
            # Schema migrations on a new SQLite store log at INFO; users need none of it.
            for name in ("alembic", "mlflow"):
                logging.getLogger(name).setLevel(logging.WARNING)
            # a locked or full store is wineq's one line, not MLflow's logged traceback
            logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
            # nor bars for the few kB of a model's pointer files; wineq reports outcomes
            os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
            if self.store.is_server:
                # Bound every request: a dead server must not cost minutes of retries.
                os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(max(1, int(self.timeout)))
                os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "2"
                os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] = "1"
                # wineq prints its own summary; MLflow would add a "View run" line to stdout
                os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
                # MLflow's client reads the login from the environment; .env's goes there
                # too, and a login an earlier tracker of this process exported goes away
                for name in (
                    "MLFLOW_TRACKING_USERNAME",
                    "MLFLOW_TRACKING_PASSWORD",
                    "MLFLOW_TRACKING_TOKEN",
                ):
                    os.environ.pop(name, None)
                os.environ.update(self.credentials)
                self._check_server()
            from mlflow.tracking import MlflowClient

            with self._calls("connecting"), self._store_faults(), _sqlite_lock(self.store):
                client = MlflowClient(tracking_uri=self.store.uri, registry_uri=self.store.uri)
                # Opening the store creates or migrates a SQLite schema: one process at a time.
                client.search_experiments(max_results=1)
            self._client = client
        return self._client

    def experiment_id(self, create: bool = True) -> Optional[str]:
        if self._experiment_id is None:
            from mlflow.exceptions import MlflowException

            with self._calls(f"looking up experiment {self.experiment!r}"):
                found = self.client.get_experiment_by_name(self.experiment)
                if found is None and create:
                    try:
                        self._experiment_id = self.client.create_experiment(
                            self.experiment, artifact_location=self.store.artifact_location
                        )
                    except MlflowException as exc:
                        # Another process created it first: use theirs.
                        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                            raise
                        found = self.client.get_experiment_by_name(self.experiment)
                if found is not None:
                    self._experiment_id = found.experiment_id
        return self._experiment_id

    # ------------------------------------------------------------- runs

    def start_run(self, params: dict[str, object], tags: dict[str, str]) -> str:
        from mlflow.entities import Param, RunTag

        with self._calls("starting a run", f"EDIT on experiment {self.experiment!r}"):
            run = self.client.create_run(self.experiment_id(), tags=tags)
            run_id = run.info.run_id
            self.client.log_batch(
                run_id, params=[Param(k, str(v)) for k, v in params.items()], synchronous=True
            )
            name = tags.get("mlflow.runName") or run_id[:8]
            self.client.log_batch(run_id, tags=[RunTag("mlflow.runName", name)])
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
        with self._calls("logging metrics", f"EDIT on experiment {self.experiment!r}"):
            for start in range(0, len(metrics), MAX_BATCH):
                self.client.log_batch(run_id, metrics=metrics[start : start + MAX_BATCH])

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        from mlflow.entities import RunTag

        with self._calls("tagging the run"):
            self.client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def log_pointer(self, run_id: str, text: str, filename: str) -> None:
        """A small text artifact in the run; registered versions point at it."""
        with self._calls("storing the model pointer"):
            self.client.log_text(run_id, text, f"{POINTER_DIR}/{filename}")

    def log_wine_model(
        self,
        run_id: str,
        pointer: str,
        remote: dict,
        example,
        requirements: list[str],
        intervals: bool = True,
    ) -> str:
        """Log the run's MLflow Model (see mlflow_model.py): an MLmodel, the DVC pointer and
        remote as its only artifacts, wineq's code, a signature and an input example.
        The signature lists the interval and p_premium columns only if the model is
        calibrated (`intervals`).

        Returns the logged model's id; registering `models:/<id>` makes a version that
        MLflow's loader, scoring server and Spark take as it is.
        """
        import shutil
        import tempfile

        import mlflow.pyfunc
        from mlflow.entities import LoggedModelOutput
        from mlflow.models import ModelSignature
        from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

        import winequality
        from winequality.schema import (
            COLOR,
            DEFAULT_INTERVAL,
            DEFAULT_PREMIUM,
            FEATURES,
            PREDICTION,
            UNCERTAINTY,
        )

        signature = ModelSignature(
            inputs=Schema([ColSpec("double", f) for f in FEATURES] + [ColSpec("string", COLOR)]),
            outputs=Schema(
                [ColSpec("double", c) for c in (PREDICTION, *(UNCERTAINTY if intervals else ()))]
            ),
            params=ParamSchema(
                [
                    ParamSpec("interval", "double", DEFAULT_INTERVAL),
                    ParamSpec("premium", "long", DEFAULT_PREMIUM),
                ]
            ),
        )
        with tempfile.TemporaryDirectory(prefix="wineq-model-") as tmp:
            work = Path(tmp)
            (work / "model.pt.dvc").write_text(pointer)
            (work / "dvc_remote.json").write_text(json.dumps(remote, indent=2))
            code = work / "code" / "winequality"
            shutil.copytree(
                Path(winequality.__file__).parent,
                code,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
            entry = work / "wine_quality_model.py"
            entry.write_text(MODEL_ENTRY)
            with self._calls("logging the MLflow Model"):
                logged = self.client.create_logged_model(
                    self.experiment_id(), name="model", source_run_id=run_id
                )
                try:
                    mlflow.pyfunc.save_model(
                        work / "model",
                        python_model=str(entry),
                        artifacts={
                            "pointer": str(work / "model.pt.dvc"),
                            "dvc_remote": str(work / "dvc_remote.json"),
                        },
                        code_paths=[str(code)],
                        signature=signature,
                        input_example=example,
                        pip_requirements=requirements,
                    )
                    self.client.log_model_artifacts(logged.model_id, str(work / "model"))
                except BaseException:
                    self.client.finalize_logged_model(logged.model_id, "FAILED")
                    raise
                self.client.finalize_logged_model(logged.model_id, "READY")
                # the run's output, so the run's page in MLflow's UI lists the model
                self.client.log_outputs(run_id, [LoggedModelOutput(logged.model_id, step=0)])
        return logged.model_id

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
        with self._calls("logging the dataset input"):
            for attempt in range(3):
                try:
                    self.client.log_inputs(run_id, inputs)
                    return
                except MlflowException as exc:
                    # Two trainers logging the same new dataset at once: MLflow's store
                    # inserts it twice and one insert fails. The other's is there now.
                    if attempt == 2 or not _duplicate_dataset(str(exc.message)):
                        raise
                    time.sleep(0.2 * (attempt + 1))

    def log_report(self, run_id: str, description: str, plots: list[Path], table) -> None:
        """What the run's page shows: its description (markdown), its plots as images under
        `plots/`, and `table` (a DataFrame) as the `test_predictions.json` table artifact."""
        from mlflow.entities import RunTag

        with self._calls("logging the run's report"):
            self.client.log_batch(run_id, tags=[RunTag("mlflow.note.content", description)])
            for path in plots:
                self.client.log_artifact(run_id, str(path), "plots")
            self.client.log_table(run_id, table, "test_predictions.json")

    def artifacts(self, run_id: str) -> list[tuple[str, int]]:
        """Every artifact of the run: (path inside the run, size in bytes), depth first."""
        from mlflow.exceptions import MlflowException

        found = []
        doing = f"listing the artifacts of run {run_id}"
        with self._calls(doing):
            folders = [None]
            try:
                while folders:
                    for info in self.client.list_artifacts(run_id, folders.pop()):
                        if info.is_dir:
                            folders.append(info.path)
                        else:
                            found.append((info.path, int(info.file_size or 0)))
            except MlflowException:
                raise
            except Exception as exc:  # the artifact store's own client: files, S3, ...
                raise TrackingError(f"{doing}: {type(exc).__name__}: {exc}") from exc
        return sorted(found)

    def ui_url(self, run: RunRecord) -> Optional[str]:
        """The run's page in MLflow's UI, when the store is a server (it serves the UI)."""
        if not self.store.is_server:
            return None
        return (
            f"{self.store.display.rstrip('/')}/#/experiments/{run.experiment_id}/runs/{run.run_id}"
        )

    def end_run(self, run_id: str, status: str) -> None:
        with self._calls(f"ending the run as {status}"):
            self.client.set_terminated(run_id, status)

    def get_run(self, run_id: str) -> RunRecord:
        with self._calls(f"looking up run {run_id}"):
            return _run_record(self.client.get_run(run_id))

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
        experiment_id = self.experiment_id(create=False)
        if experiment_id is None:
            return [], None
        with self._calls("searching runs", f"READ on experiment {self.experiment!r}"):
            runs = self.client.search_runs(
                [experiment_id],
                filter_string=filter_string,
                order_by=order_by or ["attributes.start_time DESC"],
                max_results=max_results,
                page_token=page_token,
            )
        return [_run_record(run) for run in runs], runs.token

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

    def versions(self, doing: str = "", needs: str = "") -> list[VersionRecord]:
        """All versions of the registered model, newest first (empty if not registered).

        `doing` and `needs` name the action this listing is part of, for a refusal."""
        from mlflow.exceptions import MlflowException

        with self._calls(
            doing or f"listing versions of {self.model_name!r}",
            needs or f"READ on registered model {self.model_name!r}",
        ):
            try:
                model = self.client.get_registered_model(self.model_name)
            except MlflowException as exc:
                if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                    return []
                raise
            aliases: dict[str, list[str]] = {}
            for alias, version in (model.aliases or {}).items():
                aliases.setdefault(str(version), []).append(alias)
            found = self.client.search_model_versions(f"name = '{self.model_name}'")
        records = [
            VersionRecord(
                name=mv.name,
                version=str(mv.version),
                run_id=mv.run_id,
                tags=dict(mv.tags or {}),
                aliases=tuple(sorted(aliases.get(str(mv.version), []))),
                description=mv.description or "",
            )
            for mv in found
        ]
        return sorted(records, key=lambda r: int(r.version), reverse=True)

    def register(
        self,
        run: RunRecord,
        tags: dict[str, str],
        alias: str = ALIAS,
        description: str = "",
        model_description: str = "",
    ) -> VersionRecord:
        """A new version pointing at the run's pointer artifact, with `alias` moved onto it.

        `description` is the version's; `model_description` is set on the registered model
        when it has none (one a team wrote in MLflow's UI is kept).
        """
        from mlflow.exceptions import MlflowException

        with self._calls(
            f"registering run {run.run_id} as {self.model_name!r}",
            f"EDIT or MANAGE on registered model {self.model_name!r}",
        ):
            try:
                self.client.create_registered_model(
                    self.model_name, description=model_description or None
                )
            except MlflowException as exc:
                if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise
                if (
                    model_description
                    and not self.client.get_registered_model(self.model_name).description
                ):
                    self.client.update_registered_model(self.model_name, model_description)
            model_id = run.lineage.get("mlflow_model_id")
            if model_id:  # an MLflow Model: MLflow's loader, server and Spark take it
                source = f"models:/{model_id}"
            else:  # a run from before wineq logged MLflow Models: only wineq reads it
                source = f"{self.client.get_run(run.run_id).info.artifact_uri}/{POINTER_DIR}"
            with self._process_tracking_uri():
                mv = self.client.create_model_version(
                    self.model_name,
                    source,
                    run_id=run.run_id,
                    tags=tags,
                    await_creation_for=0,
                    model_id=model_id,
                    description=description or None,
                )
            self.client.set_registered_model_alias(self.model_name, alias, str(mv.version))
        return self.version(str(mv.version))

    @contextmanager
    def _process_tracking_uri(self) -> Iterator[None]:
        """Point MLflow's process-wide tracking URI at this store for the block.

        A local registry store resolves a `models:/<id>` source through the process-wide
        URI, not through the client that asked (a TODO in MLflow 3's stores); a server
        resolves it on its own side.
        """
        # MLflow's own helper: it puts back exactly what was there, "not set" included
        # (setting back get_tracking_uri()'s answer would pin this store for the process)
        from mlflow.tracking._tracking_service.utils import _use_tracking_uri

        if self.store.is_server:
            yield
            return
        with _use_tracking_uri(self.store.uri):
            yield

    def set_alias(self, version: str, alias: str = ALIAS) -> None:
        with self._calls(
            f"moving alias {alias!r}", f"EDIT or MANAGE on registered model {self.model_name!r}"
        ):
            self.client.set_registered_model_alias(self.model_name, alias, version)

    def version(self, version: str, name: Optional[str] = None) -> VersionRecord:
        name = name or self.model_name
        with self._calls(
            f"looking up model {name}/{version}", f"READ on registered model {name!r}"
        ):
            return _version_record(self.client.get_model_version(name, version))

    def version_by_alias(self, alias: str, name: Optional[str] = None) -> VersionRecord:
        from mlflow.exceptions import MlflowException

        name = name or self.model_name
        with self._calls(f"looking up model {name}@{alias}", f"READ on registered model {name!r}"):
            try:
                return _version_record(self.client.get_model_version_by_alias(name, alias))
            except MlflowException as exc:
                # A missing alias is INVALID_PARAMETER_VALUE to MLflow; to a user it is as
                # missing as a missing version, so ask the registry which it is.
                aliases = self.client.get_registered_model(name).aliases or {}
                if alias not in aliases:
                    raise NotFoundError(f"model {name} has no alias {alias!r}") from exc
                raise
