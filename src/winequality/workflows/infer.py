"""Workflow: predict a file of wines with exactly the bytes of a registered model.

Where the model is looked up is the caller's choice (`lookup`): `"process"` runs the
MLflow query and DVC fetch in a short-lived child process while torch and pandas load
here (what `wineq infer` does: the two overlap, and MLflow's and DVC's memory is gone
before the first wine is read); `"here"` resolves in this process, for callers that hold
MLflow and DVC already. Both go through `adapters.models.ModelResolver`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Optional, Union

from winequality.adapters.models import parse_model_ref
from winequality.errors import ConfigError, DataError, UsageError, WineqError
from winequality.io.atomic import OutputError, binary_sink, why_not_written
from winequality.records import InferOptions, InferResult, ModelSource
from winequality.schema import (
    COLORS,
    OUTPUTS,
    PREDICTION,
    TARGET,
    UNCERTAINTY,
    UNUSUAL,
    checked_level,
    checked_premium,
    id_columns,
    positions,
)
from winequality.settings import Settings
from winequality.workflows.trust import TrustTally

LOOKUPS = ("process", "here")


class _LookupHere:
    """The same interface as lookup.ModelLookup, resolving in this process when asked."""

    def __init__(self, resolver, model: Optional[str], run_id: Optional[str]):
        self._resolve = lambda: resolver.resolve(model, run_id)

    def result(self) -> tuple[ModelSource, bytes]:
        return self._resolve()

    def close(self) -> None:
        pass


def _start_lookup(lookup: str, settings: Settings, resolver: Callable, model, run_id):
    if lookup == "process":
        from winequality.adapters.lookup_process import ModelLookup

        return ModelLookup.start(settings, model, run_id)
    return _LookupHere(resolver(), model, run_id)


class _StdoutSink:
    """Standard output whose write errors (a redirect to a full disk) are one line; a
    closed pipe stays a BrokenPipeError, which the CLI ends quietly."""

    def __init__(self, sink):
        self.sink = sink

    def _guarded(self, call, *args):
        try:
            return call(*args)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(
                f"cannot write the predictions to standard output: {why_not_written(exc)}"
            ) from exc

    def write(self, data: bytes) -> None:
        self._guarded(self.sink.write, data)

    def flush(self) -> None:
        self._guarded(self.sink.flush)


def infer(
    settings: Settings,
    resolver: Callable,
    wines: Union[Path, str, BinaryIO],
    options: InferOptions,
    bucket: Optional[Callable[[str], object]] = None,
) -> InferResult:
    """Predict quality for every wine in `wines`: a path, an s3:// or http(s):// address,
    or a binary stream; CSV (compressed or not), Parquet or Excel (`options.fmt`, else by
    name).

    `resolver()` gives the ModelResolver, built only when the lookup runs here; `bucket(url)`
    the filesystem of an s3:// address. The input's header is checked before any model is
    looked up. With `options.output` (a path or an s3:// address), the input's rows plus the
    prediction columns go there atomically; with `options.stream`, to the stream as CSV;
    with neither, the result's frame holds the wines and predictions: all of them, or the
    first `options.keep` (memory stays flat however long the file is). Columns that are not
    model inputs pass through. `options.on_chunk(rows, bytes_read)` follows each chunk.

    A calibrated model also gives each wine its interval at level `options.interval` and
    P(quality ≥ `options.premium`) (defaults: the settings'); an older model, the quality
    alone.
    """
    level, premium = _checked(settings, options)
    from winequality.io.formats import open_input

    o = options
    with open_input(
        wines, fmt=o.fmt, color=o.color, decimal=o.decimal, sheet=o.sheet, s3=bucket
    ) as source:  # a wrong header fails here, before any lookup
        _refuse_earlier_output(source)
        chosen, net = _load_model(settings, resolver, options, level)
        calibrated = net.calibration is not None
        columns = _columns(net)
        tally = _Tally(source, options.keep, _Trained(resolver, chosen))
        trust = TrustTally(net, chosen, options.report)
        predict = functools.partial(
            _predict_all, net, source, options, (level, premium), (tally, trust)
        )
        _write(predict, source, columns, options, bucket)
        reports: tuple[str, ...] = ()
        if options.report is not None:
            reports = trust.write_report(options.report, chosen, source.name)
    return InferResult(
        chosen,
        tally.rows,
        tally.metrics(),
        options.output,
        tally.frame(),
        interval=level if calibrated else None,
        premium=premium if calibrated else None,
        passthrough=[str(c) for c in tally.passthrough],
        id_columns=[str(c) for c in id_columns(tally.passthrough)],
        trust=trust.result(chosen, reports),
    )


def _columns(net) -> tuple[str, ...]:
    """The output columns `net` gives: the quality; the interval and p_premium where it is
    calibrated; the unusual flag where it keeps a summary of its training wines."""
    calibrated = (*UNCERTAINTY,) if net.calibration is not None else ()
    familiar = (UNUSUAL,) if net.summary is not None else ()
    return (PREDICTION, *calibrated, *familiar)


def _checked(settings: Settings, options: InferOptions) -> tuple[float, int]:
    """The options refused before any file is opened; the interval level and premium."""
    from winequality.io.formats import output_format as format_of_output

    if options.lookup not in LOOKUPS:
        raise UsageError(f"lookup {options.lookup!r}: use one of {', '.join(LOOKUPS)}")
    if options.color is not None and options.color not in COLORS:
        raise UsageError(f"--color {options.color!r}: use {' or '.join(COLORS)}")
    interval, premium = options.interval, options.premium
    level = checked_level(settings.interval if interval is None else interval)
    premium = checked_premium(settings.premium if premium is None else premium)
    if options.model is not None and not options.run_id:
        parse_model_ref(options.model, settings.model_name)  # a malformed one fails at once
    if options.output is not None:  # a wrong --output-format fails before any work
        format_of_output(options.output, options.output_format)
    elif options.output_format is not None:
        raise UsageError("--output-format is for --output; standard output is always CSV")
    return level, premium


def _refuse_earlier_output(source) -> None:
    """An earlier output of wineq infer given as input is refused before any lookup."""
    taken = [str(c) for c in source.columns if str(c).strip() in OUTPUTS]
    if taken:
        raise DataError(
            f"{source.name} already has a {taken[0]!r} column (an output of wineq infer?); "
            "give the wines without the earlier predictions, or drop that column"
        )


def _load_model(settings: Settings, resolver: Callable, options: InferOptions, level: float):
    """The chosen model's source and its network, checked to give intervals at `level`."""
    pending = _start_lookup(options.lookup, settings, resolver, options.model, options.run_id)
    try:
        from winequality.domain import model as nn_model  # torch loads while the child works

        chosen, content = pending.result()
    finally:
        pending.close()  # the child and its memory are gone before pandas loads
    try:
        net = nn_model.from_bytes(content)
    except ValueError as exc:
        raise DataError(f"{chosen.label}: {exc}") from exc
    calibration = net.calibration
    if calibration is not None and not calibration.supports(level):
        # named as the user gave it: a flag, or a setting (environment or .env)
        given = options.interval is not None
        error = UsageError if given else ConfigError
        where = "--interval" if given else "setting WINEQ_INTERVAL"
        try:
            calibration.half_width(level)  # refuses, naming the highest level it can give
        except ValueError as exc:
            raise error(f"{where} for {chosen.label}: {exc}") from None
    return chosen, net


class _Trained:
    """Which wines of a labelled input the model trained on, from its run's data version
    and split (`workflows.evaluation`), looked up at the first labelled chunk."""

    def __init__(self, resolver: Callable, chosen: ModelSource):
        self.resolver, self.chosen = resolver, chosen
        self.index = None
        self.unknown: Optional[str] = None if chosen.run_id else "the model names no run"

    def mask(self, frame):
        """Per row, whether the model trained on the wine; None when that is unknown."""
        from winequality.workflows.evaluation import TrainingWines, wine_index

        if self.unknown is not None:
            return None
        if self.index is None:
            try:
                resolver = self.resolver()
                resolver.knows(self.chosen)
                run = resolver.find_run(self.chosen.run_id)
                self.index = TrainingWines(resolver.store).trained(run)
            except WineqError as exc:
                self.unknown = str(exc)
                return None
        return wine_index(frame).isin(self.index)


class _Tally:
    """What the chunks added up to: rows, errors against a quality column (apart for the
    wines the model trained on), the kept frame."""

    def __init__(self, source, keep: Optional[int], trained: _Trained):
        _, _, self.kept = positions(source.columns, source.mapping)
        self.passthrough = [source.columns[i] for i in self.kept]
        self.keep, self.trained = keep, trained
        self.rows, self.sq, self.ab, self.labelled = 0, 0.0, 0.0, True
        self.unseen = [0, 0.0, 0.0]  # wines the model did not train on: count, sq, abs
        self.collected: list = []

    def score(self, frame, predicted) -> None:
        import numpy as np

        if TARGET not in frame:
            self.labelled = False
            return
        error = predicted - frame[TARGET].to_numpy(dtype=np.float64)
        self.sq += float(np.sum(error**2))
        self.ab += float(np.sum(np.abs(error)))
        seen = self.trained.mask(frame)
        if seen is not None:
            new = error[~seen]
            self.unseen[0] += len(new)
            self.unseen[1] += float(np.sum(new**2))
            self.unseen[2] += float(np.sum(np.abs(new)))

    def collect(self, chunk, found, columns) -> None:
        """The chunk's wines and predictions, while fewer than `keep` are kept."""
        if self.keep is not None and self.rows >= self.keep:
            return
        import pandas as pd

        from winequality.io.formats.rounding import prediction_numbers

        frame = chunk.frame
        if self.kept:
            passing = chunk.as_input().iloc[:, self.kept].set_axis(self.passthrough, axis=1)
            frame = pd.concat([passing.reset_index(drop=True), frame], axis=1)
        for column, values in prediction_numbers(found, columns).items():
            frame[column] = values
        self.collected.append(frame if self.keep is None else frame.iloc[: self.keep - self.rows])

    def metrics(self) -> Optional[dict[str, Any]]:
        """RMSE and MAE on all the wines; with `unseen` (how many the model did not train
        on) and `trained_on`, the same on the unseen wines; else `trained_unknown` (why)."""
        if not (self.labelled and self.rows):
            return None
        found: dict[str, Any] = {"rmse": (self.sq / self.rows) ** 0.5, "mae": self.ab / self.rows}
        if self.trained.unknown is not None:
            return found | {"trained_unknown": self.trained.unknown}
        n, sq, ab = self.unseen
        found |= {"wines": self.rows, "unseen": n, "trained_on": self.rows - n}
        if n:
            found |= {"rmse_unseen": (sq / n) ** 0.5, "mae_unseen": ab / n}
        return found

    def frame(self):
        if not self.collected:
            return None
        import pandas as pd

        return pd.concat(self.collected, ignore_index=True)


def _predict_all(net, source, options: InferOptions, asked, tallies, sink) -> None:
    """Predict every chunk of `source` into `sink` (a format's writer) or the tally's frame;
    `asked` is (interval level, premium), `tallies` (_Tally, TrustTally)."""
    from winequality.domain import model as nn_model

    tally, trust = tallies
    for chunk in source.chunks(options.color):
        frame = chunk.frame
        inputs = nn_model.frame_inputs(frame)
        found = nn_model.predict_with_intervals(net, inputs, *asked)
        tally.score(frame, found.quality)
        trust.add(found, inputs, tally.rows)
        if sink is not None:
            sink.write(chunk, found)
        else:
            tally.collect(chunk, found, OUTPUTS)
        tally.rows += len(frame)
        if options.on_chunk is not None:
            options.on_chunk(tally.rows, chunk.offset)


def _write(predict: Callable, source, columns, options: InferOptions, bucket) -> None:
    """Run `predict` into the output file, standard output's stream, or no sink at all."""
    from winequality.io.formats import open_output, writer_for

    if options.output is not None:
        with open_output(
            options.output, source, columns, fmt=options.output_format, s3=bucket
        ) as writer:
            predict(writer)
    elif options.stream is not None:
        sink = _StdoutSink(binary_sink(options.stream))
        writer = writer_for("csv", sink, source, columns, "standard output")
        predict(writer)
        writer.close()
        sink.flush()
    else:
        predict(None)
