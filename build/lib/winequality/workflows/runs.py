"""Workflows: a page of the experiment's runs with what is registered from each, and one
run (or registered version) whole."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from winequality.adapters.models import is_model_ref
from winequality.errors import AccessDenied, NotFoundError, UsageError, WineqError
from winequality.records import RMSE, RunDetail, RunRecord, RunsPage, RunSummary, VersionRecord
from winequality.workflows.ports import Resolver, Tracker


def _labels(tracker: Tracker) -> tuple[dict[str, list[str]], Optional[str]]:
    """run id -> the versions registered from it, as `v3@champion`; and why they are not
    shown when the server does not let this user read the registry (a trainer may not)."""
    registered: dict[str, list[str]] = {}
    try:
        versions = tracker.versions()
    except AccessDenied as exc:
        return registered, str(exc)
    for version in versions:
        label = f"v{version.version}" + "".join(f"@{a}" for a in version.aliases)
        registered.setdefault(version.run_id or "", []).append(label)
    return registered, None


def _is_run_prefix(target: str) -> bool:
    return len(target) >= 4 and all(c in "0123456789abcdef" for c in target.lower())


def show(tracker: Tracker, resolver: Resolver, target: Optional[str] = None) -> RunDetail:
    """One run whole, by run id (or prefix), run name (a DVC experiment's), or registered
    version: NAME@ALIAS, NAME/VERSION, a version number, the model's name (its champion);
    default: the champion."""
    version = None
    if target is None or is_model_ref(target) or target == tracker.model_name:
        version = resolver.version(
            None if target == tracker.model_name else target, hint="see `wineq runs`"
        )
        run = _run_of(tracker, version)
    elif _is_run_prefix(target):
        try:
            run = resolver.find_run(target)
        except NotFoundError:
            if not target.isdigit():
                raise
            version = resolver.version(target, hint="see `wineq runs`")  # 4+ digits
            run = _run_of(tracker, version)
    else:
        run = _run_named(tracker, target)
    try:
        artifacts, unavailable = tracker.artifacts(run.run_id), None
    except WineqError as exc:  # a read-only view: show the rest, say why these are missing
        artifacts, unavailable = [], str(exc)
    return RunDetail(
        run=run,
        version=version,
        registered=_labels(tracker)[0].get(run.run_id, []),
        artifacts=artifacts,
        ui_url=tracker.ui_url(run),
        artifacts_unavailable=unavailable,
    )


def _run_of(tracker: Tracker, version: VersionRecord) -> RunRecord:
    """The run a registered version was made from."""
    if not version.run_id:
        raise NotFoundError(f"{version.label} names no run; it was not made by wineq")
    return tracker.get_run(version.run_id)


def _run_named(tracker: Tracker, name: str):
    """The newest run called `name` (DVC names a run after its experiment)."""
    if "'" in name or "\\" in name:
        raise UsageError(f"{name!r} is neither a run id nor a run name")
    runs = tracker.search_runs(f"tags.`mlflow.runName` = '{name}'", max_results=1)
    if not runs:
        raise NotFoundError(
            f"no run, run id prefix or registered version {name!r} in experiment "
            f"{tracker.experiment!r}; see `wineq runs`"
        )
    return runs[0]


def list_runs(tracker: Tracker, limit: int = 20, page: int = 1) -> RunsPage:
    """A page of the experiment's runs, newest first, with the versions registered from them."""
    if limit < 1:
        raise UsageError(f"--limit {limit}: must be at least 1")
    if page < 1:
        raise UsageError(f"--page {page}: must be at least 1")
    runs, more = tracker.runs_page(limit, page)
    registered, hidden = _labels(tracker) if runs else ({}, None)
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
                coverage_80=run.metrics.get("test_coverage_80"),
                process_gone=run.process_gone,
                data_md5=run.lineage.get("data_md5"),
                wines=_wines(run.params),
                n_test=_count(run.params.get("n_test")),
            )
        )
    return RunsPage(summaries, page, more, registry_hidden=hidden)


def _count(text: Optional[str]) -> Optional[int]:
    return int(text) if text and text.isdigit() else None


def _wines(params: dict[str, str]) -> Optional[int]:
    """Wines in a run's data: its training, validation and test wines."""
    parts = [_count(params.get(f"n_{part}")) for part in ("train", "val", "test")]
    return sum(p for p in parts if p is not None) if None not in parts else None


GONE_NOTE = (
    "its training process ended without finishing the run (killed, or the machine "
    "restarted); closed as FAILED by `wineq runs --close-gone`"
)


def close_gone(tracker: Tracker) -> list[str]:
    """End as FAILED every RUNNING run whose training process has ended on this machine;
    their ids. Runs started elsewhere, or still training, are left alone."""
    from winequality.records import TAG_PREFIX

    closed = []
    for run in tracker.search_runs("attributes.status = 'RUNNING'"):
        if not run.process_gone:
            continue
        # Read again now that its process is surely gone (a dead process writes nothing
        # more): it may have finished between the search and the check.
        if tracker.get_run(run.run_id).status != "RUNNING":
            continue
        tracker.set_tags(run.run_id, {f"{TAG_PREFIX}error": GONE_NOTE})
        tracker.end_run(run.run_id, "FAILED")
        closed.append(run.run_id)
    return closed
