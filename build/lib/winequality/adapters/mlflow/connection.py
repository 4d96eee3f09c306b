"""The connection to one MLflow store: what a tracking URI means (`tracking_store`, the one
place wineq decides it), the login, and the process state MLflow reads — the environment
and the process-wide tracking URI, changed here and nowhere else."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from winequality.adapters.mlflow.errors import ErrorTranslation
from winequality.errors import TrackingError
from winequality.records import without_credentials

SQLITE_BUSY_TIMEOUT = 60  # seconds; lets concurrent trainers share one SQLite file
LOGIN_VARIABLES = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")


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


def sqlite_lock(store: TrackingStore):
    """An inter-process lock beside a SQLite store (no-op for servers and other databases)."""
    if store.kind != "sqlite" or not store.uri.startswith("sqlite:///"):
        return nullcontext()
    from filelock import FileLock

    path = store.uri.removeprefix("sqlite:///").split("?", 1)[0]
    return FileLock(f"{path}.lock", timeout=120)


class Connection:
    """An MlflowClient on one store, made on first use, and the translation of its errors."""

    def __init__(
        self, store: TrackingStore, timeout: float = 10.0, credentials: Optional[dict] = None
    ):
        self.store = store
        self.timeout = timeout
        self.credentials: dict[str, str] = credentials or {}
        """MLFLOW_TRACKING_* login from settings (environment or .env); exported for MLflow."""
        self.errors = ErrorTranslation(store, self.who, bool(self.credentials))
        self._client: Any = None

    @property
    def who(self) -> str:
        """The login as messages name it: the user, or the token."""
        user = self.credentials.get("MLFLOW_TRACKING_USERNAME")
        return f"user {user!r}" if user else "the login of MLFLOW_TRACKING_TOKEN"

    def calls(self, doing: str, needs: str = ""):
        """MLflow's errors inside the block as wineq's, naming what was being done."""
        return self.errors.calls(doing, needs)

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

    def _prepare_process(self) -> None:
        """The logging and environment MLflow's client reads, set before it is made."""
        # Schema migrations on a new SQLite store log at INFO; users need none of it.
        for name in ("alembic", "mlflow"):
            logging.getLogger(name).setLevel(logging.WARNING)
        # a locked or full store is wineq's one line, not MLflow's logged traceback
        logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
        # nor bars for the few kB of a model's pointer files; wineq reports outcomes
        os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
        if not self.store.is_server:
            return
        # Bound every request: a dead server must not cost minutes of retries.
        os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(max(1, int(self.timeout)))
        os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "2"
        os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] = "1"
        # wineq prints its own summary; MLflow would add a "View run" line to stdout
        os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
        # MLflow's client reads the login from the environment; .env's goes there too,
        # and a login an earlier tracker of this process exported goes away
        for name in LOGIN_VARIABLES:
            os.environ.pop(name, None)
        os.environ.update(self.credentials)

    @property
    def client(self):
        """The MlflowClient of this store; the first use opens (and migrates) the store."""
        if self._client is None:
            self._prepare_process()
            if self.store.is_server:
                self._check_server()
            from mlflow.tracking import MlflowClient

            with self.calls("connecting"), self.errors.store_faults(), sqlite_lock(self.store):
                client = MlflowClient(tracking_uri=self.store.uri, registry_uri=self.store.uri)
                # Opening the store creates or migrates a SQLite schema: one process at a time.
                client.search_experiments(max_results=1)
            self._client = client
        return self._client

    @contextmanager
    def process_tracking_uri(self) -> Iterator[None]:
        """Point MLflow's process-wide tracking URI at this store for the block.

        A local registry store resolves a `models:/<id>` source through the process-wide
        URI, not through the client that asked; a server resolves it on its own side.
        MLflow mirrors that URI in MLFLOW_TRACKING_URI, so the variable is put back too.
        """
        if self.store.is_server:
            yield
            return
        import mlflow

        variable = os.environ.get("MLFLOW_TRACKING_URI")
        mlflow.set_tracking_uri(self.store.uri)
        try:
            yield
        finally:
            # None is "not set" (MLflow's own helpers pass it), so no later call is pinned here
            mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
            if variable is not None:
                os.environ["MLFLOW_TRACKING_URI"] = variable
