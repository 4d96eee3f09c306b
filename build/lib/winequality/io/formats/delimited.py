"""CSV wine files: UCI's `;` with decimal points or commas, or plain `,`; written back as
each input line, unchanged, plus the prediction columns in the file's own convention."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Optional

from winequality.io.formats.base import OpenFile
from winequality.io.formats.rounding import prediction_numbers, steps
from winequality.io.wines import WineInput, open_wines


class CsvReader(OpenFile):
    """A CSV of wines whose header has been checked."""

    format = "csv"

    def __init__(self, wines: WineInput):
        self.wines = wines
        self.closing = (wines,)
        self.name = wines.name
        self.columns = wines.columns
        self.mapping = wines.mapping

    @classmethod
    def open(cls, source, color: Optional[str], decimal: Optional[str]) -> CsvReader:
        return cls(open_wines(source, color, decimal=decimal))

    def chunks(self, color: Optional[str], chunk_bytes: int = 2 << 20) -> Iterator:
        from winequality.io.wines import read_wine_chunks

        return read_wine_chunks(self.wines, color=color, chunk_bytes=chunk_bytes)


class CsvWriter:
    """The input's rows plus the prediction columns, as CSV: a CSV input's lines byte for
    byte with its separator and decimal mark; another format's rows as plain CSV."""

    def __init__(self, sink, reader, columns: tuple[str, ...]):
        self.sink, self.reader, self.columns = sink, reader, columns
        self.started = False
        self.decimal = "."

    def write(self, chunk, found) -> None:
        if isinstance(self.reader, CsvReader):
            wines = self.reader.wines
            if not self.started:
                self.sink.write(wines.prediction_header(self.columns) + b"\n")
                # the mark of the file as far as it is known now, kept to the end: a file
                # whose first rows are whole numbers gets one convention, not two
                self.decimal = wines.decimal or "."
            self.sink.write(with_columns(chunk.lines, found, wines.sep, self.decimal))
        else:
            frame = chunk.as_input().copy()
            for column, values in prediction_numbers(found, self.columns).items():
                frame[column] = values
            text = frame.to_csv(index=False, header=not self.started, lineterminator="\n")
            self.sink.write(text.encode())
        self.started = True

    def close(self) -> None:
        if not self.started:  # no wines: the header alone still says what the file holds
            self.sink.write(",".join(self.columns).encode() + b"\n")


def with_columns(lines: list[bytes], predicted, sep: str, decimal: str = ".") -> bytes:
    """The lines, each followed by its predictions, newline-terminated: the quality to 4
    decimals, then (a calibrated model's) interval to 2 and p_premium to 3, then (a model
    with a summary of its training wines) the unusual flag, True or False."""
    if predicted.unusual is None:
        ends = ["\n"] * len(lines)
    else:
        flags = (f"{sep}False\n", f"{sep}True\n")
        ends = [flags[flag] for flag in predicted.unusual.tolist()]
    if predicted.low is None:
        added = [
            f"{sep}{q:.4f}{end}" for q, end in zip(predicted.quality.tolist(), ends, strict=True)
        ]
    else:
        # Bounds lie in 0-10 and p_premium in 0-1, so each of their values is one of 1,001
        # strings: looked up, not formatted (twice as fast on 1M wines), and rounded as
        # numpy rounds (np.round), as the MLflow Model's output is.
        hundredths, thousandths = _fixed_point(sep, decimal)

        def positions(values, scale: int) -> list[int]:
            return steps(values, scale).tolist()  # NaN: the table's last entry, "nan"

        added = [
            f"{sep}{q:.4f}{hundredths[lo]}{hundredths[hi]}{thousandths[p]}{end}"
            for q, lo, hi, p, end in zip(
                predicted.quality.tolist(),
                positions(predicted.low, 100),
                positions(predicted.high, 100),
                positions(predicted.p_premium, 1000),
                ends,
                strict=True,
            )
        ]
    if decimal == ",":
        # only the quality was formatted; the looked-up columns are in the comma's form already
        added = [value.replace(".", ",", 1) for value in added]
    return b"".join(line + value.encode() for line, value in zip(lines, added, strict=True))


@functools.cache
def _fixed_point(sep: str, decimal: str = ".") -> tuple[list[str], list[str]]:
    """`sep` + each of 0.00-10.00, and `sep` + each of 0.000-1.000; then nan."""
    return (
        [*(f"{sep}{i // 100}{decimal}{i % 100:02d}" for i in range(1001)), f"{sep}nan"],
        [*(f"{sep}{i // 1000}{decimal}{i % 1000:03d}" for i in range(1001)), f"{sep}nan"],
    )
