"""Data versions in the remote before anything points at them: a new version of
data/wine-quality.csv is cached and pushed while data.dvc still names the old one, and a
version that only this clone has is pushed before a run trains on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import yaml

from winequality.adapters.dvc.repository import Repository, md5_info, transfer_errors
from winequality.adapters.dvc.vault import DATA, Vault, version_objects
from winequality.errors import MissingObject, StoreError, first_line
from winequality.io.atomic import write_atomic
from winequality.records import StoredFile
from winequality.settings import DATA_DIR, DATA_FILE


def with_meta(pointer: bytes, meta: dict[str, Any]) -> bytes:
    """data.dvc's text with `meta` (DVC's field for what people want to know of a version)."""
    document = yaml.safe_load(pointer)
    document["meta"] = meta
    return yaml.safe_dump(document, sort_keys=False).encode()


class DataVersions:
    """New versions of the data set, pushed before data.dvc names them."""

    def __init__(self, repository: Repository):
        self.repository = repository

    def add(self, content: bytes, meta: dict[str, Any]) -> StoredFile:
        """Make `content` the data set's new version: cached, pushed, then named by data.dvc
        (with `meta`). On any failure the data file and data.dvc are as they were."""
        from dvc.exceptions import DvcException

        root = self.repository.root
        pointer, data = root / f"{DATA_DIR}.dvc", root / DATA_FILE
        old_pointer, old_data = pointer.read_bytes(), data.read_bytes()
        with self.repository.open() as repo:
            name, _ = self.repository.remote(repo)
            try:
                write_atomic(data, content)
                try:
                    stage = repo.add(str(root / DATA_DIR))[0]
                except DvcException as exc:
                    raise StoreError(f"dvc add {DATA_DIR} failed: {exc}") from exc
                new_pointer = pointer.read_bytes()
                write_atomic(pointer, old_pointer)  # nothing names it until it is pushed
                md5 = stage.outs[0].hash_info.value
                self._push(repo, name, md5)
            except BaseException:
                write_atomic(data, old_data)
                write_atomic(pointer, old_pointer)
                raise
            write_atomic(pointer, with_meta(new_pointer, meta))
            described = self.repository.describe(repo, name)
        return StoredFile(f"{DATA_DIR}.dvc", md5, described, True)

    def ensure_pushed(self, md5: str) -> Optional[str]:
        """Push the data version `md5` (in this clone's cache) if the remote or the vault
        lacks any of its objects; the remote as named in messages when it pushed, else None."""
        with self.repository.open() as repo:
            name, odb = self.repository.remote(repo)
            try:
                objects = version_objects(repo.cache.local, md5)
                missing = [oid for oid in objects if not odb.exists(oid)]
                if not Vault.of(self.repository, repo).has(DATA, md5):
                    missing.append(md5)
            except OSError:
                return None  # not in this cache: the pull that follows says what is wrong
            except Exception as exc:  # any failure to reach the remote (botocore, OS, ...)
                raise StoreError(
                    f"could not reach DVC remote {self.repository.describe(repo, name)}: "
                    f"{first_line(exc)}"
                ) from exc
            if not missing:
                return None
            self._push(repo, name, md5)
            return self.repository.describe(repo, name)

    def fetch(self, md5: str) -> bytes:
        """The data file of version `md5`, exactly: from the cache, else from the remote."""
        import hashlib

        with self.repository.open() as repo:
            name, _ = self.repository.remote(repo)
            cache = repo.cache.local
            try:
                if not cache.exists(md5):
                    repo.cloud.pull([md5_info(md5)], remote=name)
                if not cache.exists(md5):  # gone from DVC's side (dvc gc -c): the vault's
                    Vault.of(self.repository, repo).restore_version(md5)
                file_md5 = version_objects(cache, md5)[0]
                if not cache.exists(file_md5):
                    repo.cloud.pull([md5_info(file_md5)], remote=name)
                if not cache.exists(file_md5):
                    Vault.of(self.repository, repo).restore_version(md5)
                content = Path(cache.oid_to_path(file_md5)).read_bytes()
            except StoreError:
                raise
            except (OSError, ValueError, IndexError) as exc:
                where = self.repository.describe(repo, name)
                raise MissingObject(
                    f"the data version {md5} is neither in the DVC cache nor in remote "
                    f"{where} (nor in wineq's vault there); push it from the clone that "
                    "has it (`dvc push data.dvc` there)",
                    md5,
                    where,
                ) from exc
            except Exception as exc:  # any failure to reach the remote (botocore, OS, ...)
                raise StoreError(
                    f"could not fetch the data version {md5} from DVC remote "
                    f"{self.repository.describe(repo, name)}: {first_line(exc)}"
                ) from exc
        if hashlib.md5(content).hexdigest() != file_md5:
            raise StoreError(f"the data version {md5}'s file does not hash to {file_md5}")
        return content

    def _push(self, repo, name: str, md5: str) -> None:
        """Push a data version's objects, its files first; a StoreError saying why not."""
        where = self.repository.describe(repo, name)
        with transfer_errors() as reasons:
            with self.repository.reaching(repo, name, f"could not push the data version {md5} to"):
                for oid in version_objects(repo.cache.local, md5):
                    result = repo.cloud.push([md5_info(oid)], remote=name)
                    if result.failed:
                        raise StoreError(
                            f"could not push the data version {md5} to DVC remote {where}: "
                            f"{reasons[0] if reasons else 'is it reachable?'}"
                        )
                Vault.of(self.repository, repo).keep_version(md5)
