"""Reading runs and versions without importing MLflow: its REST API on a server, its
SQLite file read-only on the embedded store.

`wineq runs`, `show` and `infer` only read a handful of records, yet MLflow's client
costs seconds to import (its SQL store more). A server answers the REST API MLflow
documents as stable (`/api/2.0/mlflow/...`); a SQLite store is read with the standard
library, for the schema revisions listed in `KNOWN_REVISIONS` only (the revisions the
tests compare with MlflowClient's answers).

These readers answer only the plain cases. Anything else (an error, a missing record, an
unknown schema, TLS settings, a workspace) raises `Miss`, and the tracker asks MlflowClient
instead, whose answers and error messages are the reference: the slow path is always
right, this one only faster.
"""

from __future__ import annotations

import base64
import json
import math
import os
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any, Optional

from winequality.adapters.mlflow.connection import TrackingStore
from winequality.records import RunRecord, VersionRecord

# alembic revisions of MLflow's SQL schema whose tables this reader knows (MLflow 3.x)
KNOWN_REVISIONS = frozenset({"dc11669786a5"})
# settings of MLflow's client this reader does not follow: with any of them, MlflowClient
TLS_AND_SCOPE = (
    "MLFLOW_TRACKING_INSECURE_TLS",
    "MLFLOW_TRACKING_SERVER_CERT_PATH",
    "MLFLOW_TRACKING_CLIENT_CERT_PATH",
    "MLFLOW_WORKSPACE",
    "MLFLOW_TRACKING_AUTH",
)


class Miss(Exception):
    """Not a plain case: ask MlflowClient."""


def quick_reader(store: TrackingStore, credentials: dict[str, str], timeout: float):
    """The quick reader of `store`, or None where there is none (other databases)."""
    if any(os.environ.get(name) for name in TLS_AND_SCOPE):
        return None
    if store.is_server:
        return RestReader(store.uri, credentials, timeout)
    if store.kind == "sqlite" and store.uri.startswith("sqlite:///"):
        return SqliteReader(store.uri.removeprefix("sqlite:///").split("?", 1)[0])
    return None


def _version(mv: dict, aliases: tuple[str, ...]) -> VersionRecord:
    return VersionRecord(
        name=mv["name"],
        version=str(mv["version"]),
        run_id=mv.get("run_id") or None,
        tags=mv.get("tags") or {},
        aliases=aliases,
        description=mv.get("description") or "",
    )


