"""The data set: data/wine-quality.csv tracked by data.dvc, stored, pushed, pulled and
healed (a damaged cache copy is dropped before DVC looks)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

from winequality.adapters.dvc.repository import Repository, md5_of
from winequality.adapters.dvc.vault import Vault
from winequality.errors import DataError, StoreError
from winequality.io.atomic import write_atomic
from winequality.records import StoredFile
from winequality.settings import DATA_DIR, DATA_FILE


class Dataset:
    """The project's data set in DVC."""

    def __init__(self, repository: Repository):
        self.repository = repository

    def save_data(self, content: bytes) -> StoredFile:
        """Write the combined CSV, track the data folder (data.dvc) and push it to the remote."""
        from dvc.exceptions import DvcException

        pointer = self.repository.root / f"{DATA_DIR}.dvc"
        before = pointer.read_bytes() if pointer.is_file() else None
        with self.repository.open() as repo:
            write_atomic(self.repository.root / DATA_FILE, content)
            try:
                stage = repo.add(str(self.repository.root / DATA_DIR))[0]
            except DvcException as exc:
                raise StoreError(f"dvc add {DATA_DIR} failed: {exc}") from exc
            md5 = stage.outs[0].hash_info.value
            name, _ = self.repository.remote(repo)
            try:
                repo.push(targets=[str(self.repository.root / f"{DATA_DIR}.dvc")], remote=name)
            except DvcException as exc:
                raise StoreError(
                    f"data is tracked in data.dvc but the push to DVC remote {name!r} failed "
                    f"({exc}); fix the remote, then run `dvc push data.dvc`"
                ) from exc
            Vault.of(self.repository, repo).keep_version(md5)
            described = self.repository.describe(repo, name)
        changed = pointer.read_bytes() != before
        return StoredFile(f"{DATA_DIR}.dvc", md5, described, changed)

    def pull_data(self) -> StoredFile:
        """Make the workspace data match data.dvc (cache, else remote): its md5 and remote."""
        from dvc.exceptions import DvcException

        target = str(self.repository.root / f"{DATA_DIR}.dvc")
        if not Path(target).is_file():
            raise DataError("data.dvc is missing; run `wineq data import` to create the data set")
        with self.repository.open() as repo:
            try:
                (stage,) = repo.stage.collect(target)
            except (DvcException, ValueError) as exc:
                raise DataError(f"data.dvc is not a valid DVC file: {exc}") from exc
            md5 = stage.outs[0].hash_info.value
            name = self.repository.default_remote(repo)
            found = StoredFile(
                f"{DATA_DIR}.dvc", md5, self.repository.describe(repo, name) if name else ""
            )
            # A cache copy that fails its md5 is dropped (before DVC looks, which would drop
            # it silently), so the pull fetches the remote's; a work-tree file holding the
            # same damaged bytes was checked out from it, and goes too. An edit stays.
            workspace = self.repository.root / DATA_FILE
            damaged = self._drop_damaged_data_copy(repo, md5, workspace)
            if damaged is not None and md5_of(workspace) == damaged:
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
                try:
                    repo.pull(targets=[target], remote=self.repository.remote_name)
                except DvcException:
                    # gone from DVC's side of the remote (a `dvc gc -c` elsewhere): the vault's
                    if not (name and Vault.of(self.repository, repo).restore_version(md5)):
                        raise
                    repo.checkout(targets=[target])
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
        if not (self.repository.root / DATA_FILE).is_file():
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
        actual = md5_of(copy)
        if actual is None or actual == entry["md5"]:
            return None
        copy.unlink(missing_ok=True)
        return actual

    @contextmanager
    def open_data(self) -> Iterator[object]:
        """The combined CSV as a text stream, read through DVC's API."""
        import dvc.api

        with dvc.api.open(DATA_FILE, repo=str(self.repository.root), encoding="utf-8") as handle:
            yield handle
