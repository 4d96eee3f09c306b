"""Model resolution (adapters/models.py): what names a registered version, and runs found
by id prefix in a real MLflow store."""

from __future__ import annotations

import pytest

from winequality.adapters.models import ModelRef, is_model_ref, parse_model_ref
from winequality.errors import UsageError


@pytest.mark.parametrize(
    "text, ref",
    [
        (None, ModelRef("wine-quality", alias="champion")),
        ("3", ModelRef("wine-quality", version="3")),
        ("wine-quality/1", ModelRef("wine-quality", version="1")),
        ("models:/other/12", ModelRef("other", version="12")),
        ("wine-quality@champion", ModelRef("wine-quality", alias="champion")),
        ("@staging", ModelRef("wine-quality", alias="staging")),
        ("models:/wine-quality@champion", ModelRef("wine-quality", alias="champion")),
    ],
)
def test_model_references(text, ref):
    assert parse_model_ref(text, "wine-quality") == ref


@pytest.mark.parametrize("text", ["nonsense", "wine-quality/x", "wine-quality@", "/3", ""])
def test_a_bad_model_reference_is_a_usage_error(text):
    with pytest.raises(UsageError, match="use NAME@ALIAS, NAME/VERSION or a version number"):
        parse_model_ref(text, "wine-quality")


@pytest.mark.parametrize(
    "text, is_ref",
    [
        ("wine-quality@champion", True),
        ("wine-quality/3", True),
        ("models:/wine-quality/3", True),
        ("12", True),
        ("1234", False),  # a run id prefix
        ("3f2a", False),
        ("lr-0.002", False),  # a run name
    ],
)
def test_what_names_a_registered_version(text, is_ref):
    assert is_model_ref(text) is is_ref
