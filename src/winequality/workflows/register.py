"""Workflow: check a run's results (MLflow) and bytes (DVC remote), then register it.

The version carries the run's lineage tags; the bytes stay in DVC.
"""

from __future__ import annotations

from typing import Optional

from winequality.domain import report
from winequality.errors import QualityBarError, StoreError, UsageError
from winequality.records import LINEAGE_KEYS, RMSE, TAG_PREFIX, Registration, RunRecord
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


def _best_run(tracker: Tracker, bar: float) -> RunRecord:
    run = tracker.best_run(bar)
    if run is None:
        best = tracker.best_run()
        hint = (
            f" (best: {best.metrics[RMSE]:.4f}, run {best.run_id[:8]})"
            if best and RMSE in best.metrics
            else " (no finished runs)"
        )
        raise QualityBarError(
            f"no run reaches test RMSE {bar:.4f}{hint}; train longer or relax --min-rmse"
        )
    return run


def register(
    tracker: Tracker,
    store: Store,
    resolver: Resolver,
    max_rmse: float,
    run_id: Optional[str] = None,
) -> Registration:
    """Register the best finished run at or below `max_rmse` (or the run named) as champion.

    Registering a run that already has a version moves the alias back onto that version
    instead of creating a duplicate.
    """
    bar = float(max_rmse)
    if not bar > 0:
        raise UsageError(f"--min-rmse {max_rmse}: must be above 0, e.g. 0.7")
    run = _checked_run(resolver, run_id, bar) if run_id else _best_run(tracker, bar)
    lineage = run.lineage
    md5 = lineage.get("model_md5")
    if not md5:
        raise StoreError(f"run {run.run_id} recorded no model in DVC; train again")
    if not store.in_remote(md5):
        raise StoreError(
            f"the model of run {run.run_id} (md5 {md5}) is not in the DVC remote, so no "
            "other clone could use it; nothing registered — check the remote, then "
            "train again"
        )
    existing_versions = tracker.versions(
        f"registering run {run.run_id} as {tracker.model_name!r}",
        f"EDIT or MANAGE on registered model {tracker.model_name!r}",
    )
    for existing in existing_versions:
        if existing.run_id == run.run_id:
            tracker.set_alias(existing.version)
            return Registration(tracker.version(existing.version), run, reused=True)
    lineage["run_id"] = run.run_id
    tags = {f"{TAG_PREFIX}{k}": lineage[k] for k in LINEAGE_KEYS if k in lineage}
    version = tracker.register(
        run,
        tags,
        description=report.version_description(run.run_id, run.metrics, lineage),
        model_description=report.model_description(tracker.model_name),
    )
    return Registration(version, run, reused=False)