class RestReader:
    """MLflow's REST API through urllib: one request per record, bounded by `timeout`."""

    def __init__(self, uri: str, credentials: dict[str, str], timeout: float):
        self.base = uri.rstrip("/") + "/api/2.0/mlflow/"
        self.timeout = timeout
        self.headers = {"User-Agent": "wineq"}
        user = credentials.get("MLFLOW_TRACKING_USERNAME")
        password = credentials.get("MLFLOW_TRACKING_PASSWORD", "")
        token = credentials.get("MLFLOW_TRACKING_TOKEN")
        if user:
            login = base64.b64encode(f"{user}:{password}".encode()).decode()
            self.headers["Authorization"] = f"Basic {login}"
        elif token:
            self.headers["Authorization"] = f"Bearer {token}"

    def _call(self, path: str, query: Optional[dict] = None, body: Optional[dict] = None):
        url = self.base + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        headers = {**self.headers, **({"Content-Type": "application/json"} if data else {})}
        request = urllib.request.Request(url, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except (OSError, ValueError) as exc:  # HTTPError and URLError are OSErrors
            raise Miss(str(exc)) from exc

    def experiment_id(self, name: str) -> str:
        found = self._call("experiments/get-by-name", {"experiment_name": name})
        return str(found["experiment"]["experiment_id"])

    def get_run(self, run_id: str) -> RunRecord:
        return _rest_run(self._call("runs/get", {"run_id": run_id})["run"])

    def runs_page(self, experiment: str, page_size: int, page: int) -> tuple[list[RunRecord], bool]:
        experiment_id = self.experiment_id(experiment)
        token, found = None, {}
        for number in range(1, page + 1):
            body = {
                "experiment_ids": [experiment_id],
                "max_results": page_size,
                "order_by": ["attributes.start_time DESC"],
                "run_view_type": "ACTIVE_ONLY",
                **({"page_token": token} if token else {}),
            }
            found = self._call("runs/search", body=body)
            token = found.get("next_page_token")
            if not token and number < page:
                return [], False
        return [_rest_run(r) for r in found.get("runs", [])], bool(token)

    def version(self, name: str, version: str) -> VersionRecord:
        mv = self._call("model-versions/get", {"name": name, "version": version})
        return _rest_version(mv["model_version"])

    def version_by_alias(self, name: str, alias: str) -> VersionRecord:
        mv = self._call("registered-models/alias", {"name": name, "alias": alias})
        return _rest_version(mv["model_version"])

    def versions(self, name: str) -> list[VersionRecord]:
        model = self._call("registered-models/get", {"name": name})["registered_model"]
        aliases: dict[str, list[str]] = {}
        for entry in model.get("aliases", []):
            aliases.setdefault(str(entry["version"]), []).append(entry["alias"])
        found, token = [], None
        while True:
            query = {"filter": f"name = '{name}'", "max_results": 1000}
            page = self._call(
                "model-versions/search", {**query, **({"page_token": token} if token else {})}
            )
            found += page.get("model_versions", [])
            token = page.get("next_page_token")
            if not token:
                break
        records = [
            _rest_version(mv, tuple(sorted(aliases.get(str(mv["version"]), [])))) for mv in found
        ]
        return sorted(records, key=lambda r: int(r.version), reverse=True)

    def artifacts(self, run_id: str) -> list[tuple[str, int]]:
        found, folders = [], [None]
        while folders:
            folder = folders.pop()
            query = {"run_id": run_id, **({"path": folder} if folder else {})}
            for info in self._call("artifacts/list", query).get("files", []):
                if info.get("is_dir"):
                    folders.append(info["path"])
                else:
                    found.append((info["path"], int(info.get("file_size") or 0)))
        return sorted(found)


def _pairs(entries: list[dict]) -> dict[str, Any]:
    return {e["key"]: e.get("value", "") for e in entries}


def _rest_run(run: dict) -> RunRecord:
    info, data = run["info"], run.get("data", {})
    return RunRecord(
        run_id=info["run_id"],
        status=info["status"],
        start_time=_int(info.get("start_time")),
        params=_pairs(data.get("params", [])),
        metrics={k: float(v) for k, v in _pairs(data.get("metrics", [])).items()},
        tags=_pairs(data.get("tags", [])),
        end_time=_int(info.get("end_time")),
        artifact_uri=info.get("artifact_uri") or "",
        experiment_id=str(info.get("experiment_id") or ""),
    )


def _rest_version(mv: dict, aliases: Optional[tuple[str, ...]] = None) -> VersionRecord:
    found = {**mv, "tags": _pairs(mv.get("tags", []))}
    return _version(found, tuple(mv.get("aliases", [])) if aliases is None else aliases)


def _int(value) -> Optional[int]:
    return None if value is None else int(value)


class SqliteReader:
    """MLflow's SQLite store read-only, for the schema revisions this module knows."""

    def __init__(self, path: str):
        self.path = path

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        if not os.path.isfile(self.path):
            raise Miss("no store yet")  # MlflowClient makes it
        try:
            uri = "file:" + urllib.parse.quote(self.path) + "?mode=ro"
            with closing(sqlite3.connect(uri, uri=True, timeout=5)) as db:
                (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
                if revision not in KNOWN_REVISIONS:
                    raise Miss(f"schema revision {revision}")
                yield db
        except sqlite3.Error as exc:
            raise Miss(str(exc)) from exc

    def experiment_id(self, name: str) -> str:
        with self._db() as db:
            return str(self._experiment(db, name))

    @staticmethod
    def _experiment(db: sqlite3.Connection, name: str) -> int:
        row = db.execute(
            "SELECT experiment_id FROM experiments WHERE name = ? AND workspace = 'default'",
            (name,),
        ).fetchone()
        if row is None:
            raise Miss(f"no experiment {name!r}")
        return row[0]

    def get_run(self, run_id: str) -> RunRecord:
        with self._db() as db:
            runs = self._runs(db, "r.run_uuid = ?", (run_id,))
        if not runs:
            raise Miss(f"no run {run_id}")
        return runs[0]

    def runs_page(self, experiment: str, page_size: int, page: int) -> tuple[list[RunRecord], bool]:
        with self._db() as db:
            experiment_id = self._experiment(db, experiment)
            runs = self._runs(
                db,
                "r.experiment_id = ? AND r.lifecycle_stage = 'active' "
                "ORDER BY r.start_time DESC, r.run_uuid LIMIT ? OFFSET ?",
                (experiment_id, page_size + 1, page_size * (page - 1)),
            )
        return runs[:page_size], len(runs) > page_size

    @staticmethod
    def _runs(db: sqlite3.Connection, where: str, args: tuple) -> list[RunRecord]:
        rows = db.execute(
            "SELECT r.run_uuid, r.status, r.start_time, r.end_time, r.artifact_uri, "
            f"r.experiment_id FROM runs r WHERE {where}",
            args,
        ).fetchall()
        ids = [row[0] for row in rows]
        marks = ",".join("?" * len(ids))
        found: dict[str, dict[str, dict]] = {i: {"p": {}, "m": {}, "t": {}} for i in ids}
        queries = {
            "p": f"SELECT run_uuid, key, value, 0 FROM params WHERE run_uuid IN ({marks})",
            "t": f"SELECT run_uuid, key, value, 0 FROM tags WHERE run_uuid IN ({marks})",
            "m": "SELECT run_uuid, key, value, is_nan FROM latest_metrics "
            f"WHERE run_uuid IN ({marks})",
        }
        for kind, query in queries.items():
            for run_uuid, key, value, is_nan in db.execute(query, ids):
                if kind == "m":
                    value = math.nan if is_nan else float(value)
                found[run_uuid][kind][key] = value
        return [
            RunRecord(
                run_id=run_uuid,
                status=status,
                start_time=start,
                params=found[run_uuid]["p"],
                metrics=found[run_uuid]["m"],
                tags=found[run_uuid]["t"],
                end_time=end,
                artifact_uri=artifact_uri or "",
                experiment_id=str(experiment_id),
            )
            for run_uuid, status, start, end, artifact_uri, experiment_id in rows
        ]

    def version(self, name: str, version: str) -> VersionRecord:
        with self._db() as db:
            found = self._versions(db, name, "AND version = ?", (int(version),))
        if not found:
            raise Miss(f"no version {name}/{version}")
        return found[0]

    def version_by_alias(self, name: str, alias: str) -> VersionRecord:
        with self._db() as db:
            row = db.execute(
                "SELECT version FROM registered_model_aliases "
                "WHERE name = ? AND alias = ? AND workspace = 'default'",
                (name, alias),
            ).fetchone()
            found = self._versions(db, name, "AND version = ?", (row[0],)) if row else []
        if not found:
            raise Miss(f"no alias {name}@{alias}")
        return found[0]

    def versions(self, name: str) -> list[VersionRecord]:
        with self._db() as db:
            known = db.execute(
                "SELECT 1 FROM registered_models WHERE name = ? AND workspace = 'default'",
                (name,),
            ).fetchone()
            found = self._versions(db, name, "", ()) if known else []
        return sorted(found, key=lambda r: int(r.version), reverse=True)

    @staticmethod
    def _versions(db: sqlite3.Connection, name: str, where: str, args: tuple) -> list:
        scope = "name = ? AND workspace = 'default'"
        rows = db.execute(
            "SELECT name, version, run_id, description FROM model_versions "
            f"WHERE {scope} AND current_stage != 'Deleted_Internal' {where}",
            (name, *args),
        ).fetchall()
        tags: dict[int, dict[str, str]] = {}
        for version, key, value in db.execute(
            f"SELECT version, key, value FROM model_version_tags WHERE {scope}", (name,)
        ):
            tags.setdefault(version, {})[key] = value
        aliases: dict[int, list[str]] = {}
        for alias, version in db.execute(
            f"SELECT alias, version FROM registered_model_aliases WHERE {scope}", (name,)
        ):
            aliases.setdefault(version, []).append(alias)
        return [
            _version(
                {"name": n, "version": v, "run_id": r, "description": d, "tags": tags.get(v, {})},
                tuple(sorted(aliases.get(v, []))),
            )
            for n, v, r, d in rows
        ]

    def artifacts(self, run_id: str) -> list[tuple[str, int]]:
        """A run's artifacts where they are files on this machine (file:// locations)."""
        root = self.get_run(run_id).artifact_uri
        if not root.startswith("file://"):
            raise Miss("artifacts elsewhere")
        folder = urllib.parse.unquote(urllib.parse.urlsplit(root).path)
        found = []
        for where, _, files in os.walk(folder):
            for name in files:
                path = os.path.join(where, name)
                found.append((os.path.relpath(path, folder), os.path.getsize(path)))
        return sorted(found)
