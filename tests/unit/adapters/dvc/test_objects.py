"""Model bytes as DVC objects (adapters/dvc/objects.py, through the ModelStore facade) in a
real repository with a folder remote: stored exactly, fetched exactly, a damaged copy
healed from the other, and one line when neither holds them."""

from __future__ import annotations

import hashlib

import pytest

from tests.support.project import damaged
from tests.support.stores import MODEL_BYTES, MODEL_PATH
from winequality.errors import IntegrityError, MissingObject

ABSENT = "0123456789abcdef0123456789abcdef"


def test_a_saved_model_is_in_the_cache_and_the_remote_byte_for_byte(store, dvc):
    content = b"another model\n"
    stored = store.save_model(MODEL_PATH, content)
    md5 = hashlib.md5(content).hexdigest()
    assert (stored.path, stored.md5) == (MODEL_PATH, md5)
    assert stored.location == {"name": "shared", "url": str(dvc.remote)}
    assert stored.remote == f"shared ({dvc.remote})"
    assert dvc.cache_object(md5).read_bytes() == content
    assert dvc.remote_object(md5).read_bytes() == content
    assert (dvc.root / MODEL_PATH).read_bytes() == content
    assert (dvc.root / "models" / ".gitignore").read_text() == "/model.pt\n"
    assert store.in_remote(md5) and store.in_remote(dvc.md5) and not store.in_remote(ABSENT)
    assert store.fetch(MODEL_PATH, md5) == content


def test_an_md5_in_neither_cache_nor_remote_is_a_missing_object(store):
    with pytest.raises(MissingObject) as missing:
        store.fetch(MODEL_PATH, ABSENT)
    assert missing.value.md5 == ABSENT and missing.value.exit_code == 4
    assert str(missing.value) == (
        f"{MODEL_PATH} with md5 {ABSENT} is neither in the DVC cache nor in remote 'shared' "
        "(nor in wineq's vault there); it was never pushed, or the remote is not the one it "
        "was pushed to"
    )


def test_a_saved_model_is_kept_in_the_vault_where_dvc_gc_does_not_look(store, dvc):
    content = b"a model dvc gc -c would delete\n"
    md5 = store.save_model(MODEL_PATH, content).md5
    assert dvc.vault_object(md5).read_bytes() == content
    dvc.cache_object(md5).unlink()
    dvc.remote_object(md5).unlink()  # what `dvc gc -w -c -f` does to it
    assert store.in_remote(md5)
    assert store.fetch(MODEL_PATH, md5) == content
    assert dvc.cache_object(md5).read_bytes() == content


def test_a_model_only_in_the_remote_is_fetched_into_the_cache(store, dvc):
    dvc.cache_object().unlink()
    assert store.fetch(MODEL_PATH, dvc.md5) == MODEL_BYTES
    assert dvc.cache_object().read_bytes() == MODEL_BYTES


def test_a_damaged_cache_copy_is_dropped_and_fetched_again(store, dvc):
    cached = dvc.cache_object()
    with damaged(cached):
        assert cached.read_bytes() != MODEL_BYTES
        assert store.fetch(MODEL_PATH, dvc.md5) == MODEL_BYTES  # in the same call
        assert cached.read_bytes() == MODEL_BYTES  # the cache holds the remote's copy now


def test_a_damaged_remote_object_heals_from_the_vault(store, dvc):
    dvc.cache_object().unlink()
    with damaged(dvc.remote_object()):
        assert store.fetch(MODEL_PATH, dvc.md5) == MODEL_BYTES
        assert dvc.cache_object().read_bytes() == MODEL_BYTES


def test_a_damaged_remote_object_is_an_integrity_error(store, dvc):
    dvc.cache_object().unlink()
    with damaged(dvc.remote_object()), damaged(dvc.vault_object()):
        with pytest.raises(IntegrityError) as bad:
            store.fetch(MODEL_PATH, dvc.md5)
        assert not dvc.cache_object().exists()  # the damaged bytes were not kept
    assert str(bad.value) == (
        f"{MODEL_PATH}: the copy in DVC remote shared ({dvc.remote}) does not hash to the "
        f"recorded {dvc.md5}; the remote's object is damaged — re-push it from a clone "
        "whose cache has it intact (`dvc push`)"
    )


def test_damaged_copies_in_cache_and_remote_name_both(store, dvc):
    with (
        damaged(dvc.cache_object()) as original,
        damaged(dvc.remote_object()),
        damaged(dvc.vault_object()),
    ):
        bad_md5 = hashlib.md5(original[:-1] + bytes([original[-1] ^ 0xFF])).hexdigest()
        with pytest.raises(IntegrityError) as bad:
            store.fetch(MODEL_PATH, dvc.md5)
    assert str(bad.value) == (
        f"{MODEL_PATH}: the DVC cache's copy hashes to {bad_md5}, not the recorded {dvc.md5}, "
        f"and the copy in DVC remote shared ({dvc.remote}) is damaged too; re-push it from "
        "a clone whose cache has it intact (`dvc push`)"
    )


def test_a_damaged_cache_copy_missing_from_the_remote_says_both(store, dvc):
    dvc.remote_object().unlink()
    dvc.vault_object().unlink()
    with damaged(dvc.cache_object()):
        with pytest.raises(IntegrityError) as bad:
            store.fetch(MODEL_PATH, dvc.md5)
    message = str(bad.value)
    assert message.startswith(f"{MODEL_PATH}: the DVC cache's copy hashes to ")
    assert f"and it could not be fetched again ({MODEL_PATH} with md5 {dvc.md5} is neither" in (
        message
    )
