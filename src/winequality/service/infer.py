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

from winequality.errors import ConfigError, DataError, UsageError
from winequality.files import OutputError, atomic_file, binary_sink, why_not_written
from winequality.records import InferResult, ModelSource
from winequality.resolve import parse_model_ref
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
    open_wines,
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
        from winequality.lookup import ModelLookup

        return ModelLookup.start(settings, model, run_id)
    return _LookupHere(resolver(), model, run_id)


def _with_columns(lines: list[bytes], predicted, sep: str) -> bytes:
    """The lines, each followed by its predictions, newline-terminated: the quality to 4
    decimals, then (a calibrated model's) interval to 2 and p_premium to 3."""
    import numpy as np

    if predicted.low is None:
        added = [f"{sep}{q:.4f}\n" for q in predicted.quality.tolist()]
    else:
        # Bounds lie in 0-10 and p_premium in 0-1, so each of their values is one of 1,001
        # strings: looked up, not formatted (twice as fast on 1M wines), and rounded as
        # numpy rounds (np.round), as the MLflow Model's output is.
        hundredths, thousandths = _fixed_point(sep)

        def positions(values, scale: int) -> list[int]:
            # a value the model could not give (NaN) points at the table's last entry
            inside = np.isfinite(values) & (values >= 0) & (values <= 1000 / scale)
            return np.where(inside, np.rint(values * scale), 1001).astype(np.int64).tolist()

        added = [
            f"{sep}{q:.4f}{hundredths[lo]}{hundredths[hi]}{thousandths[p]}"
            for q, lo, hi, p in zip(
                predicted.quality.tolist(),
                positions(predicted.low, 100),
                positions(predicted.high, 100),
                positions(predicted.p_premium, 1000),
                strict=True,
            )
        ]
    return b"".join(line + value.encode() for line, value in zip(lines, added, strict=True))


@functools.cache
def _fixed_point(sep: str) -> tuple[list[str], list[str]]:
    """`sep` + each of 0.00-10.00, and `sep` + each of 0.000-1.000 + newline; then nan."""
    return (
        [*(f"{sep}{i // 100}.{i % 100:02d}" for i in range(1001)), f"{sep}nan"],
        [*(f"{sep}{i // 1000}.{i % 1000:03d}\n" for i in range(1001)), f"{sep}nan\n"],
    )


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
    wines: Union[Path, BinaryIO],
    *,
    model: Optional[str] = None,
    run_id: Optional[str] = None,
    color: Optional[str] = None,
    output: Optional[Path] = None,
    stream: Optional[Union[TextIO, BinaryIO]] = None,
    on_chunk: Optional[Callable[[int, int], None]] = None,
    keep: Optional[int] = None,
    lookup: str = "here",
    interval: Optional[float] = None,
    premium: Optional[int] = None,
) -> InferResult:
    """Predict quality for every wine in `wines` (a path or a binary stream).

    `resolver()` gives the ModelResolver, built only when the lookup runs here. The
    input's header is checked before any model is looked up. With `output`, the input
    lines plus a prediction column go to that file atomically; with `stream`, to the
    stream; with neither, the result's frame holds the wines and predictions: all of
    them, or the first `keep` (memory stays flat however long the file is).
    `on_chunk(rows, bytes_read)` is called after each chunk, for progress.

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
    with open_wines(wines, color) as source:  # a wrong header fails here, before any lookup
        pending = _start_lookup(lookup, settings, resolver, model, run_id)
        try:
            from winequality import model as nn_model  # torch loads while the child works

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

        from winequality.data import read_wine_chunks

        chunks = read_wine_chunks(source, color=color)

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
                    if rows == 0:
                        sink.write(source.prediction_header(columns) + b"\n")
                    sink.write(_with_columns(chunk.lines, found, source.sep))
                elif keep is None or rows < keep:
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
            with atomic_file(output) as sink:
                rows, sq, ab, labelled, collected = predict_all(sink)
        elif stream is not None:
            sink = _StdoutSink(binary_sink(stream))
            rows, sq, ab, labelled, collected = predict_all(sink)
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
    )
