"""Workflow: the project's data set — the UCI files imported, the lab's wines added as new
versions that are in the remote before data.dvc names them."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, Optional, Union

from winequality.domain.splits import SPLIT_RULE
from winequality.errors import DataError, MissingObject, UsageError
from winequality.records import AddOptions, DataAddition, DataVersion, StoredFile
from winequality.schema import COLORS
from winequality.settings import DATA_FILE
from winequality.workflows.ports import Resolver, Store, Tracker

CONFLICTS = {"keep": True, "skip": False}
SHOWN_CONFLICTS = 20  # lines of conflicts a result carries; the count says the rest


def import_data(store: Store, source: str, files=None) -> tuple[StoredFile, int]:
    """Verify the UCI files at `source`, build the combined CSV, `dvc add` and push it.

    Returns what DVC stored (its `changed` says whether data.dvc changed) and the number
    of wines.
    """
    from winequality.io.uci import build_csv, read_source

    raw = read_source(source, files)
    content = build_csv(raw)
    stored = store.save_data(content)
    return stored, content.count(b"\n") - 1


def add_wines(
    store: Store,
    root: Path,
    wines: list[Union[Path, str, BinaryIO]],
    options: AddOptions,
    bucket: Optional[Callable[[str], Any]] = None,
) -> DataAddition:
    """Add the labelled wines of `wines` (files, addresses or a stream) to the data set as a
    new version: checked as `wineq infer` checks its input, wines already in the data
    skipped, wines contradicting the data's quality kept or skipped as `options.conflicts`
    says (refused when it says nothing), then pushed, named by data.dvc and staged in git
    (committed with `options.commit`). `options.dry_run` changes nothing.
    """
    import pandas as pd

    from winequality.domain import additions
    from winequality.io.validation import load_training_frame

    _check(options)
    previous = store.pull_data()
    # read once: the wines checked against are the bytes the new version extends
    data = (root / DATA_FILE).read_bytes()
    existing = load_training_frame(io.StringIO(data.decode("utf-8")), DATA_FILE)
    new, names = _read(wines, options, bucket)
    plan = additions.plan(existing, new, CONFLICTS.get(options.conflicts or ""))
    if plan.conflicts and plan.conflicts_kept is None and not options.dry_run:
        raise DataError(_conflict_problem(plan.conflicts))
    result = DataAddition(
        files=names,
        read=len(new),
        added=plan.counts(),
        duplicates=plan.duplicates,
        conflicts=[_conflict_line(c) for c in plan.conflicts[:SHOWN_CONFLICTS]],
        conflicts_kept=plan.conflicts_kept,
        version=additions.counts(pd.concat([existing, plan.added], ignore_index=True)),
    )
    if options.dry_run or not len(plan.added):
        return result
    content = data + additions.as_lines(plan.added)
    meta = _meta(result, previous.md5)
    stored = store.add_data_version(content, meta)
    commit = _record_in_git(root, result, options.commit)
    return replace(result, stored=stored, commit=commit)


def _check(options: AddOptions) -> None:
    if options.conflicts is not None and options.conflicts not in CONFLICTS:
        raise UsageError(f"--conflicts {options.conflicts!r}: use keep or skip")
    if options.color is not None and options.color not in COLORS:
        raise UsageError(f"--color {options.color!r}: use {' or '.join(COLORS)}")


def _read(wines, options: AddOptions, bucket) -> tuple[Any, list[str]]:
    """Every wine of every file, validated, with its (file, row) for messages."""
    import pandas as pd

    from winequality.domain.additions import ORIGIN
    from winequality.io.formats import open_input
    from winequality.io.validation import check_scores
    from winequality.schema import TARGET

    frames, names = [], []
    for location in wines:
        with open_input(
            location, fmt=options.fmt, color=options.color, decimal=options.decimal,
            sheet=options.sheet, s3=bucket,
        ) as reader:  # fmt: skip
            names.append(reader.name)
            if TARGET not in reader.mapping.values():
                raise DataError(
                    f"{reader.name} has no {TARGET!r} column; wines added to the data need "
                    "their quality score (a whole number from 0 to 10)"
                )
            first_row = 1
            for chunk in reader.chunks(options.color):
                frame = chunk.frame
                check_scores(reader.name, frame, first_row)
                frame[ORIGIN] = [(reader.name, first_row + i) for i in range(len(frame))]
                frames.append(frame)
                first_row += len(frame)
    return pd.concat(frames, ignore_index=True), names


def _conflict_line(conflict) -> str:
    name, row = conflict.origin
    known = ", ".join(str(q) for q in conflict.known)
    return (
        f"{name}, row {row}: quality {conflict.quality}, but the data has this wine (the same "
        f"features and colour) with quality {known}"
    )


def _conflict_problem(conflicts: list) -> str:
    more = f" (and {len(conflicts) - 1} more such wines)" if len(conflicts) > 1 else ""
    return (
        f"{_conflict_line(conflicts[0])}{more}; nothing was added: pass --conflicts keep to "
        "add them as other scores of the same wines, or --conflicts skip to leave them out "
        "(--dry-run lists them)"
    )


def _meta(result: DataAddition, previous_md5: str) -> dict[str, Any]:
    """What data.dvc says of the new version: its wines, what was added, from where, when."""
    return {
        "wines": result.version,
        "added": result.added,
        "added_from": result.files,
        "added_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "previous_md5": previous_md5,
    }


def _record_in_git(root: Path, result: DataAddition, commit: bool) -> Optional[str]:
    """data.dvc staged, or committed when asked; the commit's id, if one was made."""
    from winequality.adapters import git

    if commit:
        return git.commit(root, "data.dvc", result.commit_message())
    git.stage(root, "data.dvc")
    return None


