"""Workflow: import the UCI files into the project's DVC-tracked data set."""

from __future__ import annotations

from winequality.records import StoredFile
from winequality.workflows.ports import Store


def import_data(store: Store, source: str, files=None) -> tuple[StoredFile, int]:
    """Verify the UCI files at `source`, build the combined CSV, `dvc add` and push it.

    Returns what DVC stored (its `changed` says whether data.dvc changed) and the number
    of wines.
    """
    from winequality.io.uci import build_csv, read_source

    raw = read_source(source, files)
    content = build_csv(raw)
    stored = store.save_data(content)
    return stored, content.count(b"\n") - 1
