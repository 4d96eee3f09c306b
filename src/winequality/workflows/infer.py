"""Workflow: predict a file of wines with exactly the bytes of a registered model.

Where the model is looked up is the caller's choice (`lookup`): `"process"` runs the
MLflow query and DVC fetch in a short-lived child process while torch and pandas load
here (what `wineq infer` does: the two overlap, and MLflow's and DVC's memory is gone
before the first wine is read); `"here"` resolves in this process, for callers that hold
MLflow and DVC already. Both go through `resolve.ModelResolver`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Optional, TextIO, Union

from winequality.adapters.models import parse_model_ref
from winequality.errors import ConfigError, DataError, UsageError
from winequality.io.atomic import OutputError, binary_sink, why_not_written
from winequality.records import InferResult, ModelSource
from winequality.schema import (
    COLORS,
    P_PREMIUM,
    PREDICTION,
    QUALITY_HIGH,
    QUALITY_LOW,
    TARGET,
    UNCERTAINTY,
    checked_level,
    checked_premium,
    id_columns,
    positions,
)
from winequality.settings import Settings

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
    *,
    model: Optional[str] = None,
    run_id: Optional[str] = None,
    color: Optional[str] = None,
    output: Optional[Union[Path, str]] = None,
    stream: Optional[Union[TextIO, BinaryIO]] = None,
    on_chunk: Optional[Callable[[int, int], None]] = None,
    keep: Optional[int] = None,
    lookup: str = "here",
    interval: Optional[float] = None,
    premium: Optional[int] = None,
    fmt: Optional[str] = None,
    decimal: Optional[str] = None,
    sheet: Optional[str] = None,
    output_format: Optional[str] = None,
) -> InferResult:
    """Predict quality for every wine in `wines`: a path, an s3:// or http(s):// address,
    or a binary stream; CSV (compressed or not), Parquet or Excel (`fmt`, else by name).

    `resolver()` gives the ModelResolver, built only when the lookup runs here. The
    input's header is checked before any model is looked up. With `output` (a path or an
    s3:// address; its format by name or `output_format`), the input's rows plus the
    prediction columns go there atomically; with `stream`, to the stream as CSV; with
    neither, the result's frame holds the wines and predictions: all of them, or the first
    `keep` (memory stays flat however long the file is). Columns that are not model
    inputs pass through. `on_chunk(rows, bytes_read)` is called after each chunk.

    A calibrated model also gives each wine its interval at level `interval` and
    P(quality ≥ `premium`) (defaults: the settings'); an older model, the quality alone.
    """
    if lookup not in LOOKUPS:
        raise UsageError(f"lookup {lookup!r}: use one of {', '.join(LOOKUPS)}")
    if color is not None and color not in COLORS:
        raise UsageError(f"--color {color!r}: use red or white")
    # named as the user gave them: a flag, or a setting (environment or .env)
    level_source = "--interval" if interval is not None else "setting WINEQ_INTERVAL"
    level = checked_level(settings.interval if interval is None else interval)
    premium = checked_premium(settings.premium if premium is None else premium)
    if model is not None and not run_id:
        parse_model_ref(model, settings.model_name)  # a malformed reference fails here, at once
    from winequality.io.formats import open_input, open_output, writer_for
    from winequality.io.formats import output_format as format_of_output

    if output is not None:
        format_of_output(output, output_format)  # a wrong --output-format fails before any work
    elif output_format is not None:
        raise UsageError("--output-format is for --output; standard output is always CSV")
    s3 = functools.partial(_bucket, settings)
    # a wrong header fails here, before any lookup
    with open_input(wines, fmt=fmt, color=color, decimal=decimal, sheet=sheet, s3=s3) as source:
        taken = [str(c) for c in source.columns if str(c).strip() in (PREDICTION, *UNCERTAINTY)]
        if taken:
            raise DataError(
                f"{source.name} already has a {taken[0]!r} column (an output of wineq infer?); "
                "give the wines without the earlier predictions, or drop that column"
            )
        pending = _start_lookup(lookup, settings, resolver, model, run_id)
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
            error = UsageError if interval is not None else ConfigError
            try:
                calibration.half_width(level)  # refuses, naming the highest level it can give
            except ValueError as exc:
                raise error(f"{level_source} for {chosen.label}: {exc}") from None
        columns = (PREDICTION, *UNCERTAINTY) if calibration is not None else (PREDICTION,)

        import numpy as np
        import pandas as pd

        chunks = source.chunks(color)
        _, _, kept = positions(source.columns, source.mapping)
        passthrough = [source.columns[i] for i in kept]

        def predict_all(sink) -> tuple[int, float, float, bool, list]:
            rows, sq, ab, labelled, collected = 0, 0.0, 0.0, True, []
            for chunk in chunks:
                frame = chunk.frame
                found = nn_model.predict_with_intervals(
                    net, nn_model.frame_inputs(frame), level, premium
                )
                predicted = found.quality
                if TARGET in frame:
                    error = predicted - frame[TARGET].to_numpy(dtype=np.float64)
                    sq += float(np.sum(error**2))
                    ab += float(np.sum(np.abs(error)))
                else:
                    labelled = False
                if sink is not None:
                    sink.write(chunk, found)
                elif keep is None or rows < keep:
                    if kept:
                        passing = chunk.as_input().iloc[:, kept].set_axis(passthrough, axis=1)
                        frame = pd.concat([passing.reset_index(drop=True), frame], axis=1)
                    frame[PREDICTION] = np.round(predicted, 4)
                    if found.low is not None:
                        frame[QUALITY_LOW] = np.round(found.low, 2)
                        frame[QUALITY_HIGH] = np.round(found.high, 2)
                        frame[P_PREMIUM] = np.round(found.p_premium, 3)
                    collected.append(frame if keep is None else frame.iloc[: keep - rows])
                rows += len(frame)
                if on_chunk is not None:
                    on_chunk(rows, chunk.offset)
            return rows, sq, ab, labelled, collected

        if output is not None:
            with open_output(output, source, columns, fmt=output_format, s3=s3) as writer:
                rows, sq, ab, labelled, collected = predict_all(writer)
        elif stream is not None:
            sink = _StdoutSink(binary_sink(stream))
            writer = writer_for("csv", sink, source, columns, "standard output")
            rows, sq, ab, labelled, collected = predict_all(writer)
            writer.close()
            sink.flush()
        else:
            rows, sq, ab, labelled, collected = predict_all(None)
    metrics = {"rmse": (sq / rows) ** 0.5, "mae": ab / rows} if labelled and rows else None
    frame = pd.concat(collected, ignore_index=True) if collected else None
    calibrated = calibration is not None
    return InferResult(
        chosen,
        rows,
        metrics,
        output,
        frame,
        interval=level if calibrated else None,
        premium=premium if calibrated else None,
        passthrough=[str(c) for c in passthrough],
        id_columns=[str(c) for c in id_columns(passthrough)],
    )


def _bucket(settings: Settings, url: str):
    """The filesystem of an s3:// address, with the credentials of the project's DVC remote
    on that bucket (or its default S3 remote), else AWS's own (AWS_* variables, ~/.aws)."""
    from winequality.adapters.dvc import ModelStore

    return ModelStore.from_settings(settings).bucket_filesystem(url)
