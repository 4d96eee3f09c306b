"""The DVC repository of a project and its remotes: the repository opened under wineq's own
lock, the remote in use (settings' name, else the repository's default), and what a model
records of a remote to reach it again."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional, cast

from winequality.errors import StoreError, WineqError, first_line
from winequality.records import without_credentials

SPEC_KEYS = ("url", "endpointurl", "region")  # what reaches a remote again; no secrets
_TRANSFER_LOG = threading.Lock()


@contextmanager
def transfer_errors() -> Iterator[list[str]]:
    """DVC's per-object transfer errors, kept for wineq's one-line message instead of
    printed by DVC's own logging."""
    reasons: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            exc = record.exc_info[1] if record.exc_info else None
            reasons.append(first_line(exc) if exc else record.getMessage())

    logger = logging.getLogger("dvc_data")  # DVC's CLI set-up may give it a handler of its own
    with _TRANSFER_LOG:  # one swap at a time: the logger is the process's
        handlers, propagate = logger.handlers, logger.propagate
        logger.handlers, logger.propagate = [Keep(logging.ERROR)], False
        try:
            yield reasons
        finally:
            logger.handlers, logger.propagate = handlers, propagate


def md5_of(path: Path) -> Optional[str]:
    """The md5 of the file's bytes; None when there is no file to read."""
    try:
        return hashlib.md5(path.read_bytes()).hexdigest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def md5_info(md5: str):
    """DVC's name for the object with this md5."""
    from dvc_data.hashfile.hash_info import HashInfo

    return HashInfo("md5", md5)


class Repository:
    """A project's DVC repository, and the remote wineq uses in it."""

    def __init__(self, root: Path, remote: Optional[str] = None, lock_timeout: float = 300.0):
        self.root = root
        self.remote_name = remote
        self.lock_timeout = lock_timeout

    @contextmanager
    def open(self) -> Iterator[Any]:
        """The DVC repository, held by this process alone.

        DVC's own lock fails at once when another process holds it; wineq processes
        sharing a work tree queue on a lock of their own instead, so concurrent
        trainers never see a DVC lock error.
        """
        from dvc.exceptions import DvcException
        from dvc.repo import Repo
        from filelock import FileLock, Timeout

        # DVC logs hints meant for its own CLI ("git add ..."); wineq reports outcomes itself.
        logging.getLogger("dvc").setLevel(logging.ERROR)
        # nor its progress bars ("0% Checking cache in ..."), which a terminal keeps above
        # wineq's own output: DVC draws a bar only when its logger lets errors through
        logging.getLogger("dvc.progress").setLevel(logging.CRITICAL)
        lock_path = self.root / ".dvc" / "tmp" / "wineq.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(lock_path), timeout=self.lock_timeout)
        try:
            lock.acquire()
        except Timeout as exc:
            raise StoreError(
                f"another wineq process has held {lock_path} for {self.lock_timeout:.0f} s; "
                "wait for it to finish, or stop it"
            ) from exc
        try:
            try:
                repo = Repo(str(self.root))
            except DvcException as exc:
                raise StoreError(f"{self.root} is not a usable DVC repository: {exc}") from exc
            try:
                yield repo
            finally:
                repo.close()
        finally:
            lock.release()

    def default_remote(self, repo) -> Optional[str]:
        """The remote in use: the one settings name, else the repository's default."""
        return self.remote_name or repo.config["core"].get("remote")

    def name(self, repo) -> str:
        """The remote in use as messages name it."""
        return self.default_remote(repo) or "(default)"

    def remote(self, repo) -> tuple[str, Any]:
        """Name and object database of the remote in use, or a StoreError saying how to add one."""
        from dvc.config import NoRemoteError
        from dvc.exceptions import DvcException

        try:
            odb = repo.cloud.get_remote_odb(self.remote_name, "push")
        except NoRemoteError as exc:
            raise StoreError(
                "no DVC remote is configured; run `make setup`, or "
                "`dvc remote add -d storage <url>` (a folder or s3://bucket/path)"
            ) from exc
        except DvcException as exc:
            raise StoreError(f"DVC remote {self.remote_name or '(default)'}: {exc}") from exc
        # a name: without one DVC refused above (NoRemoteError)
        name = cast(str, self.default_remote(repo))
        return name, odb

    @contextmanager
    def reaching(self, repo, name: str, doing: str = "could not reach") -> Iterator[None]:
        """Any failure to reach the remote (botocore, aiohttp, OS, ...) as one StoreError
        line, `doing` DVC remote `name (url)`: why; wineq's own errors pass through."""
        try:
            yield
        except WineqError:
            raise
        except Exception as exc:
            raise StoreError(
                f"{doing} DVC remote {self.describe(repo, name)}: {first_line(exc)}"
            ) from exc

    @staticmethod
    def location(repo, name: str) -> dict:
        """The remote as a model records it: name, URL and the settings needed to reach it
        again (endpoint, region), never credentials."""
        config = repo.config["remote"].get(name, {})
        spec = {"name": name, "url": without_credentials(str(config.get("url", "")))}
        spec.update({key: str(config[key]) for key in SPEC_KEYS[1:] if key in config})
        return spec

    @classmethod
    def describe(cls, repo, name: str) -> str:
        """The remote as `name (url)`, without credentials."""
        return f"{name} ({cls.location(repo, name)['url']})"
