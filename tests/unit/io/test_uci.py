"""The UCI import (io/uci.py): the combined CSV keeps the published text."""

from __future__ import annotations

from winequality.io import uci


def test_the_csv_keeps_the_uci_text_byte_for_byte(uci_source):
    source, spec = uci_source
    raw = uci.read_source(str(source), spec)
    content = uci.build_csv(raw).decode()
    red_lines = (source / spec["red"].name).read_text().splitlines()[1:]
    assert content.splitlines()[1] == red_lines[0] + ";red"
    assert uci.build_csv(raw) == uci.build_csv(dict(raw))
