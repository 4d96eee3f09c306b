"""Wine CSV streams (io/wines.py): the header checked first, chunks that count every byte."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from winequality.errors import DataError
from winequality.io.wines import open_wines, read_wine_chunks
from winequality.schema import FEATURES

HEADER = ";".join(f'"{name}"' for name in FEATURES)
ROW = "7.4;0.7;0;1.9;0.076;11;34;0.9978;3.51;0.56;9.4"  # a real red wine


def _wines(header: str, rows: list[str]) -> io.BytesIO:
    return io.BytesIO(("\n".join([header, *rows]) + "\n").encode())


def test_the_prediction_column_is_quoted_as_the_input_header_is():
    with open_wines(_wines(HEADER + ';"color"', [ROW + ";red"])) as wines:
        assert wines.prediction_header().endswith(b';"color";"predicted_quality"')
    plain = ",".join(FEATURES)
    with open_wines(_wines(plain, [ROW.replace(";", ",")]), color="red") as wines:
        assert wines.prediction_header() == (plain + ",predicted_quality").encode()


def test_a_header_is_checked_before_any_row_is_read():
    with pytest.raises(DataError, match="^<stdin> has no 'color' column"):
        open_wines(_wines(HEADER, [ROW]))
    with pytest.raises(DataError, match="^<stdin>: missing column 'alcohol'"):
        open_wines(_wines(HEADER.rsplit(";", 1)[0] + ';"color"', [ROW]))
    with pytest.raises(DataError, match="^<stdin> is empty"):
        open_wines(io.BytesIO(b""))


def test_chunks_of_a_stream_count_every_byte():
    rows = [ROW + ";white"] * 50
    stream = _wines(HEADER + ';"color"', rows)
    size = len(stream.getvalue())
    with open_wines(stream) as wines:
        chunks = list(read_wine_chunks(wines, chunk_bytes=1000))
    assert len(chunks) > 1 and chunks[-1].offset == size
    assert sum(len(c.frame) for c in chunks) == 50
    assert all((c.frame["color"] == "white").all() for c in chunks)


def test_a_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        open_wines(Path(tmp_path / "nope.csv"))
