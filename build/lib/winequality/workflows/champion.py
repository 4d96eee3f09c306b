"""Workflow: who is champion, and how it changes — the gate, promotion and the history.

The champion moves only to a model no worse than it on the wines neither trained on
(the gate, `workflows.compare`), unless forced with a reason; `promote` moves it to any
registered version at once (a rollback). Every move is recorded on the registered model
(when, who, from which version to which, why), and `history` reads it back.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from winequality.errors import NoSharedWines, NotFoundError, QualityBarError, UsageError
from winequality.records import (
    ALIAS,
    RMSE,
    ChampionMove,
    CompareOptions,
    Comparison,
    GateOptions,
    ModelDetail,
    RunRecord,
    VersionRecord,
)
from winequality.workflows.ports import Resolver, Store, Tracker


def current(tracker: Tracker) -> Optional[VersionRecord]:
    """The champion's version, or None when there is none yet."""
    try:
        return tracker.version_by_alias(ALIAS)
    except NotFoundError:
        return None


def checked_options(gate: GateOptions) -> GateOptions:
    """The gate's options refused before any work: a force needs a reason."""
    if gate.tolerance < 0:
        raise UsageError(f"--tolerance {gate.tolerance}: must be 0 or more, e.g. 0.01")
    if gate.force and not gate.reason.strip():
        raise UsageError('--force needs --reason TEXT, e.g. --reason "hotfix for new vintage"')
    if gate.force and gate.alias != ALIAS:
        raise UsageError(f"--force is for moving {ALIAS}; --alias {gate.alias} has no gate")
    return gate


def guard(
    tracker: Tracker,
    store: Store,
    resolver: Resolver,
    run: RunRecord,
    gate: GateOptions,
) -> tuple[Optional[VersionRecord], Optional[Comparison]]:
    """The champion `run` would replace and the comparison that lets it; a QualityBarError
    when `run` is worse than the champion on their shared wines by more than the tolerance."""
    from winequality.workflows import compare

    if gate.alias != ALIAS:
        return None, None
    champion = current(tracker)
    if champion is None or champion.run_id == run.run_id or gate.force:
        return champion, None
    held_run = resolver.find_run(champion.run_id) if champion.run_id else None
    if held_run is None or not (held_run.lineage.get("data_md5") or run.lineage.get("data_md5")):
        _recorded_gate(run, held_run, champion, gate)  # runs from before data versions
        return champion, None
    try:
        result = compare.compare(
            tracker, store, resolver, [champion.label, run.run_id], CompareOptions()
        )
    except NoSharedWines as exc:
        raise QualityBarError(
            f"run {run.run_id[:8]} and champion {champion.label} share no wine neither trained "
            f"on, so the gate cannot compare them ({exc}); register it with --alias "
            'challenger, or promote it anyway with --force --reason "..."'
        ) from exc
    held, candidate = result.models
    if candidate.rmse - held.rmse > gate.tolerance:
        raise QualityBarError(
            f"run {run.run_id[:8]} scores RMSE {candidate.rmse:.4f} against {held.rmse:.4f} "
            f"for champion {champion.label} on the {result.wines:,} wines neither trained on "
            f"(worse by {candidate.rmse - held.rmse:.4f}, more than --tolerance "
            f"{gate.tolerance:g}); @{ALIAS} stays on {champion.label} — register it with "
            '--alias challenger, or promote it anyway with --force --reason "..."'
        )
    return champion, result


def _recorded_gate(
    run: RunRecord, held: Optional[RunRecord], champion: VersionRecord, gate: GateOptions
) -> None:
    """The gate for runs that recorded no data version: their recorded test RMSEs (the
    only scores there are), which a champion with none always lets through."""
    ours, theirs = run.metrics.get(RMSE), held.metrics.get(RMSE) if held else None
    if ours is None or theirs is None or ours - theirs <= gate.tolerance:
        return
    raise QualityBarError(
        f"run {run.run_id[:8]} has test RMSE {ours:.4f} against {theirs:.4f} for champion "
        f"{champion.label} (no data version recorded, so no shared wines to score on; worse "
        f"by {ours - theirs:.4f}, more than --tolerance {gate.tolerance:g}); @{ALIAS} stays "
        f"on {champion.label} — register it with --alias challenger, or promote it anyway "
        'with --force --reason "..."'
    )


def moved(
    tracker: Tracker,
    to: str,
    previous: Optional[VersionRecord],
    how: str,
    gate: GateOptions,
) -> ChampionMove:
    """Record that the champion moved from `previous` to version `to`; a forced move is
    also written on the version (who, when, why)."""
    move = ChampionMove(
        at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        by=gate.user or "unknown",
        to=to,
        how=how,
        previous=previous.version if previous else None,
        reason=gate.reason.strip(),
    )
    tracker.record_move(move)
    if how == "force":
        tracker.tag_version(
            to,
            {
                "wineq.forced_by": move.by,
                "wineq.forced_at": move.at,
                "wineq.forced_reason": move.reason,
            },
        )
    return move


def promote(
    tracker: Tracker, resolver: Resolver, model: str, gate: GateOptions
) -> tuple[VersionRecord, Optional[ChampionMove]]:
    """Move champion onto the version `model` names, at once (a rollback needs no gate);
    the version and the move (None when it was champion already)."""
    if not gate.reason.strip():
        raise UsageError('promote needs --reason TEXT, e.g. --reason "roll back: v3 misreads rosé"')
    version = resolver.version(model, hint="see `wineq show` for the versions")
    if version.name != tracker.model_name:
        raise UsageError(
            f"{version.label} is not a version of {tracker.model_name!r}; "
            "promote a version of the model wineq is set up for"
        )
    previous = current(tracker)
    if previous is not None and previous.version == version.version:
        return version, None
    tracker.set_alias(version.version)
    move = moved(tracker, version.version, previous, "promote", gate)
    return tracker.version(version.version), move


def model_detail(tracker: Tracker) -> ModelDetail:
    """The registered model's versions and the champion's history."""
    versions = tracker.versions()
    if not versions:
        raise NotFoundError(
            f"model {tracker.model_name!r} has no versions yet; run `wineq register`"
        )
    return ModelDetail(tracker.model_name, versions, tracker.champion_history())
