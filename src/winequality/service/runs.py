"""Workflow: a page of the experiment's runs with what is registered from each."""

from __future__ import annotations

from datetime import datetime, timezone

from winequality.errors import UsageError
from winequality.records import RMSE, RunsPage, RunSummary


def list_runs(tracker, limit: int = 20, page: int = 1) -> RunsPage:
    """A page of the experiment's runs, newest first, with the versions registered from them."""
    if limit < 1:
        raise UsageError(f"--limit {limit}: must be at least 1")
    if page < 1:
        raise UsageError(f"--page {page}: must be at least 1")
    runs, more = tracker.runs_page(limit, page)
    registered: dict[str, list[str]] = {}
    if runs:
        for version in tracker.versions():
            label = f"v{version.version}" + "".join(f"@{a}" for a in version.aliases)
            registered.setdefault(version.run_id or "", []).append(label)
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
