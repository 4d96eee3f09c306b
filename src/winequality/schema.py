"""The layout of a wine file: column names and separator, without importing pandas."""

from pathlib import Path

from winequality.errors import DataError

FEATURES = [
    "fixed acidity",
    "volatile acidity",
    "citric acid",
    "residual sugar",
    "chlorides",
    "free sulfur dioxide",
    "total sulfur dioxide",
    "density",
    "pH",
    "sulphates",
    "alcohol",
]
TARGET = "quality"
COLOR = "color"
COLORS = ("red", "white")


def sniff_separator(path: Path) -> str:
    """';' for UCI-style files, ',' for plain CSV; anything else is refused."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            header = handle.readline()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from exc
    if not header.strip():
        raise DataError(f"{path} is empty; give a CSV with a header row and at least one wine")
    if header.count(";") >= len(FEATURES) - 1:
        return ";"
    if header.count(",") >= len(FEATURES) - 1:
        return ","
    raise DataError(
        f"{path}: cannot find the columns in the header line; use ';' (as UCI does) or ',' "
        "as the separator"
    )
