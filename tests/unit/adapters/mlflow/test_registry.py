"""The model registry (adapters/mlflow/registry.py, through the ExperimentTracker facade) on
a real SQLite store: versions newest first with their aliases, and what is not there."""

from __future__ import annotations

import pytest

from winequality.errors import NotFoundError


def test_versions_are_newest_first_with_their_aliases(tracker, make_run):
    first, second = make_run(0.7), make_run(0.68)
    assert tracker.versions() == []  # no registered model yet
    one = tracker.register(tracker.get_run(first), {"wineq.run_id": first}, model_description="A")
    two = tracker.register(tracker.get_run(second), {"wineq.run_id": second})
    assert (one.version, two.version, two.aliases) == ("1", "2", ("champion",))
    tracker.set_alias("1", "staging")
    listed = tracker.versions()
    assert [(v.version, v.run_id, v.aliases) for v in listed] == [
        ("2", second, ("champion",)),
        ("1", first, ("staging",)),
    ]
    assert listed[1].lineage == {"run_id": first}
    assert make_run.client.get_registered_model("wine-quality").description == "A"
    assert tracker.version_by_alias("staging").version == "1"


def test_a_registered_models_own_description_is_kept(tracker, make_run):
    run = tracker.get_run(make_run(0.7))
    tracker.register(run, {}, model_description="written by wineq")
    make_run.client.update_registered_model("wine-quality", "written by the team")
    tracker.register(run, {}, model_description="written by wineq")
    assert make_run.client.get_registered_model("wine-quality").description == (
        "written by the team"
    )


def test_a_missing_version_or_alias_is_not_found(tracker, make_run):
    tracker.register(tracker.get_run(make_run(0.7)), {})
    with pytest.raises(NotFoundError, match="^model wine-quality has no alias 'staging'$"):
        tracker.version_by_alias("staging")
    with pytest.raises(NotFoundError, match="^looking up model wine-quality/9: "):
        tracker.version("9")
