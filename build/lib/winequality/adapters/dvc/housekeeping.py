"""What is in the remote and whether it is intact, for `wineq gc` and `wineq check`: the
model objects wineq's vault holds, where each object has copies (cache, DVC's objects in
the remote, the vault), whether an object or a data version can still be read back with
its md5, and the removal of a model's every copy."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional

from winequality.adapters.dvc.repository import Repository
from winequality.adapters.dvc.vault import DATA, MODELS, Vault, read_object
from winequality.records import DAMAGED, MISSING, OK


class Housekeeping:
    """Listing, verifying and removing objects in one repository's cache and remote."""

    def __init__(self, repository: Repository):
        self.repository = repository

    @contextmanager
    def _open(self) -> Iterator[tuple[Any, Any, Vault]]:
        """The repository, the remote's object database and its vault; a StoreError when
        the remote cannot be reached."""
        with self.repository.open() as repo:
            name, odb = self.repository.remote(repo)
            with self.repository.reaching(repo, name):
                yield repo, odb, Vault.of(self.repository, repo)

    def kept_models(self) -> dict[str, tuple[int, float]]:
        """The vault's model objects: size in bytes and when each was written."""
        with self._open() as (_, _, vault):
            return vault.listing(MODELS)

    def copies(self, md5: str) -> tuple[tuple[str, ...], int]:
        """Where the model object `md5` has copies (cache, remote, vault) and its size."""
        with self._open() as (repo, odb, vault):
            where, size = [], 0
            for place, db in (
                ("cache", repo.cache.local),
                ("remote", odb),
                ("vault", vault.odb(MODELS)),
            ):
                if db.exists(md5):
                    where.append(place)
                    size = size or int(db.fs.size(db.oid_to_path(md5)))
            return tuple(where), size

    def remove_model(self, md5: str) -> None:
        """Delete every copy of the model object `md5`: vault, remote, cache."""
        with self._open() as (repo, odb, vault):
            for db in (vault.odb(MODELS), odb, repo.cache.local):
                if db.exists(md5):
                    db.delete(md5)

    def verify_model(self, md5: str) -> str:
        """ok when the remote (DVC's objects or the vault) has an intact copy of the model
        object, damaged when it has only bad ones, missing when it has none."""
        with self._open() as (_, odb, vault):
            return _state([odb, vault.odb(MODELS)], md5)[0]

    def verify_data(self, dir_md5: str) -> str:
        """The same for a data version: its manifest and every file it names."""
        with self._open() as (_, odb, vault):
            places = [odb, vault.odb(DATA)]
            state, manifest = _state(places, dir_md5)
            if manifest is None:
                return state
            files = [_state(places, entry["md5"])[0] for entry in json.loads(manifest)]
            return next((s for s in (DAMAGED, MISSING) if s in files), state)


def _state(places: list, oid: str) -> tuple[str, Optional[bytes]]:
    """ok and the bytes of the first copy that hashes to `oid`; else damaged (some copy,
    none intact) or missing (no copy)."""
    seen = False
    for odb in places:
        content = read_object(odb, oid)
        if content is None:
            continue
        seen = True
        if hashlib.md5(content).hexdigest() == oid.removesuffix(".dir"):
            return OK, content
    return (DAMAGED if seen else MISSING), None
