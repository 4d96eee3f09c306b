"""ModelStore: the only module that talks to DVC.

Bytes live in DVC (workspace, local cache, remote); callers only ever hold a path and
an md5. Third-party errors are translated here into wineq's own.

The data set is tracked the usual way (`data.dvc`, committed to Git). A model is not:
each training run puts its bytes in the DVC cache and remote by md5, and the run's MLflow
record (lineage tags and its `model/model.pt.dvc` artifact) is the pointer. The work
tree's `models/model.pt` is only the newest model, ignored by Git and unknown to
`dvc status`, so neither tool asks a user to commit anything after `wineq train`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

from winequality.errors import DataError, IntegrityError, StoreError
from winequality.io.atomic import why_not_written, write_atomic
from winequality.records import StoredFile, without_credentials
from winequality.settings import DATA_DIR, DATA_FILE


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_TRANSFER_LOG = threading.Lock()


@contextmanager
def _transfer_errors() -> Iterator[list[str]]:
    """DVC's per-object transfer errors, kept for wineq's one-line message instead of
    printed by DVC's own logging."""
    reasons: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            exc = record.exc_info[1] if record.exc_info else None
            reasons.append(_first_line(exc) if exc else record.getMessage())

    logger = logging.getLogger("dvc_data")  # DVC's CLI set-up may give it a handler of its own
    with _TRANSFER_LOG:  # one swap at a time: the logger is the process's
        handlers, propagate = logger.handlers, logger.propagate
        logger.handlers, logger.propagate = [Keep(logging.ERROR)], False
        try:
            yield reasons
        finally:
            logger.handlers, logger.propagate = handlers, propagate


def _ignore_in_git(path: Path) -> None:
    """Make sure Git ignores `path` (through its folder's .gitignore, as `dvc add` would)."""
    ignore = path.parent / ".gitignore"
    rule = f"/{path.name}"
    lines = ignore.read_text().splitlines() if ignore.is_file() else []
    if rule not in lines:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(ignore, "\n".join([*lines, rule]).encode() + b"\n")


def _md5_of(path: Path) -> Optional[str]:
    """The md5 of the file's bytes; None when there is no file to read."""
    try:
        return hashlib.md5(path.read_bytes()).hexdigest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


_SPEC_KEYS = ("url", "endpointurl", "region")  # what reaches a remote again; no secrets


def _md5_info(md5: str):
    """DVC's name for the object with this md5."""
    from dvc_data.hashfile.hash_info import HashInfo

    return HashInfo("md5", md5)


