"""Workflow: check a run's results (MLflow) and bytes (DVC remote), then register it.

The version carries the run's lineage tags; the bytes stay in DVC. Runs are ranked on
the same wines (none of them trained on any), and champion moves only through the gate.
"""

from __future__ import annotations

from typing import Optional

from winequality.domain import report
from winequality.errors import NoSharedWines, QualityBarError, StoreError, UsageError
from winequality.records import (
    ALIAS,
    LINEAGE_KEYS,
    RMSE,
    TAG_PREFIX,
    CompareOptions,
    GateOptions,
    Registration,
    RunRecord,
    VersionRecord,
)
from winequality.workflows import champion
from winequality.workflows.ports import Resolver, Store, Tracker


def _checked_run(resolver: Resolver, run_id: str, bar: float) -> RunRecord:
    run = resolver.find_run(run_id)
    if run.process_gone:
        raise QualityBarError(
            f"run {run.run_id} never finished: its training process is gone (killed, or the "
            "machine restarted); close it with `wineq runs --close-gone` and register a "
            "finished run"
        )
    if run.status == "RUNNING":
        raise QualityBarError(
            f"run {run.run_id} is still training; register it once it has finished"
        )
    if run.status != "FINISHED":
        raise QualityBarError(
            f"run {run.run_id} ended {run.status}, so its model is not trustworthy; "
            "register a finished run"
        )
    rmse = run.metrics.get(RMSE)
    if rmse is None or rmse > bar:
        shown = "no test RMSE" if rmse is None else f"test RMSE {rmse:.4f}"
        raise QualityBarError(
            f"run {run.run_id} has {shown}, above the bar {bar:.4f}; "
            "pick another run or relax --min-rmse"
        )
    return run


def _finished_runs(tracker: Tracker) -> list[RunRecord]:
    runs = tracker.search_runs(
        "attributes.status = 'FINISHED'",
        order_by=[f"metrics.{RMSE} ASC", "attributes.start_time DESC"],
        max_results=100,
    )
    return [r for r in runs if RMSE in r.metrics]


def _no_run_reaches(bar: float, best, shared: str = "") -> QualityBarError:
    hint = f" (best: {best[0]:.4f}, run {best[1][:8]})" if best else " (no finished runs)"
    what = "RMSE" if shared else "test RMSE"
    return QualityBarError(
        f"no run reaches {what} {bar:.4f}{shared}{hint}; train longer or relax --min-rmse"
    )


def _test_set(run: RunRecord) -> tuple:
    """What fixes a run's test wines: its data version and split."""
    p = run.params
    return run.lineage.get("data_md5"), p.get("split_rule"), p.get("split_seed"), p.get("test_size")


def _best_run(tracker: Tracker, store: Store, resolver: Resolver, bar: float) -> RunRecord:
    """The finished run with the lowest RMSE on wines none of the finished runs trained on:
    their recorded test RMSEs when they share one test set (same data version and split),
    else each model scored on the wines of the current data none of them trained on."""
    from winequality.workflows import compare

    runs = _finished_runs(tracker)
    if len({_test_set(r) for r in runs}) < 2:
        best = min(runs, key=lambda r: r.metrics[RMSE], default=None)
        if best is not None and best.metrics[RMSE] <= bar:
            return best
        raise _no_run_reaches(bar, best and (best.metrics[RMSE], best.run_id))
    try:
        result = compare.compare(
            tracker, store, resolver, [r.run_id for r in runs],
            CompareOptions(record=False),
        )  # fmt: skip
    except NoSharedWines as exc:
        raise QualityBarError(
            f"the {len(runs)} finished runs share no wine that none of them trained on, so "
            f"they cannot be ranked fairly ({exc}); name one with --run-id"
        ) from exc
    scored = min(result.models, key=lambda m: m.rmse)
    where = f" on the {result.wines} wines none of the {len(runs)} finished runs trained on"
    if scored.rmse > bar:
        raise _no_run_reaches(bar, (scored.rmse, scored.run_id), where)
    return next(r for r in runs if r.run_id == scored.run_id)


def register(
    tracker: Tracker,
    store: Store,
    resolver: Resolver,
    max_rmse: float,
    run_id: Optional[str] = None,
    gate: Optional[GateOptions] = None,
) -> Registration:
    """Register the best finished run at or below `max_rmse` (or the run named) and move
    `gate.alias` onto it; moving champion passes the gate first (`workflows.champion`).

    Registering a run that already has a version moves the alias back onto that version
    instead of creating a duplicate.
    """
    gate = champion.checked_options(gate or GateOptions())
    bar = float(max_rmse)
    if not bar > 0:
        raise UsageError(f"--min-rmse {max_rmse}: must be above 0, e.g. 0.7")
    run = (
        _checked_run(resolver, run_id, bar) if run_id else _best_run(tracker, store, resolver, bar)
    )
    _check_bytes(store, run)
    existing_versions = tracker.versions(
        f"registering run {run.run_id} as {tracker.model_name!r}",
        f"EDIT or MANAGE on registered model {tracker.model_name!r}",
    )
    previous, comparison = champion.guard(tracker, store, resolver, run, gate)
    existing = next((v for v in existing_versions if v.run_id == run.run_id), None)
    if existing is not None:
        tracker.set_alias(existing.version, gate.alias)
        number = existing.version
    else:
        number = _new_version(tracker, run, gate.alias).version
    moves = gate.alias == ALIAS and (previous is None or previous.version != number)
    if moves:
        champion.moved(tracker, number, previous, "force" if gate.force else "register", gate)
    return Registration(
        tracker.version(number),  # as the registry holds it now: aliases, forced_* tags
        run,
        reused=existing is not None,
        gate=comparison,
        previous=previous.version if moves and previous else None,
    )


def _check_bytes(store: Store, run: RunRecord) -> None:
    md5 = run.lineage.get("model_md5")
    if not md5:
        raise StoreError(f"run {run.run_id} recorded no model in DVC; train again")
    if not store.in_remote(md5):
        raise StoreError(
            f"the model of run {run.run_id} (md5 {md5}) is not in the DVC remote, so no "
            "other clone could use it; nothing registered — check the remote, then "
            "train again"
        )


def _new_version(tracker: Tracker, run: RunRecord, alias: str) -> VersionRecord:
    lineage = run.lineage
    lineage["run_id"] = run.run_id
    tags = {f"{TAG_PREFIX}{k}": lineage[k] for k in LINEAGE_KEYS if k in lineage}
    return tracker.register(
        run,
        tags,
        alias,
        description=report.version_description(run.run_id, run.metrics, lineage),
        model_description=report.model_description(tracker.model_name),
    )
