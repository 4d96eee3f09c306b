"""The register workflow (workflows/register.py) on a real MLflow SQLite store and a real
DVC repository: which run passes the bar, what is refused, and what the registry holds
afterwards, read back with MLflow's own client."""

from __future__ import annotations

import pytest

from winequality.errors import QualityBarError, StoreError, UsageError
from winequality.records import GateOptions
from winequality.workflows.register import register

NAME = "wine-quality"


@pytest.fixture
def resolver(tracker, store):
    from winequality.adapters.models import ModelResolver

    return ModelResolver(tracker, store, NAME, NAME)


@pytest.fixture
def registering(tracker, store, resolver):
    """`register` with the test's tracker, store and resolver: (bar, run id) → Registration."""

    def call(bar, run_id=None, gate=None):
        return register(tracker, store, resolver, bar, run_id, gate)

    return call


def registry(make_run) -> dict[str, tuple[str, list[str]]]:
    """version → (run id, aliases), as MLflow's client reads the registry."""
    client = make_run.client
    aliases = client.get_registered_model(NAME).aliases
    versions = client.search_model_versions(f"name = '{NAME}'")
    return {
        str(mv.version): (
            mv.run_id,
            sorted(a for a, v in aliases.items() if str(v) == str(mv.version)),
        )
        for mv in versions
    }


def nothing_registered(make_run) -> bool:
    return make_run.client.search_registered_models() == []


def test_the_best_finished_run_under_the_bar_becomes_champion(registering, make_run, dvc):
    make_run(0.72, md5=dvc.md5)
    make_run(0.60, md5=dvc.md5, status="FAILED")  # better, but its model is not trustworthy
    best = make_run(0.68, md5=dvc.md5)
    make_run(0.69, md5=dvc.md5)
    make_run(0.50, md5=dvc.md5, status="RUNNING")
    done = registering(0.70)
    assert (done.run.run_id, done.reused) == (best, False)
    assert (done.version.version, done.version.aliases) == ("1", ("champion",))
    assert registry(make_run) == {"1": (best, ["champion"])}
    tags = make_run.client.get_model_version(NAME, "1").tags
    assert tags["wineq.model_md5"] == dvc.md5 and tags["wineq.run_id"] == best
    assert tags["wineq.model_path"] == "models/model.pt"


def test_a_run_exactly_at_the_bar_passes(registering, make_run, dvc):
    at_bar = make_run(0.7, md5=dvc.md5)
    make_run(0.7000001, md5=dvc.md5)
    assert registering(0.7).run.run_id == at_bar


def test_no_run_under_the_bar_is_one_line_naming_the_best_run(registering, make_run, dvc):
    make_run(0.73, md5=dvc.md5)
    best = make_run(0.7125, md5=dvc.md5)
    make_run(0.65, md5=dvc.md5, status="KILLED")
    with pytest.raises(QualityBarError) as refused:
        registering(0.7)
    assert str(refused.value) == (
        f"no run reaches test RMSE 0.7000 (best: 0.7125, run {best[:8]}); "
        "train longer or relax --min-rmse"
    )
    assert nothing_registered(make_run)


def test_with_no_finished_run_the_refusal_says_so(registering, make_run, dvc):
    make_run(0.5, md5=dvc.md5, status="FAILED")
    with pytest.raises(QualityBarError, match=r"^no run reaches test RMSE 0\.9000 \(no finished"):
        registering(0.9)
    assert nothing_registered(make_run)


