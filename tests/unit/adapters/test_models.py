"""Model resolution (adapters/models.py): what names a registered version, and runs found
by id prefix in a real MLflow store."""

from __future__ import annotations

import pytest

from tests.support.project import damaged
from tests.support.stores import MODEL_BYTES, MODEL_PATH
from winequality.adapters.models import ModelRef, is_model_ref, parse_model_ref
from winequality.errors import IntegrityError, NotFoundError, UsageError
from winequality.records import ModelSource


@pytest.mark.parametrize(
    "text, ref",
    [
        (None, ModelRef("wine-quality", alias="champion")),
        ("3", ModelRef("wine-quality", version="3")),
        ("wine-quality/1", ModelRef("wine-quality", version="1")),
        ("models:/other/12", ModelRef("other", version="12")),
        ("wine-quality@champion", ModelRef("wine-quality", alias="champion")),
        ("@staging", ModelRef("wine-quality", alias="staging")),
        ("models:/wine-quality@champion", ModelRef("wine-quality", alias="champion")),
    ],
)
def test_model_references(text, ref):
    assert parse_model_ref(text, "wine-quality") == ref


@pytest.mark.parametrize("text", ["nonsense", "wine-quality/x", "wine-quality@", "/3", ""])
def test_a_bad_model_reference_is_a_usage_error(text):
    with pytest.raises(UsageError, match="use NAME@ALIAS, NAME/VERSION or a version number"):
        parse_model_ref(text, "wine-quality")


@pytest.mark.parametrize(
    "text, is_ref",
    [
        ("wine-quality@champion", True),
        ("wine-quality/3", True),
        ("models:/wine-quality/3", True),
        ("12", True),
        ("1234", False),  # a run id prefix
        ("3f2a", False),
        ("lr-0.002", False),  # a run name
    ],
)
def test_what_names_a_registered_version(text, is_ref):
    assert is_model_ref(text) is is_ref


# ---------------------------------------------------------------- ModelResolver, real stores


@pytest.fixture
def resolver(tracker, store):
    from winequality.adapters.models import ModelResolver

    return ModelResolver(tracker, store, "wine-quality", "wine-quality")


def test_a_run_is_found_by_its_id_or_a_prefix_of_four_or_more(resolver, make_run):
    run_id = make_run(0.7)
    make_run(0.71)
    assert resolver.find_run(run_id).run_id == run_id
    assert resolver.find_run(run_id[:6]).run_id == run_id
    with pytest.raises(UsageError, match=f"^run id '{run_id[:3]}' is too short; give at least 4"):
        resolver.find_run(run_id[:3])
    with pytest.raises(NotFoundError) as missing:
        resolver.find_run("zzzz")
    assert str(missing.value) == "no run 'zzzz' in experiment 'wine-quality'; see `wineq runs`"


def test_the_champion_resolves_to_exactly_its_stored_bytes(resolver, tracker, make_run, dvc):
    run_id = make_run(0.7, md5=dvc.md5)
    lineage = {"wineq.model_md5": dvc.md5, "wineq.model_path": MODEL_PATH}
    tracker.register(tracker.get_run(run_id), lineage)
    source, content = resolver.resolve()
    # the run's test RMSE comes along: infer sets its expected RMSE beside it
    assert source == ModelSource("wine-quality/1", run_id, MODEL_PATH, dvc.md5, test_rmse=0.7)
    assert content == MODEL_BYTES
    by_run, again = resolver.resolve(run_id=run_id[:8])
    assert (by_run.label, again) == (f"run {run_id}", MODEL_BYTES)
    with damaged(dvc.cache_object()), damaged(dvc.remote_object()), damaged(dvc.vault_object()):
        with pytest.raises(IntegrityError, match=f"^wine-quality/1: {MODEL_PATH}: the DVC cache"):
            resolver.resolve()


def test_an_unregistered_version_or_a_foreign_one_is_not_found(resolver, tracker, make_run):
    with pytest.raises(NotFoundError) as missing:
        resolver.resolve("wine-quality/3")
    assert str(missing.value) == (
        f"model wine-quality/3 is not registered in {tracker.store.display}; run `wineq "
        "register`, or see `wineq infer --interactive`"
    )
    tracker.register(tracker.get_run(make_run(0.7)), {})  # a version wineq did not make
    with pytest.raises(NotFoundError, match="^wine-quality/1 carries no DVC model path and md5"):
        resolver.resolve("1")
