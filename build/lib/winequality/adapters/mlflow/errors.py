"""MLflow's errors as wineq's: a refused login or permission, a missing resource, and the
forensics of a SQLite store that is damaged, foreign, locked, full or of another MLflow."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

from winequality.errors import (
    AccessDenied,
    NotAuthenticated,
    NotFoundError,
    TrackingError,
    WineqError,
    first_line,
)


def _refuse_foreign_sqlite(store, problem) -> None:
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


def is_duplicate_dataset(text: str) -> bool:
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
    if found is None:
        return False
    versions = Path(migrations.__file__).parent / "versions"
    return any(versions.glob(f"{found.group(1)}_*.py"))


def _sqlite_reason(text: str) -> str:
    """SQLite's own words out of a SQLAlchemy error text."""
    for reason in ("file is not a database", "database disk image is malformed"):
        if reason in text:
            return reason
    return text.splitlines()[0][:120]


class ErrorTranslation:
    """Translates what MLflow raises while talking to one store into one wineq line."""

    def __init__(self, store, who: str, logged_in: bool):
        self.store = store
        self.who = who
        self.logged_in = logged_in

    @contextmanager
    def calls(self, doing: str, needs: str = "") -> Iterator[None]:
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
                if not self.logged_in:
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
            problem = self.store_problem(str(exc.message))
            if problem is not None:  # a store that broke or locked after it was opened
                raise TrackingError(f"{problem} (while {doing})") from None
            reason = first_line(str(exc.message), fallback=str(exc)) if exc.message else exc
            raise TrackingError(
                f"MLflow at {self.store.display} failed while {doing}: {reason}"
            ) from exc

    def store_problem(self, text: str) -> Optional[str]:
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
    def store_faults(self) -> Iterator[None]:
        """A damaged, foreign or locked SQLite store as one line naming the way out.

        Nothing is written to such a store: MLflow refuses it before any write, and a
        SQLite file of another application is refused before MLflow would add its tables."""
        if self.store.kind != "sqlite":
            yield
            return
        _refuse_foreign_sqlite(self.store, self.store_problem)
        try:
            yield
        except WineqError:
            raise
        except Exception as exc:  # SQLAlchemy's and MLflow's errors alike, read by their text
            problem = self.store_problem(str(exc))
            if problem is None:
                raise
            raise TrackingError(problem) from None