def test_a_named_run_is_checked_against_the_bar(registering, make_run, dvc):
    best = make_run(0.66, md5=dvc.md5)
    named = make_run(0.69, md5=dvc.md5)
    above = make_run(0.71, md5=dvc.md5)
    with pytest.raises(QualityBarError) as refused:
        registering(0.70, above[:6])  # a prefix names it as the CLI's --run-id does
    assert str(refused.value) == (
        f"run {above} has test RMSE 0.7100, above the bar 0.7000; "
        "pick another run or relax --min-rmse"
    )
    assert nothing_registered(make_run)
    done = registering(0.70, named)  # under the bar: taken, though another run is better
    assert done.run.run_id == named != best
    assert registry(make_run) == {"1": (named, ["champion"])}
    at_bar = make_run(0.7, md5=dvc.md5)
    with pytest.raises(QualityBarError, match=r"0\.7000 against 0\.6900 for champion"):
        registering(0.7, at_bar)  # worse than the champion: the gate holds
    within = GateOptions(tolerance=0.02)  # at the bar is not above it; within the tolerance
    assert registering(0.7, at_bar, within).run.run_id == at_bar
    assert registry(make_run) == {"1": (named, []), "2": (at_bar, ["champion"])}


@pytest.mark.parametrize(
    "status, rmse, message",
    [
        ("RUNNING", 0.6, "is still training; register it once it has finished"),
        ("FAILED", 0.6, "ended FAILED, so its model is not trustworthy; register a finished run"),
        ("FINISHED", None, "has no test RMSE, above the bar 0.7000; pick another run"),
    ],
)
def test_a_named_run_that_did_not_finish_well_is_refused(
    registering, make_run, dvc, status, rmse, message
):
    run_id = make_run(rmse, md5=dvc.md5, status=status)
    with pytest.raises(QualityBarError) as refused:
        registering(0.7, run_id)
    assert str(refused.value).startswith(f"run {run_id} {message}")
    assert nothing_registered(make_run)


def test_a_run_already_registered_is_reused_and_the_alias_moves(registering, make_run, dvc):
    first = make_run(0.69, md5=dvc.md5)
    assert registering(0.7).version.version == "1"
    again = registering(0.7)  # the same best run: no second version
    assert (again.version.version, again.reused) == ("1", True)
    assert registry(make_run) == {"1": (first, ["champion"])}

    better = make_run(0.65, md5=dvc.md5)
    moved = registering(0.7)
    assert (moved.run.run_id, moved.version.version, moved.reused) == (better, "2", False)
    assert registry(make_run) == {"1": (first, []), "2": (better, ["champion"])}

    with pytest.raises(QualityBarError, match="worse by 0.0400"):
        registering(0.7, first)  # worse than the champion: the gate holds
    back = registering(0.7, first, GateOptions(force=True, reason="back", user="ana"))
    # the alias goes back onto version 1, no version 3
    assert (back.version.version, back.version.aliases, back.reused) == ("1", ("champion",), True)
    assert registry(make_run) == {"1": (first, ["champion"]), "2": (better, [])}
    tags = make_run.client.get_model_version(NAME, "1").tags
    assert (tags["wineq.forced_by"], tags["wineq.forced_reason"]) == ("ana", "back")


def test_a_model_missing_from_the_remote_is_never_registered(registering, make_run):
    absent = "0123456789abcdef0123456789abcdef"
    run_id = make_run(0.6, md5=absent)
    with pytest.raises(StoreError) as refused:
        registering(0.7)
    assert str(refused.value) == (
        f"the model of run {run_id} (md5 {absent}) is not in the DVC remote, so no other "
        "clone could use it; nothing registered — check the remote, then train again"
    )
    assert nothing_registered(make_run)


def test_a_run_that_recorded_no_model_is_never_registered(registering, make_run):
    run_id = make_run(0.6)  # no lineage tags
    with pytest.raises(StoreError, match=f"^run {run_id} recorded no model in DVC; train again$"):
        registering(0.7)
    assert nothing_registered(make_run)


@pytest.mark.parametrize("bar", [0, -0.5])
def test_a_bar_of_zero_or_less_is_a_usage_error(registering, make_run, dvc, bar):
    make_run(0.6, md5=dvc.md5)
    with pytest.raises(UsageError, match=f"^--min-rmse {bar}: must be above 0, e.g. 0.7$"):
        registering(bar)
    assert nothing_registered(make_run)
