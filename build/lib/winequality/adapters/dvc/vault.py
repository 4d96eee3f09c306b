"""wineq's vault: a second copy, in the same DVC remote, of every model and data version
wineq pushes, under `wineq-vault/models/` and `wineq-vault/data/` beside DVC's own
`files/md5/`.

`dvc gc -c` deletes from the remote every object that the clone it runs in does not
reference (the work tree's `.dvc` files, or its branches' and tags'), and it cannot know
the models a run or a registered version points at, nor the data versions of another
clone's newer commits. It only looks at DVC's object folders: `files/md5/ab/cdef…` and,
for DVC 2's objects, `ab/cdef…` at the remote's root; a path three folders deep is not an
object to it. The vault's copies are there, content-addressed the same way, so after any
`dvc gc` wineq still finds every object by md5 and puts it back into the cache. Only
`wineq gc` deletes from the vault, and only models that no live run and no registered
version references.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Optional

from winequality.errors import StoreError, first_line

VAULT_DIR = "wineq-vault"
MODELS, DATA = "models", "data"


class Vault:
    """The vault of one remote, reached through an open DVC repository."""

    def __init__(self, repo, remote_name: str, where: str):
        from dvc_data.hashfile.db import get_odb

        remote = repo.cloud.get_remote(remote_name, "push")
        self.cache = repo.cache.local
        self.where = where  # the remote as messages name it
        self._odbs = {
            kind: get_odb(remote.fs, remote.fs.join(remote.path, VAULT_DIR, kind), **remote.config)
            for kind in (MODELS, DATA)
        }

    @classmethod
    def of(cls, repository, repo) -> Vault:
        """The vault of the remote `repository` (a Repository) uses in the open `repo`."""
        name, _ = repository.remote(repo)
        return cls(repo, name, repository.describe(repo, name))

    def odb(self, kind: str) -> Any:
        return self._odbs[kind]

    def has(self, kind: str, oid: str) -> bool:
        return bool(self._odbs[kind].exists(oid))

    def keep(self, kind: str, oids: list[str]) -> None:
        """Copy these objects from the DVC cache into the vault (those not there yet)."""
        odb = self._odbs[kind]
        try:
            odb.add([self.cache.oid_to_path(oid) for oid in oids], self.cache.fs, oids)
        except Exception as exc:  # any failure to reach the remote (botocore, OS, ...)
            raise StoreError(
                f"could not copy {len(oids)} object(s) to wineq's vault in DVC remote {self.where}: "
                f"{first_line(exc)}"
            ) from exc

    def restore(self, kind: str, oid: str) -> bool:
        """Copy the object `oid` from the vault into the DVC cache; whether the vault had an
        intact copy (a damaged one is not copied)."""
        try:
            content = read_object(self._odbs[kind], oid)
        except Exception as exc:  # any failure to reach the remote (botocore, aiohttp, OS)
            raise StoreError(
                f"could not read wineq's vault in DVC remote {self.where}: {first_line(exc)}"
            ) from exc
        if content is None or hashlib.md5(content).hexdigest() != oid.removesuffix(".dir"):
            return False  # absent, or damaged: not copied, so nothing downstream trusts it
        self.cache.add_bytes(oid, content)
        return True

    def keep_version(self, dir_md5: str) -> None:
        """Keep a data version: its files, then its manifest (so a vault that holds the
        manifest holds every file it names)."""
        self.keep(DATA, version_objects(self.cache, dir_md5)[:-1])
        self.keep(DATA, [dir_md5])

    def restore_version(self, dir_md5: str) -> bool:
        """Put a data version back into the DVC cache from the vault; whether it could."""
        if not self.cache.exists(dir_md5) and not self.restore(DATA, dir_md5):
            return False
        return all(
            self.cache.exists(oid) or self.restore(DATA, oid)
            for oid in version_objects(self.cache, dir_md5)[:-1]
        )

    def listing(self, kind: str) -> dict[str, tuple[int, float]]:
        """Every object of `kind` in the vault: its size in bytes and when it was written
        (seconds since the epoch)."""
        odb = self._odbs[kind]
        found = {}
        try:
            for oid in odb.all():
                info = odb.fs.info(odb.oid_to_path(oid))
                found[oid] = (int(info.get("size") or 0), _modified(info))
        except FileNotFoundError:
            pass
        return found


def read_object(odb, oid: str) -> Optional[bytes]:
    """The bytes of object `oid` in an object database (a remote's, the vault's), or None
    when it has none."""
    try:
        return odb.fs.cat_file(odb.oid_to_path(oid))
    except FileNotFoundError:
        return None


def _modified(info: dict) -> float:
    """When a file was written, from an fsspec `info` (a folder's or a bucket's)."""
    stamp = info.get("mtime") or info.get("LastModified") or info.get("created") or 0
    return float(stamp.timestamp()) if hasattr(stamp, "timestamp") else float(stamp)


def version_objects(cache, dir_md5: str) -> list[str]:
    """The md5s of a data version: its files', then its manifest's (so a remote that holds
    the manifest holds every file it names)."""
    manifest = json.loads(Path(cache.oid_to_path(dir_md5)).read_text())
    return [entry["md5"] for entry in manifest] + [dir_md5]