class ModelStore:
    """Data and model bytes in a DVC repository and its remote."""

    def __init__(self, root: Path, remote: Optional[str] = None, lock_timeout: float = 300.0):
        self.root = root
        self.remote_name = remote
        self.lock_timeout = lock_timeout

    @classmethod
    def from_settings(cls, settings) -> ModelStore:
        """The store of `settings`' project and DVC remote."""
        return cls(settings.project_dir, settings.dvc_remote)

    @contextmanager
    def _repo(self) -> Iterator[object]:
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

    def _remote(self, repo) -> tuple[str, object]:
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
        name = self.remote_name or repo.config["core"].get("remote")
        return name, odb

    @classmethod
    def for_remote(cls, remote: dict, cache_root: Optional[Path] = None) -> ModelStore:
        """A store outside any clone: a DVC repository of its own (no Git) whose only remote
        is `remote` (as `StoredFile.location` recorded it), in a folder under `cache_root`.

        What a deployment machine uses: its cache keeps each model fetched once. The
        remote's credentials come from the environment, as DVC reads them (AWS_*, ...).
        """
        import os

        from filelock import FileLock

        url = remote.get("url")
        if not url:
            raise StoreError("the model records no DVC remote to fetch it from; train it again")
        base = (
            cache_root
            or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wineq" / "dvc"
        )
        root = base / hashlib.sha256(json.dumps(remote, sort_keys=True).encode()).hexdigest()[:16]
        root.mkdir(parents=True, exist_ok=True)
        with FileLock(str(root) + ".lock", timeout=120):
            if not (root / ".dvc" / "config").is_file():
                lines = ["[core]", "    no_scm = True", "    remote = recorded"]
                lines += ["['remote \"recorded\"']", f"    url = {url}"]
                lines += [
                    f"    {key} = {value}" for key, value in remote.items() if key in _SPEC_KEYS[1:]
                ]
                (root / ".dvc" / "tmp").mkdir(parents=True, exist_ok=True)
                write_atomic(root / ".dvc" / "config", ("\n".join(lines) + "\n").encode())
        return cls(root)

    def bucket_filesystem(self, url: str):
        """An fsspec filesystem for the s3:// address `url`, holding the credentials of the
        DVC remote on the same bucket, else of the default remote when it is on S3; with
        neither, AWS's own chain (AWS_* variables, ~/.aws) decides.

        So a file in the team's bucket is read with exactly what `dvc pull` uses.
        """
        from dvc.exceptions import DvcException
        from dvc.repo import Repo

        bucket = url.removeprefix("s3://").split("/", 1)[0]
        try:
            repo = Repo(str(self.root))
        except DvcException:
            repo = None
        try:
            if repo is not None:
                remotes = {
                    name: config
                    for name, config in repo.config["remote"].items()
                    if str(config.get("url", "")).startswith("s3://")
                }
                same = [n for n, c in remotes.items() if c["url"][5:].split("/")[0] == bucket]
                default = self.remote_name or repo.config["core"].get("remote")
                # another bucket on the team's own endpoint (MinIO, ...) shares its keys;
                # a non-default remote's keys never go to a bucket it does not name
                chosen = next(iter(same), default if default in remotes else None)
                if chosen is not None:
                    try:
                        return repo.cloud.get_remote(chosen).fs.fs
                    except DvcException as exc:
                        raise StoreError(f"DVC remote {chosen}: {exc}") from exc
        finally:
            if repo is not None:
                repo.close()
        try:
            import s3fs
        except ImportError:
            raise StoreError(
                f"{url}: reading s3:// needs s3fs; `pip install 'wineq[s3]'`"
            ) from None
        return s3fs.S3FileSystem()

    @staticmethod
    def _location(repo, name: str) -> dict:
        """The remote as a model records it: name, URL and the settings needed to reach it
        again (endpoint, region), never credentials."""
        config = repo.config["remote"].get(name, {})
        spec = {"name": name, "url": without_credentials(str(config.get("url", "")))}
        spec.update({key: str(config[key]) for key in _SPEC_KEYS[1:] if key in config})
        return spec

    @classmethod
    def _describe(cls, repo, name: str) -> str:
        """The remote as `name (url)`, without credentials."""
        return f"{name} ({cls._location(repo, name)['url']})"

    # ------------------------------------------------------------- data

    def save_data(self, content: bytes) -> StoredFile:
        """Write the combined CSV, track the data folder (data.dvc) and push it to the remote."""
        from dvc.exceptions import DvcException

        pointer = self.root / f"{DATA_DIR}.dvc"
        before = pointer.read_bytes() if pointer.is_file() else None
        with self._repo() as repo:
            write_atomic(self.root / DATA_FILE, content)
            try:
                stage = repo.add(str(self.root / DATA_DIR))[0]
            except DvcException as exc:
                raise StoreError(f"dvc add {DATA_DIR} failed: {exc}") from exc
            md5 = stage.outs[0].hash_info.value
            name, _ = self._remote(repo)
            try:
                repo.push(targets=[str(self.root / f"{DATA_DIR}.dvc")], remote=name)
            except DvcException as exc:
                raise StoreError(
                    f"data is tracked in data.dvc but the push to DVC remote {name!r} failed "
                    f"({exc}); fix the remote, then run `dvc push data.dvc`"
                ) from exc
            described = self._describe(repo, name)
        changed = pointer.read_bytes() != before
        return StoredFile(f"{DATA_DIR}.dvc", md5, described, changed)

    def pull_data(self) -> StoredFile:
        """Make the workspace data match data.dvc (cache, else remote): its md5 and remote."""
        from dvc.exceptions import DvcException

        target = str(self.root / f"{DATA_DIR}.dvc")
        if not Path(target).is_file():
            raise DataError("data.dvc is missing; run `wineq data import` to create the data set")
        with self._repo() as repo:
            try:
                (stage,) = repo.stage.collect(target)
            except (DvcException, ValueError) as exc:
                raise DataError(f"data.dvc is not a valid DVC file: {exc}") from exc
            md5 = stage.outs[0].hash_info.value
            name = self.remote_name or repo.config["core"].get("remote")
            found = StoredFile(f"{DATA_DIR}.dvc", md5, self._describe(repo, name) if name else "")
            # A cache copy that fails its md5 is dropped (before DVC looks, which would drop
            # it silently), so the pull fetches the remote's; a work-tree file holding the
            # same damaged bytes was checked out from it, and goes too. An edit stays.
            workspace = self.root / DATA_FILE
            damaged = self._drop_damaged_data_copy(repo, md5, workspace)
            if damaged is not None and _md5_of(workspace) == damaged:
                workspace.unlink()
            status = repo.status(targets=[target])
            if not status:
                return found
            changed = any(
                "modified" in str(entry) for changes in status.values() for entry in changes
            )
            if changed and workspace.exists():
                raise DataError(
                    f"{DATA_FILE} differs from the version in data.dvc; run `dvc checkout "
                    "data.dvc` to restore it, or `dvc add data` and commit data.dvc to make "
                    "it the new version"
                )
            try:
                repo.pull(targets=[target], remote=self.remote_name)
            except DvcException as exc:
                raise DataError(
                    (
                        f"the DVC cache's copy of {DATA_FILE} was damaged (md5 {damaged}) and "
                        "the remote has no intact one"
                        if damaged
                        else f"the data of data.dvc (md5 {md5}) is neither in the DVC cache "
                        "nor in the remote"
                    )
                    + "; run `wineq data import` to build and push it"
                ) from exc
        if not (self.root / DATA_FILE).is_file():
            raise DataError(f"{DATA_FILE} is missing after the pull; run `wineq data import`")
        return found

    @staticmethod
    def _drop_damaged_data_copy(repo, dir_md5: str, workspace: Path) -> Optional[str]:
        """Drop the cache's copy of the data file if its bytes fail their md5; the md5 they
        had, or None when the copy is intact or absent, or is the work tree's file itself
        (a hardlink or symlink cache: an edit there is somebody's, never dropped)."""
        cache = repo.cache.local
        try:
            manifest = json.loads(Path(cache.oid_to_path(dir_md5)).read_text())
            entry = next(e for e in manifest if e.get("relpath") == Path(DATA_FILE).name)
        except (OSError, ValueError, StopIteration):
            return None  # no manifest in the cache: the pull fetches everything
        copy = Path(cache.oid_to_path(entry["md5"]))
        try:
            if workspace.is_symlink() or (
                workspace.exists() and copy.exists() and os.path.samefile(workspace, copy)
            ):
                return None
        except OSError:
            return None
        actual = _md5_of(copy)
        if actual is None or actual == entry["md5"]:
            return None
        copy.unlink(missing_ok=True)
        return actual

    @contextmanager
    def open_data(self) -> Iterator[object]:
        """The combined CSV as a text stream, read through DVC's API."""
        import dvc.api

        with dvc.api.open(DATA_FILE, repo=str(self.root), encoding="utf-8") as handle:
            yield handle

    # ------------------------------------------------------------- models

    def save_model(self, relpath: str, content: bytes) -> StoredFile:
        """Write a model file atomically, put exactly its bytes in the DVC cache and push them.

        Writing, caching and pushing happen under one lock, so with several trainers in
        one work tree the md5 returned is always that of `content`. No `.dvc` file is
        written: the run that made the model records its path and md5.
        """
        expected = hashlib.md5(content).hexdigest()
        with self._repo() as repo:
            name, _ = self._remote(repo)
            path = self.root / relpath
            _ignore_in_git(path)
            # wineq before 0.2 left a .dvc pointer here; DVC would take it for a stage
            # and call the model "modified" after every training. The run is the pointer.
            Path(f"{path}.dvc").unlink(missing_ok=True)
            write_atomic(path, content)
            cache = repo.cache.local
            cached = Path(cache.oid_to_path(expected))
            try:
                cache.add(str(path), cache.fs, expected)
                if _md5_of(cached) != expected:  # an altered copy was there already
                    cached.unlink()
                    cache.add(str(path), cache.fs, expected, check_exists=False)
                    if _md5_of(cached) != expected:
                        raise StoreError(
                            f"{relpath} changed while it was being cached (wrote {expected}); "
                            "train again"
                        )
            except OSError as exc:
                raise StoreError(
                    f"could not put {relpath} in the DVC cache {cache.path}: {why_not_written(exc)}"
                ) from exc
            with _transfer_errors() as reasons:
                try:
                    result = repo.cloud.push([_md5_info(expected)], remote=name)
                except Exception as exc:  # any failure to reach the remote (botocore, OS, ...)
                    raise StoreError(
                        f"could not push {relpath} (md5 {expected}) to DVC remote {name!r}: "
                        f"{_first_line(exc)}"
                    ) from exc
            if result.failed:
                why = reasons[0] if reasons else "is it reachable?"
                if "AccessDenied" in why or "Access Denied" in why:
                    why = "access denied: these storage credentials may not write there"
                raise StoreError(
                    f"could not push {relpath} (md5 {expected}) to DVC remote "
                    f"{self._describe(repo, name)}: {why}"
                )
            location = self._location(repo, name)
            return StoredFile(relpath, expected, f"{name} ({location['url']})", location=location)

    def in_remote(self, md5: str) -> bool:
        """Whether the remote holds the object with this md5."""

        with self._repo() as repo:
            name, odb = self._remote(repo)
            try:
                return bool(odb.exists(md5))
            except Exception as exc:  # any failure to reach the remote (botocore, aiohttp, OS)
                raise StoreError(
                    f"could not reach DVC remote {self._describe(repo, name)}: {_first_line(exc)}"
                ) from exc

    def fetch(self, path: str, md5: str) -> bytes:
        """Exactly the bytes recorded as `md5`: from the DVC cache, else from the remote.

        A cache copy whose bytes do not hash to `md5` is dropped and fetched again from the
        remote in the same call; only when the remote's copy is bad too is it an
        IntegrityError, which then says which copies are bad.
        """
        with self._repo() as repo:
            cache = repo.cache.local
            cached = Path(cache.oid_to_path(md5))
            actual = None
            if cache.exists(md5):
                content, actual = self._read_cached(cached, path)
                if actual == md5:
                    return content
                # The cache's copy is damaged (a flipped bit, a cut copy): the remote holds
                # the truth, so drop ours and fetch theirs before anything is refused.
                cached.unlink(missing_ok=True)
            try:
                self._pull_object(repo, path, md5)
                content, fetched = self._read_cached(cached, path)
                if fetched != md5:
                    cached.unlink(missing_ok=True)
                    raise IntegrityError(self._damaged_remote(repo, path, md5))
            except (IntegrityError, StoreError) as exc:
                if actual is None:
                    raise
                remote = self._describe(repo, self._name(repo))
                if isinstance(exc, IntegrityError):
                    why = f"the copy in DVC remote {remote} is damaged too"
                else:
                    why = f"it could not be fetched again ({exc})"
                raise IntegrityError(
                    f"{path}: the DVC cache's copy hashes to {actual}, not the recorded {md5}, "
                    f"and {why}; re-push it from a clone whose cache has it intact (`dvc push`)"
                ) from None
            return content

    def _damaged_remote(self, repo, path: str, md5: str) -> str:
        return (
            f"{path}: the copy in DVC remote {self._describe(repo, self._name(repo))} does not "
            f"hash to the recorded {md5}; the remote's object is damaged — re-push it from a "
            "clone whose cache has it intact (`dvc push`)"
        )

    def _name(self, repo) -> str:
        return self.remote_name or repo.config["core"].get("remote") or "(default)"

    def _pull_object(self, repo, path: str, md5: str) -> None:
        """Fetch one object from the remote into the cache; an IntegrityError when the
        remote's copy is damaged, else a StoreError saying why not."""
        name, odb = self._remote(repo)
        try:
            # Asked first: DVC drops an object that fails its hash on the way in without a
            # word (and from a folder remote, the object too), so afterwards nobody can tell
            # "never pushed" from "damaged".
            there = bool(odb.exists(md5))
            result = repo.cloud.pull([_md5_info(md5)], remote=name) if there else None
        except Exception as exc:  # any failure to reach the remote (botocore, aiohttp, OS)
            raise StoreError(
                f"could not fetch {path} (md5 {md5}) from DVC remote {name!r}: {_first_line(exc)}"
            ) from exc
        if not there:
            raise StoreError(
                f"{path} with md5 {md5} is neither in the DVC cache nor in remote "
                f"{name!r}; it was never pushed, or the remote is not the one it was "
                "pushed to"
            )
        if result.failed or not repo.cache.local.exists(md5):
            raise IntegrityError(self._damaged_remote(repo, path, md5))

    @staticmethod
    def _read_cached(cached: Path, path: str) -> tuple[bytes, str]:
        try:
            content = cached.read_bytes()
        except OSError as exc:
            raise StoreError(f"cannot read {path} from the DVC cache: {exc.strerror}") from exc
        return content, hashlib.md5(content).hexdigest()
