"""Workflow: score models on the same wines, say which is better, record it in MLflow.

The wines are the labelled wines of the current data version (or of a file) that none of
the compared models trained on. Which wines a run trained on follows from what it
recorded: its data version (`wineq.data_md5`, fetched by md5 like `wineq data pull`), its
split seed and test share, and the split rule that makes a wine's side depend on the
wine alone (`domain.splits`). The numbers themselves are `domain.comparison`'s.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from winequality.errors import AccessDenied, DataError, NoSharedWines, NotFoundError, UsageError
from winequality.records import ALIAS, CompareOptions, Comparison, ModelScores, RunRecord
from winequality.settings import DATA_FILE
from winequality.workflows.evaluation import TrainingWines
from winequality.workflows.ports import Resolver, Store, Tracker


@dataclass
class Candidate:
    """A model to compare: how the user named it, its run, and the reference to resolve."""

    label: str
    run: RunRecord
    model: Optional[str] = None
    """NAME/VERSION of a registered version; None for a run's own model."""


def _newest_finished(tracker: Tracker) -> RunRecord:
    runs = tracker.search_runs(
        "attributes.status = 'FINISHED'", order_by=["attributes.start_time DESC"], max_results=1
    )
    if not runs:
        raise NotFoundError("no finished run to compare; run `wineq train` first")
    return runs[0]


def candidate(resolver: Resolver, text: str) -> Candidate:
    """A run (id or prefix) or a registered version (NAME/VERSION, NAME@ALIAS, a number)."""
    from winequality.adapters.models import is_model_ref

    if is_model_ref(text):
        version = resolver.version(text, hint="see `wineq show` for the versions")
        if not version.run_id:
            raise NotFoundError(f"{version.label} names no run; it was not made by wineq")
        named = version.label if "@" not in text else f"{version.label} (@{text.split('@')[1]})"
        return Candidate(named, resolver.find_run(version.run_id), version.label)
    run = resolver.find_run(text)
    return Candidate(f"run {run.run_id[:8]}", run)


def candidates(tracker: Tracker, resolver: Resolver, refs: list[str]) -> list[Candidate]:
    """The models `refs` name; with none, the champion and the newest finished run."""
    if refs:
        found = [candidate(resolver, ref) for ref in refs]
    else:
        champion = candidate(resolver, f"@{ALIAS}")
        newest = _newest_finished(tracker)
        if newest.run_id == champion.run.run_id:
            raise UsageError(
                f"the newest finished run ({newest.run_id[:8]}) is the champion's; "
                "name the models to compare, e.g. wineq compare @champion RUN_ID"
            )
        found = [champion, Candidate(f"run {newest.run_id[:8]}", newest)]
    if len(found) < 2:
        raise UsageError("name at least two models to compare, e.g. wineq compare 1 2")
    if len({c.run.run_id for c in found}) < len(found):
        raise UsageError("two of the models named are the same run's; name different ones")
    return found


def _current_wines(store: Store, training: TrainingWines):
    from winequality.io.validation import load_training_frame

    stored = store.pull_data()
    with store.open_data() as handle:
        frame = load_training_frame(handle, DATA_FILE)
    training.know(stored.md5, frame)  # runs trained on it need not fetch it again
    return frame, f"data version {stored.md5[:8]} ({DATA_FILE}, the current one)"


def _file_wines(path: Path, options: CompareOptions, bucket: Optional[Callable] = None):
    import pandas as pd

    from winequality.io.formats import open_input
    from winequality.schema import TARGET

    with open_input(path, fmt=options.fmt, color=options.color, s3=bucket) as source:
        frames = [chunk.frame for chunk in source.chunks(options.color)]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if TARGET not in frame or not len(frame):
        raise DataError(
            f"{path} has no labelled wines (a quality column); compare needs the true "
            "quality of each wine"
        )
    return frame, str(path)


def _predictions(resolver: Resolver, chosen: Candidate, frame):
    """The model's quality and 80% interval for each wine (no interval: an older model)."""
    from winequality.domain import model as nn_model
    from winequality.domain.comparison import LEVEL
    from winequality.schema import DEFAULT_PREMIUM

    _, content = resolver.resolve(chosen.model, None if chosen.model else chosen.run.run_id)
    net = nn_model.from_bytes(content)
    inputs = nn_model.frame_inputs(frame)  # p_premium is not compared: any level will do
    return nn_model.predict_with_intervals(net, inputs, LEVEL, DEFAULT_PREMIUM)