def data_log(tracker: Tracker, root: Path) -> list[DataVersion]:
    """The data versions, newest first: data.dvc's uncommitted change, each commit that
    changed data.dvc, then versions only runs know; with the runs that trained on each."""
    from winequality.adapters import git

    trained: dict[str, list] = {}
    for run in tracker.search_runs(max_results=5000):  # newest first
        md5 = run.lineage.get("data_md5")
        if md5:
            trained.setdefault(md5, []).append(run)
    texts: list[tuple[Optional[str], Optional[str], str, str]] = [
        (c, d, s, git.show(root, c, "data.dvc")) for c, d, s in git.history(root, "data.dvc")
    ]
    pointer = root / "data.dvc"
    if pointer.is_file() and (not texts or pointer.read_text() != texts[0][3]):
        texts.insert(0, (None, None, "data.dvc, not committed", pointer.read_text()))
    versions = [_version(text, c, d, s, trained) for c, d, s, text in texts]
    known = {v.md5 for v in versions}
    for md5 in [m for m in trained if m not in known]:
        versions.append(_version(f"outs: [{{md5: {md5}}}]", None, None, "only in runs", trained))
    return versions


def _version(text: str, commit, date, subject: str, trained: dict) -> DataVersion:
    import yaml

    document = yaml.safe_load(text) or {}
    md5 = str(document["outs"][0]["md5"])
    meta = document.get("meta") or {}
    runs = trained.get(md5, [])
    wines = meta.get("wines") or _wines_of(runs)
    return DataVersion(
        md5=md5,
        commit=commit,
        date=date,
        subject=subject,
        wines=wines,
        added=meta.get("added") or {},
        source=list(meta.get("added_from") or []),
        runs=[run.run_id for run in runs],
    )


def _wines_of(runs: list) -> dict[str, int]:
    """A version's wine count from a run that trained on it (train + validation + test)."""
    for run in runs:
        parts = [run.params.get(f"n_{part}", "") for part in ("train", "val", "test")]
        if all(p.isdigit() for p in parts):
            return {"wines": sum(int(p) for p in parts)}
    return {}


def pull_version(
    store: Store,
    resolver: Resolver,
    run_id: Optional[str],
    version: Optional[str],
    output: Optional[Path],
) -> tuple[str, Path, int]:
    """Exactly the data a run trained on (or version `version`), by md5, from the cache or
    the remote, written to `output`: (md5, path, wines)."""
    from winequality.io.atomic import write_atomic

    if (run_id is None) == (version is None):
        raise UsageError("give --run RUN or --version MD5 (one of them)")
    if run_id is not None:
        run = resolver.find_run(run_id)
        md5 = run.lineage.get("data_md5") or ""
        if not md5:
            raise DataError(f"run {run.run_id} records no data version; it was not made by wineq")
    else:
        md5 = str(version) if str(version).endswith(".dir") else f"{version}.dir"
    try:
        content = store.fetch_data_version(md5)
    except MissingObject as exc:
        if run_id is None or run.params.get("split_rule") != SPLIT_RULE:
            raise
        # a run under this split rule started only once its data was in the remote
        raise MissingObject(
            f"run {run.run_id[:8]} trained on the data version {md5} once it was in DVC "
            f"remote {exc.remote}, and it is gone from there now (from DVC's objects and "
            "wineq's vault); push it again from a clone whose DVC cache still has it "
            "(`dvc push data.dvc` at a commit that names it)",
            md5,
            exc.remote,
        ) from exc
    path = output or Path(f"wine-quality-{md5[:8]}.csv")
    write_atomic(path, content)
    return md5, path, content.count(b"\n") - 1
