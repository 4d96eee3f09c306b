"""`wineq gc` and `wineq check`: the cleanup that knows what MLflow references, and the
audit of every registered version's bytes in the remote.

DVC cannot know which model objects runs and versions point at (no `.dvc` file names a
model: the run is the pointer), so `dvc gc` is kept away from them by the vault
(adapters/dvc/vault.py) and model bytes would pile up for ever. `collect` asks MLflow
which md5s live runs and registered versions reference, and removes every copy (cache,
DVC's objects in the remote, the vault) of the model objects nothing live references:
those of deleted runs, and those whose runs `mlflow gc` removed for good. An object
younger than the grace period is kept: a training may have pushed it and not yet
recorded its md5.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Optional

from winequality.errors import IntegrityError, StoreError, WineqError
from winequality.records import (
    DAMAGED,
    MISSING,
    OK,
    REPAIRED,
    Collection,
    Garbage,
    VersionCheck,
)
from winequality.workflows.ports import Store, Tracker

GRACE_S = 3600.0


def collect(
    tracker: Tracker,
    store: Store,
    dry_run: bool = True,
    grace_s: float = GRACE_S,
    progress: Optional[Callable[[Garbage], None]] = None,
) -> Collection:
    """Remove (or with `dry_run`, list) the model bytes no live run or version references."""
    refs = tracker.references()
    kept = store.kept_models()
    now = time.time()
    garbage, young = [], 0
    for md5 in sorted((set(kept) | set(refs.deleted)) - set(refs.live)):
        if md5 in kept and now - kept[md5][1] < grace_s:
            young += 1
            continue
        where, size = store.model_copies(md5)
        if where:
            garbage.append(Garbage(md5, size, tuple(refs.deleted.get(md5, ())), where))
    if not dry_run:
        for item in garbage:
            store.remove_model(item.md5)
            if progress:
                progress(item)
    live = len(set(kept) & set(refs.live))
    return Collection(garbage, live, young, removed=not dry_run)


def check(tracker: Tracker, store: Store, repair: bool = False) -> list[VersionCheck]:
    """Whether each registered version's model and data bytes are in the remote intact;
    with `repair`, put back what an intact copy anywhere (cache, remote, vault) allows."""
    found = []
    for version in tracker.versions(needs="READ on the registered model"):
        lineage = version.lineage
        model_md5, data_md5 = lineage.get("model_md5", ""), lineage.get("data_md5", "")
        model = store.verify_model(model_md5) if model_md5 else MISSING
        data = store.verify_data(data_md5) if data_md5 else MISSING
        if repair and model != OK and model_md5:
            model = _repaired(partial(store.secure_model, model_md5), model)
        if repair and data != OK and data_md5:
            data = _repaired(partial(store.secure_data, data_md5), data)
        found.append(
            VersionCheck(version.label, version.run_id or "", model_md5, model, data_md5, data)
        )
    return found


def _repaired(secure: Callable[[], None], state: str) -> str:
    try:
        secure()
    except WineqError:
        return state  # no intact copy within reach: it stays as it was
    return REPAIRED


def verdict(checks: list[VersionCheck]) -> Optional[StoreError]:
    """The error `wineq check` exits with: 5 when some bytes are damaged, 4 when some are
    gone; None when every version is intact."""
    bad = [c for c in checks if c.worst != OK]
    if not bad:
        return None
    names = ", ".join(c.label for c in bad)
    hint = "run `wineq check --repair` in a clone whose DVC cache still has them"
    if any(c.worst == DAMAGED for c in bad):
        return IntegrityError(
            f"{len(bad)} registered version(s) have damaged bytes in the remote ({names}); {hint}"
        )
    return StoreError(
        f"{len(bad)} registered version(s) have bytes missing from the remote ({names}); {hint}"
    )
