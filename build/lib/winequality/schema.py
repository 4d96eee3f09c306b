"""The layout of a wine file: column names, separator and header, without importing pandas.

Checking a file's header here, before any model is looked up, lets a wrong file fail in
milliseconds with one line.
"""

from __future__ import annotations

from typing import Optional

from winequality.errors import DataError, UsageError

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
PREDICTION = "predicted_quality"
QUALITY_LOW = "quality_low"
QUALITY_HIGH = "quality_high"
P_PREMIUM = "p_premium"
UNCERTAINTY = (QUALITY_LOW, QUALITY_HIGH, P_PREMIUM)
"""The columns of a calibrated model's output after PREDICTION: its interval and the
chance of a premium score (models saved before calibration give PREDICTION alone)."""
UNUSUAL = "unusual"
"""The last output column: whether the wine is unlike any the model trained on (models
saved before they kept a summary of their training wines have none)."""
OUTPUTS = (PREDICTION, *UNCERTAINTY, UNUSUAL)
DEFAULT_INTERVAL = 0.8  # the interval's level, unless WINEQ_INTERVAL or --interval say otherwise
DEFAULT_PREMIUM = 7  # p_premium is P(quality ≥ this)
HEADER_LIMIT = 1 << 20  # bytes of a header line; anything longer is no wine file


def checked_level(interval: float, flag: str = "--interval") -> float:
    if not 0 < interval < 1:
        raise UsageError(f"{flag} {interval:g}: give a level between 0 and 1, e.g. 0.9 for 90%")
    return interval


def checked_premium(premium: int, flag: str = "--premium") -> int:
    if not 1 <= premium <= 10:
        raise UsageError(f"{flag} {premium}: give a whole quality score from 1 to 10, e.g. 7")
    return premium


def separator_of(header: str, name: str) -> str:
    """';' for UCI-style headers, ',' for plain CSV; anything else is refused."""
    if not header.strip():
        raise DataError(f"{name} is empty; give a CSV with a header row and at least one wine")
    if header.count(";") >= len(FEATURES) - 1:
        return ";"
    if header.count(",") >= len(FEATURES) - 1:
        return ","
    raise DataError(
        f"{name}: cannot find the columns in the header line; use ';' (as UCI does) or ',' "
        "as the separator"
    )


def _normalise(name: str) -> str:
    return " ".join(name.strip().strip('"').replace("_", " ").split()).lower()


_CANONICAL = {_normalise(name): name for name in FEATURES + [TARGET, COLOR]}
_CANONICAL["colour"] = COLOR  # British spelling: a lab's colour column is the wine's colour


def canonical_name(column: str) -> Optional[str]:
    """The feature, target or colour a column's name means (`Fixed_Acidity` → `fixed
    acidity`), or None for any other column."""
    return _CANONICAL.get(_normalise(column))


def column_mapping(
    name: str, columns: list[str], color: Optional[str], require_target: bool = False
) -> dict[str, str]:
    """Each column that is a model input (or quality, or color) → its canonical name; the
    other columns are not in it and pass through. A DataError for a missing feature, or
    for one given twice.

    Names match whatever their case, spacing or underscores: `Fixed_Acidity` is
    `fixed acidity`.
    """
    mapping: dict[str, str] = {}
    for column in columns:
        canonical = _CANONICAL.get(_normalise(str(column)))
        if canonical is None:
            continue
        for earlier, known in mapping.items():
            if known == canonical:
                if str(earlier) == str(column):
                    raise DataError(f"{name}: column {canonical!r} appears twice")
                raise DataError(
                    f"{name}: columns {str(earlier)!r} and {str(column)!r} are both "
                    f"{canonical!r}; keep one of them"
                )
        mapping[column] = canonical
    present = set(mapping.values())
    missing = [feature for feature in FEATURES if feature not in present]
    if missing:
        hint = _close_to(missing[0], [c for c in columns if c not in mapping])
        raise DataError(f"{name}: missing column {missing[0]!r} (needs all 11 UCI features){hint}")
    if COLOR not in present and color is None:
        raise DataError(f"{name} has no 'color' column; pass --color red or --color white")
    if require_target and TARGET not in present:
        raise DataError(f"{name}: missing column 'quality'")
    return mapping


def _close_to(feature: str, others: list) -> str:
    """`; is 'fixed acidty' it? rename it` when a column's name is a near miss."""
    import difflib

    names = {_normalise(str(column)): str(column) for column in others}
    close = difflib.get_close_matches(feature.lower(), list(names), n=1, cutoff=0.8)
    return f"; is {names[close[0]]!r} it? rename it to {feature!r}" if close else ""


def positions(columns: list, mapping: dict) -> tuple[list[int], list[str], list[int]]:
    """(positions of the model-input columns, their canonical names, positions of the
    pass-through columns), each in the file's order. By position, not name: two
    pass-through columns may share a name, and readers need not agree on odd ones."""
    inputs = [i for i, column in enumerate(columns) if column in mapping]
    passing = [i for i, column in enumerate(columns) if column not in mapping]
    return inputs, [mapping[columns[i]] for i in inputs], passing


_ID_NAMES = {
    "id", "sample", "lot", "ref", "reference", "barcode", "sku", "code", "name", "label",
    "no", "number", "key",
}  # fmt: skip
_ID_FIRST = {"sample", "lot", "wine", "bottle", "lab", "batch", "cask", "barrel", "vat"}


def id_columns(columns: list) -> list:
    """The pass-through columns that name a wine (sample_id, SampleID, Sample No, lot, ...):
    shown first. A name counts when it is one of those words, ends in the word id, or is
    a two-word name such as "sample number" or "wine code"."""
    found = []
    for column in columns:
        words = _normalise(str(column)).replace("#", " no ").replace(".", " ").split()
        compact = "".join(words)
        if (
            compact in _ID_NAMES
            or words[-1:] == ["id"]
            or (compact.endswith("id") and compact[:-2] in _ID_FIRST)
            or (len(words) == 2 and words[0] in _ID_FIRST and words[1] in _ID_NAMES)
        ):
            found.append(column)
    return found
