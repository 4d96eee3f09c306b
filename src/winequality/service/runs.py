"""Workflows: a page of the experiment's runs with what is registered from each, and one
run (or registered version) whole."""

from __future__ import annotations

from datetime import datetime, timezone

from winequality.errors import NotFoundError, UsageError
from winequality.records import RMSE, RunDetail, RunsPage, RunSummary


def _labels(tracker) -> dict[str, list[str]]:
    """run id -> the versions registered from it, as `v3@champion`."""
    registered: dict[str, list[str]] = {}
    for version in tracker.versions():
        label = f"v{version.version}" + "".join(f"@{a}" for a in version.aliases)
        registered.setdefault(version.run_id or "", []).append(label)
    return registered


def is_model_ref(target: str) -> bool:
    """Whether `wineq show TARGET` names a registered version (NAME@ALIAS, NAME/VERSION,
    models:/..., a version number of up to 3 digits) rather than a run id or prefix."""
    return "@" in target or "/" in target or (target.isdigit() and len(target) < 4)


def show(tracker, resolver, target=None) -> RunDetail:
    """One run whole, by run id (or prefix) or by registered version (default: champion)."""
    version = None
    if target is None or is_model_ref(target):
        version = resolver.version(target)
        if not version.run_id:
            raise NotFoundError(f"{version.label} names no run; it was not made by wineq")
        run = tracker.get_run(version.run_id)
    else:
        run = resolver.find_run(target)
    return RunDetail(
        run=run,
        version=version,
        registered=_labels(tracker).get(run.run_id, []),
        artifacts=tracker.artifacts(run.run_id),
        ui_url=tracker.ui_url(run),
    )


def list_runs(tracker, limit: int = 20, page: int = 1) -> RunsPage:
    """A page of the experiment's runs, newest first, with the versions registered from them."""
    if limit < 1:
        raise UsageError(f"--limit {limit}: must be at least 1")
    if page < 1:
        raise UsageError(f"--page {page}: must be at least 1")
    runs, more = tracker.runs_page(limit, page)
    registered = _labels(tracker) if runs else {}
    summaries = []
    for run in runs:
        start = (
            datetime.fromtimestamp(run.start_time / 1000, tz=timezone.utc).isoformat(
                timespec="seconds"
            )
            if run.start_time
            else None
        )
        epochs = run.params.get("epochs")
        summaries.append(
            RunSummary(
                run_id=run.run_id,
                start=start,
                status=run.status,
                epochs=int(epochs) if epochs and epochs.isdigit() else None,
                rmse=run.metrics.get(RMSE),
                mae=run.metrics.get("test_mae"),
                registered=registered.get(run.run_id, []),
            )
        )
    return RunsPage(summaries, page, more)
