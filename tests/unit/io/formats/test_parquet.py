"""Parquet wine files (io/formats/parquet.py), read through `open_input` from small files
written with pyarrow: columns mapped, float32 read as the decimal it stands for, chunks
that count rows across batches, and one line for each bad file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.support.project import FIRST_RED
from winequality.errors import DataError
from winequality.io.formats import open_input
from winequality.schema import FEATURES

# as a data team's export names them: another case, underscores, an ID and a note
SPELLED = {name: name.replace(" ", "_").title() for name in FEATURES}


def wines(n: int = 5) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            SPELLED[f]: [v + i / 1000 for i in range(n)]
            for f, v in zip(FEATURES, FIRST_RED, strict=True)
        }
    )
    frame.insert(0, "sample_id", [f"S-{i}" for i in range(n)])
    frame.insert(4, "note", ["barrel"] * n)
    frame["Colour"] = ["Red", "white"] * (n // 2) + ["red"] * (n % 2)
    return frame


def write(path, frame: pd.DataFrame, **options):
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, **options)
    return path


def read(path, color=None, **chunking):
    with open_input(path) as reader:
        return reader, list(reader.chunks(color, **chunking))


def test_columns_map_to_the_canonical_names_and_the_rest_pass_through(tmp_path):
    frame = wines()
    reader, chunks = read(write(tmp_path / "lab.parquet", frame))
    assert reader.format == "parquet" and reader.columns == list(frame.columns)
    assert reader.mapping == {**{SPELLED[f]: f for f in FEATURES}, "Colour": "color"}
    [chunk] = chunks
    assert list(chunk.frame.columns) == FEATURES + ["color"]
    assert chunk.frame["color"].tolist() == ["red", "white", "red", "white", "red"]
    assert chunk.frame["alcohol"].tolist() == pytest.approx([9.4, 9.401, 9.402, 9.403, 9.404])
    assert chunk.as_input()["sample_id"].tolist() == frame["sample_id"].tolist()
    assert chunk.as_input()["note"].tolist() == ["barrel"] * 5


def test_float32_features_are_read_as_the_decimals_they_were_written_for(tmp_path):
    frame = wines().astype({SPELLED[f]: "float32" for f in FEATURES})
    [chunk] = read(write(tmp_path / "narrow.parquet", frame))[1]
    assert np.float64(np.float32(7.4)) != 7.4  # what a plain cast would give
    assert chunk.frame["fixed acidity"].dtype == "float64"
    assert chunk.frame["fixed acidity"].tolist()[0] == 7.4
    assert chunk.frame["density"].tolist()[0] == 0.9978


def test_chunks_follow_the_batches_and_count_rows_across_them(tmp_path):
    frame = wines(7)
    frame.loc[5, SPELLED["alcohol"]] = np.nan  # the 6th wine, in the third batch of two
    path = write(tmp_path / "groups.parquet", frame, row_group_size=2)
    with open_input(path) as reader:
        chunks = reader.chunks(None, batch_rows=2)
        first, second = next(chunks), next(chunks)
        assert [len(first.frame), len(second.frame)] == [2, 2]
        assert 0 < first.offset < second.offset
        with pytest.raises(DataError) as bad:
            next(chunks)
    assert str(bad.value) == f"{path}: column 'alcohol', row 6 is empty"


def test_a_text_value_in_a_feature_names_its_row_and_column(tmp_path):
    frame = wines(9)
    frame[SPELLED["alcohol"]] = frame[SPELLED["alcohol"]].astype(str)
    frame.loc[7, SPELLED["alcohol"]] = "n/a"
    path = write(tmp_path / "text.parquet", frame)
    with pytest.raises(DataError) as bad:
        read(path)
    assert str(bad.value) == f"{path}: column 'alcohol', row 8 has 'n/a', not a number"
    assert len(str(bad.value).splitlines()) == 1


def test_a_missing_feature_is_refused_before_any_row_is_read(tmp_path):
    path = write(tmp_path / "short.parquet", wines().drop(columns=[SPELLED["alcohol"]]))
    with pytest.raises(DataError) as bad:
        open_input(path)
    assert str(bad.value) == f"{path}: missing column 'alcohol' (needs all 11 UCI features)"


def test_a_schema_without_wines_is_one_line(tmp_path):
    path = write(tmp_path / "empty.parquet", wines().iloc[:0])
    with pytest.raises(DataError) as bad:
        read(path)
    assert str(bad.value) == f"{path} has a schema but no wines; give at least one row"


def test_a_cut_file_is_not_a_readable_parquet_file(tmp_path):
    whole = write(tmp_path / "whole.parquet", wines())
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(whole.read_bytes()[:300])
    with pytest.raises(DataError) as bad:
        open_input(cut)
    message = str(bad.value)
    assert message.startswith(f"{cut} is not a readable Parquet file (")
    assert message.endswith("); fetch an intact copy") and len(message.splitlines()) == 1
