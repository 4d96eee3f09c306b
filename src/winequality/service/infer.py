"""Workflow: predict a file of wines with exactly the bytes of a registered model.

Where the model is looked up is the caller's choice (`lookup`): `"process"` runs the
MLflow query and DVC fetch in a short-lived child process while torch and pandas load
here (what `wineq infer` does: the two overlap, and MLflow's and DVC's memory is gone
before the first wine is read); `"here"` resolves in this process, for callers that hold
MLflow and DVC already. Both go through `resolve.ModelResolver`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Optional, TextIO, Union

from winequality.errors import DataError, UsageError
from winequality.files import atomic_file, binary_sink
from winequality.records import InferResult, ModelSource
from winequality.resolve import parse_model_ref
from winequality.schema import COLORS, PREDICTION, TARGET, open_wines
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


def _with_column(lines: list[bytes], values, sep: str) -> bytes:
    """The lines, each ending in `sep` and its value to 4 decimals, newline-terminated."""
    column = [f"{sep}{v:.4f}\n".encode() for v in values.tolist()]
    return b"".join(line + value for line, value in zip(lines, column, strict=True))


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
) -> InferResult:
    """Predict quality for every wine in `wines` (a path or a binary stream).

    `resolver()` gives the ModelResolver, built only when the lookup runs here. The
    input's header is checked before any model is looked up. With `output`, the input
    lines plus a prediction column go to that file atomically; with `stream`, to the
    stream; with neither, the result's frame holds the wines and predictions: all of
    them, or the first `keep` (memory stays flat however long the file is).
    `on_chunk(rows, bytes_read)` is called after each chunk, for progress.
    """
    if lookup not in LOOKUPS:
        raise UsageError(f"lookup {lookup!r}: use one of {', '.join(LOOKUPS)}")
    if color is not None and color not in COLORS:
        raise UsageError(f"--color {color!r}: use red or white")
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

        import numpy as np
        import pandas as pd

        from winequality.data import read_wine_chunks

        chunks = read_wine_chunks(source, color=color)

        def predict_all(sink) -> tuple[int, float, float, bool, list]:
            rows, sq, ab, labelled, collected = 0, 0.0, 0.0, True, []
            for chunk in chunks:
                frame = chunk.frame
                predicted = nn_model.predict(net, nn_model.frame_inputs(frame))
                if TARGET in frame:
                    error = predicted - frame[TARGET].to_numpy(dtype=np.float64)
                    sq += float(np.sum(error**2))
                    ab += float(np.sum(np.abs(error)))
                else:
                    labelled = False
                if sink is not None:
                    if rows == 0:
                        sink.write(source.prediction_header() + b"\n")
                    sink.write(_with_column(chunk.lines, predicted, source.sep))
                elif keep is None or rows < keep:
                    frame[PREDICTION] = np.round(predicted, 4)
                    collected.append(frame if keep is None else frame.iloc[: keep - rows])
                rows += len(frame)
                if on_chunk is not None:
                    on_chunk(rows, chunk.offset)
            return rows, sq, ab, labelled, collected

        if output is not None:
            with atomic_file(output) as sink:
                rows, sq, ab, labelled, collected = predict_all(sink)
        elif stream is not None:
            sink = binary_sink(stream)
            rows, sq, ab, labelled, collected = predict_all(sink)
            sink.flush()
        else:
            rows, sq, ab, labelled, collected = predict_all(None)
    metrics = {"rmse": (sq / rows) ** 0.5, "mae": ab / rows} if labelled and rows else None
    frame = pd.concat(collected, ignore_index=True) if collected else None
    return InferResult(chosen, rows, metrics, output, frame)
