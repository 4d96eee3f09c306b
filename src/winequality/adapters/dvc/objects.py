"""Model bytes as DVC objects by md5: written, cached and pushed without a .dvc file (the
run that made a model is its pointer), and fetched back exactly, a damaged copy healed from
the other."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional

from winequality.adapters.dvc.repository import Repository, md5_info, md5_of, transfer_errors
from winequality.adapters.dvc.vault import MODELS, Vault
from winequality.errors import IntegrityError, MissingObject, StoreError, first_line
from winequality.io.atomic import why_not_written, write_atomic
from winequality.records import StoredFile


def _ignore_in_git(path: Path) -> None:
    """Make sure Git ignores `path` (through its folder's .gitignore, as `dvc add` would)."""
    ignore = path.parent / ".gitignore"
    rule = f"/{path.name}"
    lines = ignore.read_text().splitlines() if ignore.is_file() else []
    if rule not in lines:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(ignore, "\n".join([*lines, rule]).encode() + b"\n")


class ModelObjects:
    """Model files in the DVC cache and remote of one repository."""

    def __init__(self, repository: Repository):
        self.repository = repository

    def save_model(self, relpath: str, content: bytes) -> StoredFile:
        """Write a model file atomically, put exactly its bytes in the DVC cache and push them.

        Writing, caching and pushing happen under one lock, so with several trainers in
        one work tree the md5 returned is always that of `content`. No `.dvc` file is
        written: the run that made the model records its path and md5.
        """
        expected = hashlib.md5(content).hexdigest()
        with self.repository.open() as repo:
            name, _ = self.repository.remote(repo)
            path = self.repository.root / relpath
            _ignore_in_git(path)
            # a .dvc pointer here would make DVC take the model for a stage and call it
            # "modified" after every training; the run is the pointer
            Path(f"{path}.dvc").unlink(missing_ok=True)
            write_atomic(path, content)
            cache = repo.cache.local
            cached = Path(cache.oid_to_path(expected))
            try:
                cache.add(str(path), cache.fs, expected)
                if md5_of(cached) != expected:  # an altered copy was there already
                    cached.unlink()
                    cache.add(str(path), cache.fs, expected, check_exists=False)
                    if md5_of(cached) != expected:
                        raise StoreError(
                            f"{relpath} changed while it was being cached (wrote {expected}); "
                            "train again"
                        )
            except OSError as exc:
                raise StoreError(
                    f"could not put {relpath} in the DVC cache {cache.path}: {why_not_written(exc)}"
                ) from exc
            self._push(repo, name, relpath, expected)
            Vault.of(self.repository, repo).keep(MODELS, [expected])
            location = self.repository.location(repo, name)
            return StoredFile(relpath, expected, f"{name} ({location['url']})", location=location)

    def _push(self, repo, name: str, relpath: str, md5: str) -> None:
        """Push the cached object `md5` to the remote; a StoreError saying why not."""
        with transfer_errors() as reasons:
            try:
                result = repo.cloud.push([md5_info(md5)], remote=name)
            except Exception as exc:  # any failure to reach the remote (botocore, OS, ...)
                raise StoreError(
                    f"could not push {relpath} (md5 {md5}) to DVC remote {name!r}: "
                    f"{first_line(exc)}"
                ) from exc
        if result.failed:
            why = reasons[0] if reasons else "is it reachable?"
            if "AccessDenied" in why or "Access Denied" in why:
                why = "access denied: these storage credentials may not write there"
            raise StoreError(
                f"could not push {relpath} (md5 {md5}) to DVC remote "
                f"{self.repository.describe(repo, name)}: {why}"
            )

    def secure(self, relpath: str, md5: str) -> None:
        """Put the model object `md5` back where it belongs, DVC's objects in the remote and
        the vault, from whichever copy is intact (cache, remote, vault)."""
        self.fetch(relpath, md5)
        with self.repository.open() as repo:
            name, _ = self.repository.remote(repo)
            self._push(repo, name, relpath, md5)
            Vault.of(self.repository, repo).keep(MODELS, [md5])

    def in_remote(self, md5: str) -> bool:
        """Whether the remote holds the object with this md5 (DVC's copy or the vault's)."""

        with self.repository.open() as repo:
            name, odb = self.repository.remote(repo)
            try:
                return bool(odb.exists(md5)) or Vault.of(self.repository, repo).has(MODELS, md5)
            except Exception as exc:  # any failure to reach the remote (botocore, aiohttp, OS)
                raise StoreError(
                    f"could not reach DVC remote {self.repository.describe(repo, name)}: {first_line(exc)}"
                ) from exc

    def fetch(self, path: str, md5: str) -> bytes:
        """Exactly the bytes recorded as `md5`: from the DVC cache, else from the remote.

        A cache copy whose bytes do not hash to `md5` is dropped and fetched again from the
        remote in the same call; only when the remote's copy is bad too is it an
        IntegrityError, which then says which copies are bad.
        """
        intact = self._intact_in_default_cache(md5)
        if intact is not None:  # the common case, without importing DVC (a second)
            return intact
        with self.repository.open() as repo:
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
                if fetched != md5:  # a remote that let a damaged copy through (S3 does)
                    cached.unlink(missing_ok=True)
                    if Vault.of(self.repository, repo).restore(MODELS, md5):
                        content, fetched = self._read_cached(cached, path)
                if fetched != md5:
                    cached.unlink(missing_ok=True)
                    raise IntegrityError(self._damaged_remote(repo, path, md5))
            except (IntegrityError, StoreError) as exc:
                if actual is None:
                    raise
                remote = self.repository.describe(repo, self.repository.name(repo))
                if isinstance(exc, IntegrityError):
                    why = f"the copy in DVC remote {remote} is damaged too"
                else:
                    why = f"it could not be fetched again ({exc})"
                raise IntegrityError(
                    f"{path}: the DVC cache's copy hashes to {actual}, not the recorded {md5}, "
                    f"and {why}; re-push it from a clone whose cache has it intact (`dvc push`)"
                ) from None
            return content

    def _intact_in_default_cache(self, md5: str) -> Optional[bytes]:
        """The bytes of `md5` where DVC keeps them by default (`.dvc/cache/files/md5/`) when
        they hash to `md5`; else None, and DVC itself looks (another cache.dir) and heals.
        Bytes that hash to `md5` are the right ones wherever they lie."""
        cached = self.repository.root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
        try:
            content = cached.read_bytes()
        except OSError:
            return None
        return content if hashlib.md5(content).hexdigest() == md5 else None

    def _damaged_remote(self, repo, path: str, md5: str) -> str:
        return (
            f"{path}: the copy in DVC remote {self.repository.describe(repo, self.repository.name(repo))} does not "
            f"hash to the recorded {md5}; the remote's object is damaged — re-push it from a "
            "clone whose cache has it intact (`dvc push`)"
        )

    def _pull_object(self, repo, path: str, md5: str) -> None:
        """Fetch one object from the remote into the cache: DVC's copy, else (gone after a
        `dvc gc -c`, or damaged) the vault's; a MissingObject when neither is there, an
        IntegrityError when what is there is damaged, else a StoreError saying why not."""
        name, odb = self.repository.remote(repo)
        try:
            # Asked first: DVC drops an object that fails its hash on the way in without a
            # word (and from a folder remote, the object too), so afterwards nobody can tell
            # "never pushed" from "damaged".
            there = bool(odb.exists(md5))
            failed = there and bool(repo.cloud.pull([md5_info(md5)], remote=name).failed)
            if there and not failed and repo.cache.local.exists(md5):
                return
            if Vault.of(self.repository, repo).restore(MODELS, md5):
                return
        except StoreError:
            raise
        except Exception as exc:  # any failure to reach the remote (botocore, aiohttp, OS)
            raise StoreError(
                f"could not fetch {path} (md5 {md5}) from DVC remote {name!r}: {first_line(exc)}"
            ) from exc
        if not there:
            raise MissingObject(
                f"{path} with md5 {md5} is neither in the DVC cache nor in remote "
                f"{name!r} (nor in wineq's vault there); it was never pushed, or the remote "
                "is not the one it was pushed to",
                md5,
                self.repository.describe(repo, name),
            )
        raise IntegrityError(self._damaged_remote(repo, path, md5))

    @staticmethod
    def _read_cached(cached: Path, path: str) -> tuple[bytes, str]:
        try:
            content = cached.read_bytes()
        except OSError as exc:
            raise StoreError(f"cannot read {path} from the DVC cache: {exc.strerror}") from exc
        return content, hashlib.md5(content).hexdigest()