def _scored(cands: list[Candidate], found: list, frame, trained: list[int]) -> list[ModelScores]:
    from winequality.domain import comparison
    from winequality.schema import COLOR, TARGET

    quality = frame[TARGET].to_numpy(dtype=float)
    colours = frame[COLOR].astype(str).to_numpy()
    models = []
    for i, (c, p) in enumerate(zip(cands, found, strict=True)):
        by_colour = comparison.scores_by_colour(colours, quality, p.quality, p.low, p.high)
        difference = verdict = None
        if i:
            d = comparison.paired_difference(quality, found[0].quality, p.quality)
            difference, verdict = d.as_dict(), d.verdict(c.label, cands[0].label)
        models.append(
            ModelScores(
                c.label,
                c.run.run_id,
                c.run.lineage.get("model_md5", ""),
                {k: s.as_dict() for k, s in by_colour.items()},
                trained[i],
                difference,
                verdict,
            )
        )
    return models


def compare(
    tracker: Tracker,
    store: Store,
    resolver: Resolver,
    refs: list[str],
    options: Optional[CompareOptions] = None,
    bucket: Optional[Callable] = None,
) -> Comparison:
    """Score the models `refs` name on the same wines, each against the first; recorded
    in MLflow unless `options.record` is off."""
    import numpy as np

    options = options or CompareOptions()
    cands = candidates(tracker, resolver, refs)
    training = TrainingWines(store)
    if options.data is not None:
        frame, source = _file_wines(options.data, options, bucket)
    else:
        frame, source = _current_wines(store, training)
    masks = [training.mask(c.run, frame) for c in cands]
    seen = np.logical_or.reduce(masks)
    keep = np.ones(len(frame), dtype=bool) if options.include_trained else ~seen
    if not keep.any():
        raise NoSharedWines(_none_left(cands, source, len(frame)))
    wines = frame[keep].reset_index(drop=True)
    found = [_predictions(resolver, c, wines) for c in cands]
    result = Comparison(
        wines=len(wines),
        source=source,
        offered=len(frame),
        excluded=int((~keep).sum()),
        models=_scored(cands, found, wines, [int(m.sum()) for m in masks]),
        notes=list(dict.fromkeys(training.notes)),
    )
    if not options.record:
        return result
    return _record(tracker, result, cands, wines, found)


def _none_left(cands: list[Candidate], source: str, offered: int) -> str:
    names = ", ".join(c.label for c in cands)
    return (
        f"all {offered} wines of {source} were trained on by at least one of {names}; "
        "compare on new labelled wines with --data FILE (or keep them with --include-trained)"
    )


def _digest(wines) -> str:
    """The wines' identity: the same wines give the same digest, in any order."""
    import hashlib

    import numpy as np

    from winequality.domain.splits import wine_keys
    from winequality.schema import TARGET

    keys = wine_keys(wines)
    order = np.argsort(keys, kind="stable")
    labels = wines[TARGET].to_numpy(dtype=np.float64)[order]
    return hashlib.blake2b(keys[order].tobytes() + labels.tobytes(), digest_size=8).hexdigest()


def _record(tracker: Tracker, result: Comparison, cands, wines, found) -> Comparison:
    """The comparison as a run of the experiment's comparisons in MLflow, each model's
    scores also on its logged model, against the wines as a dataset."""
    from dataclasses import replace

    from winequality.domain.comparison import plot_paired_errors
    from winequality.schema import COLOR, TARGET

    quality = wines[TARGET].to_numpy(dtype=float)
    table = wines[[COLOR, TARGET]].copy()
    for c, p in zip(cands, found, strict=True):
        table[c.label] = p.quality
    with tempfile.TemporaryDirectory(prefix="wineq-compare-") as folder:
        plot = plot_paired_errors(
            quality,
            {c.label: p.quality for c, p in zip(cands, found, strict=True)},
            Path(folder) / "paired_errors.png",
        )
        model_ids = [c.run.lineage.get("mlflow_model_id") for c in cands]
        try:
            run_id, url = tracker.record_comparison(result, table, plot, model_ids, _digest(wines))
        except AccessDenied as exc:  # the numbers stand; only their record is refused
            return replace(result, notes=[*result.notes, f"not recorded in MLflow: {exc}"])
    return replace(result, recorded=run_id, ui_url=url)
