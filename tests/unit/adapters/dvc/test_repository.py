"""The project's DVC repository and its remote (adapters/dvc/repository.py, through the
ModelStore facade): a missing remote or repository is one line saying what to do."""

from __future__ import annotations

import pytest

from tests.support.stores import MODEL_BYTES, MODEL_PATH
from winequality.errors import StoreError

NO_REMOTE = (
    "no DVC remote is configured; run `make setup`, or `dvc remote add -d storage <url>` "
    "(a folder or s3://bucket/path)"
)


@pytest.fixture
def without_remote(dvc):
    """The test's repository with no remote configured at all."""
    (dvc.root / ".dvc" / "config").write_text("[core]\n    analytics = false\n")
    return dvc


def test_without_a_remote_every_transfer_says_how_to_add_one(store, without_remote):
    dvc = without_remote
    dvc.cache_object().unlink()  # so that a fetch needs the remote
    for attempt in (
        lambda: store.save_model("models/new.pt", b"new"),
        lambda: store.in_remote(dvc.md5),
        lambda: store.fetch(MODEL_PATH, dvc.md5),
    ):
        with pytest.raises(StoreError) as refused:
            attempt()
        assert str(refused.value) == NO_REMOTE
    assert not (dvc.root / "models" / "new.pt").exists()  # refused before anything is written


def test_a_cached_model_is_fetched_without_a_remote(store, without_remote):
    assert store.fetch(MODEL_PATH, without_remote.md5) == MODEL_BYTES


def test_a_remote_named_in_settings_that_does_not_exist_is_named(dvc):
    from winequality.adapters.dvc import ModelStore

    with pytest.raises(StoreError, match="^DVC remote nowhere: "):
        ModelStore(dvc.root, remote="nowhere").in_remote(dvc.md5)


def test_a_folder_that_is_no_dvc_repository_is_one_line(tmp_path):
    from winequality.adapters.dvc import ModelStore

    (tmp_path / ".dvc").mkdir()  # as a half-made repository
    (tmp_path / ".dvc" / "config").write_text("[core\n")
    with pytest.raises(StoreError, match=f"^{tmp_path} is not a usable DVC repository: "):
        ModelStore(tmp_path).in_remote("0" * 32)
