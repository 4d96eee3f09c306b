"""ModelStore: wineq's front to DVC, through its Python API and repo commands.

Bytes live in DVC (workspace, local cache, remote); callers only ever hold a path and an
md5. The data set is tracked the usual way (`data.dvc`, committed to Git). A model is not:
each training run puts its bytes in the DVC cache and remote by md5, and the run's MLflow
record (lineage tags and its `model/model.pt.dvc` artifact) is the pointer. The work
tree's `models/model.pt` is only the newest model, ignored by Git and unknown to
`dvc status`, so neither tool asks a user to commit anything after `wineq train`.

A thin facade forwarding to the repository and its remotes, the dataset, the model
objects, the deployment cache and the credentials for users' bucket files.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Optional, cast

from winequality.adapters.dvc.dataset import Dataset
from winequality.adapters.dvc.housekeeping import Housekeeping
from winequality.adapters.dvc.objects import ModelObjects
from winequality.adapters.dvc.repository import Repository
from winequality.adapters.dvc.versions import DataVersions
from winequality.errors import ConfigError, IntegrityError, StoreError
from winequality.records import StoredFile


class ModelStore:
    """Data and model bytes in a DVC repository and its remote."""

    def __init__(self, root: Path, remote: Optional[str] = None, lock_timeout: float = 300.0):
        self.repository = Repository(root, remote, lock_timeout)
        self.dataset = Dataset(self.repository)
        self.objects = ModelObjects(self.repository)
        self.versions = DataVersions(self.repository)
        self.housekeeping = Housekeeping(self.repository)

    @classmethod
    def from_settings(cls, settings) -> ModelStore:
        """The store of `settings`' project and DVC remote."""
        return cls(settings.project_dir, settings.dvc_remote)

    @classmethod
    def for_remote(cls, remote: dict, cache_root: Optional[Path] = None) -> ModelStore:
        """A store outside any clone whose only remote is `remote` (as `StoredFile.location`
        recorded it): what a deployment machine uses. Credentials come from the environment,
        as DVC reads them (AWS_*, ...)."""
        from winequality.adapters.dvc.deployment import deployment_root

        return cls(deployment_root(remote, cache_root))

    @property
    def root(self) -> Path:
        return self.repository.root

    @property
    def remote_name(self) -> Optional[str]:
        return self.repository.remote_name

    def bucket_filesystem(self, url: str):
        """An fsspec filesystem for the s3:// address `url`, with the credentials `dvc pull`
        would use on that bucket (see buckets.py)."""
        from winequality.adapters.dvc.buckets import bucket_filesystem

        return bucket_filesystem(self.repository, url)

    # ------------------------------------------------------------- data

    def save_data(self, content: bytes) -> StoredFile:
        return self.dataset.save_data(content)

    def pull_data(self) -> StoredFile:
        return self.dataset.pull_data()

    def add_data_version(self, content: bytes, meta: dict) -> StoredFile:
        return self.versions.add(content, meta)

    def ensure_data_pushed(self, md5: str) -> Optional[str]:
        return self.versions.ensure_pushed(md5)

    def fetch_data_version(self, md5: str) -> bytes:
        return self.versions.fetch(md5)

    @contextmanager
    def open_data(self) -> Iterator[object]:
        with self.dataset.open_data() as handle:
            yield handle

    # ------------------------------------------------------------- models

    def save_model(self, relpath: str, content: bytes) -> StoredFile:
        return self.objects.save_model(relpath, content)

    def in_remote(self, md5: str) -> bool:
        return self.objects.in_remote(md5)

    def fetch(self, path: str, md5: str, location: Optional[dict] = None) -> bytes:
        """Exactly the bytes `md5`, from this clone's cache or remote (`location`, where
        the run recorded pushing them, is for stores outside a clone)."""
        return self.objects.fetch(path, md5)

    # ------------------------------------------------------------- housekeeping

    def kept_models(self) -> dict[str, tuple[int, float]]:
        return self.housekeeping.kept_models()

    def model_copies(self, md5: str) -> tuple[tuple[str, ...], int]:
        return self.housekeeping.copies(md5)

    def remove_model(self, md5: str) -> None:
        self.housekeeping.remove_model(md5)

    def verify_model(self, md5: str) -> str:
        return self.housekeeping.verify_model(md5)

    def verify_data(self, md5: str) -> str:
        return self.housekeeping.verify_data(md5)

    def secure_model(self, md5: str) -> None:
        from winequality.settings import MODEL_FILE

        self.objects.secure(MODEL_FILE, md5)

    def secure_data(self, md5: str) -> None:
        self.versions.fetch(md5)  # into the cache, from whichever copy is intact
        self.versions.ensure_pushed(md5)


