"""Atomic files (io/atomic.py): all or nothing, one line when they cannot be written."""

from __future__ import annotations

import io

import pytest

from winequality.errors import DataError
from winequality.io.atomic import atomic_file, binary_sink


def test_an_atomic_file_is_all_or_nothing(tmp_path):
    target = tmp_path / "out" / "predictions.csv"
    with atomic_file(target) as handle:
        handle.write(b"first\n")
    assert target.read_bytes() == b"first\n"
    with pytest.raises(RuntimeError):
        with atomic_file(target) as handle:
            handle.write(b"half")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == b"first\n"
    assert [p.name for p in target.parent.iterdir()] == ["predictions.csv"]


def test_an_unwritable_output_is_a_one_line_error(tmp_path):
    (tmp_path / "taken").mkdir()
    for target in (tmp_path / "taken", tmp_path / "file.csv" / "below.csv"):
        if target.parent.name == "file.csv":
            target.parent.write_text("a file, not a folder")
        with pytest.raises(DataError, match=f"^cannot write {target}: .*; pick another place"):
            with atomic_file(target) as handle:
                handle.write(b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.csv", "taken"]


def test_a_binary_sink_keeps_text_streams_in_order():
    text = io.StringIO()
    text.write("before\n")
    binary_sink(text).write(b"after\n")
    assert text.getvalue() == "before\nafter\n"
    raw = io.BytesIO()
    assert binary_sink(raw) is raw
