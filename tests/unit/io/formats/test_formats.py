"""Choosing a format (io/formats/__init__.py): by name, by --format, by the bytes."""

from __future__ import annotations

import pytest

from winequality.errors import UsageError
from winequality.io.formats import checked_format, format_of_name, output_format


def test_format_names_and_overrides():
    assert format_of_name("wines.csv.gz") == "csv"
    assert format_of_name("s3://b/k/wines.PARQUET") == "parquet"
    assert format_of_name("lab.xlsx") == "xlsx" and format_of_name("wines") is None
    assert checked_format("Excel") == "xlsx" and checked_format(".csv") == "csv"
    assert output_format("out.dat", "parquet") == "parquet"
    with pytest.raises(UsageError, match="Parquet compresses itself; drop the gz suffix"):
        output_format("out.parquet.gz", None)