class RecordedRemotes:
    """The store outside any clone: each model's bytes (and the data versions its run
    trained on) fetched by md5 from the DVC remote its run recorded, into the user's cache
    (`deployment_root`), hash-checked as in a clone. What `wineq infer`, `show`, `runs`
    and `compare` use on a machine with the package and the tracking URI only."""

    outside_a_clone = True

    def __init__(self, cache_root: Optional[Path] = None):
        self.cache_root = cache_root
        self._locations: list[dict] = []  # the remotes met so far, for data versions

    def _store(self, location: dict) -> ModelStore:
        return ModelStore.for_remote(location, self.cache_root)

    def remember(self, location: dict) -> None:
        """A remote a run recorded: where its data versions are looked for too."""
        if location not in self._locations:
            self._locations.append(location)

    def fetch(self, path: str, md5: str, location: Optional[dict] = None) -> bytes:
        if not location:
            raise StoreError(
                f"{path} (md5 {md5}): its run recorded no DVC remote to fetch it from "
                "outside a clone; run wineq inside a clone of the project"
            )
        self.remember(location)
        return self._store(location).fetch(path, md5)

    def fetch_data_version(self, md5: str) -> bytes:
        """A data version by md5, from the first remote met that has it."""
        problem: Optional[StoreError] = None
        for location in self._locations:
            try:
                return self._store(location).fetch_data_version(md5)
            except StoreError as exc:
                problem = problem or exc
        raise problem or StoreError(
            f"data version {md5[:8]}: no recorded DVC remote to fetch it from; run wineq "
            "inside a clone of the project"
        )

    def pull_data(self):
        raise ConfigError(
            "outside a clone there is no current data version: compare on a file of "
            "labelled wines with --data FILE, or run wineq inside a clone of the project"
        )

    def bucket_filesystem(self, url: str):
        """An s3:// input file's filesystem: AWS's own chain (AWS_* variables, ~/.aws)."""
        from winequality.adapters.dvc.buckets import aws_filesystem

        return aws_filesystem(url)


def store_for(settings) -> ModelStore:
    """The store of `settings`: the clone's DVC repository, or outside a clone the remotes
    the runs recorded (the same interface for what those commands use)."""
    if not settings.clone:
        return cast(ModelStore, RecordedRemotes())
    return ModelStore.from_settings(settings)


def fetch_recorded(md5: str, remote: dict, start: Optional[Path] = None) -> bytes:
    """Exactly the bytes recorded as `md5`, where no registry is asked (MLflow's loader):
    through the clone around `start` (default: the current folder) if it has them, else
    from the `remote` the model recorded (`StoredFile.location`)."""
    from winequality.settings import MODEL_FILE, find_project_root

    try:
        clone = ModelStore(find_project_root(start or Path.cwd()))
    except ConfigError:
        clone = None
    if clone is not None:
        try:
            return clone.fetch(MODEL_FILE, md5)
        except IntegrityError:
            raise
        except StoreError:
            pass  # not in this clone's cache or remote: the recorded remote has it
    return ModelStore.for_remote(remote).fetch(MODEL_FILE, md5)
