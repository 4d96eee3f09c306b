"""The infer workflow (workflows/infer.py): options checked before any file or lookup."""

from __future__ import annotations

import pytest

from winequality.errors import UsageError
from winequality.records import InferOptions
from winequality.workflows.infer import infer


def test_a_bad_colour_is_refused_before_any_file_or_lookup(tmp_path):
    def no_resolver():
        raise AssertionError("the lookup must not start")

    with pytest.raises(UsageError, match="^--color 'rose': use red or white$"):
        infer(None, no_resolver, tmp_path / "missing.csv", InferOptions(color="rose"))
