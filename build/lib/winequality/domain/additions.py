"""New labelled wines against the data set: which are new, which are there already, and
which contradict a wine there (same features and colour, another quality score)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd

from winequality.schema import COLOR, FEATURES, TARGET

ORIGIN = "_origin"
"""The column of a new wine's `(file, row)`, for messages."""


@dataclass
class Conflict:
    """A new wine whose features and colour are those of a wine in the data, with another
    quality score."""

    origin: tuple[str, int]
    quality: int
    known: list[int]


@dataclass
class Addition:
    """What adding a set of new wines to the data comes to."""

    added: pd.DataFrame
    """The wines to add, in the order they came: features, colour, quality."""
    duplicates: int = 0
    """Wines skipped because the data (or an earlier row of the addition) has them."""
    conflicts: list[Conflict] = field(default_factory=list)
    """Wines whose quality contradicts the data's, whether added or skipped."""
    conflicts_kept: Optional[bool] = None
    """Whether the conflicting wines were added (True), skipped (False), or none came."""

    def counts(self) -> dict[str, int]:
        """Wines added, in all and per colour."""
        return counts(self.added)


def counts(wines: pd.DataFrame) -> dict[str, int]:
    """Wines in all and per colour: {"wines": n, "red": r, "white": w}."""
    colours = wines[COLOR].value_counts()
    return {"wines": len(wines), **{str(c): int(n) for c, n in sorted(colours.items())}}


def _key(row) -> tuple:
    return (*(float(row[f]) for f in FEATURES), str(row[COLOR]))


def plan(existing: pd.DataFrame, new: pd.DataFrame, keep_conflicts: Optional[bool]) -> Addition:
    """Split `new` (validated wines with an ORIGIN column) into wines to add, duplicates and
    conflicts with `existing`. `keep_conflicts` None means conflicts are not decided yet:
    they are reported and none is added."""
    known: dict[tuple, set[int]] = {}
    for row in existing[[*FEATURES, COLOR, TARGET]].to_dict("records"):
        known.setdefault(_key(row), set()).add(int(row[TARGET]))
    keep, duplicates, conflicts = [], 0, []
    for position, row in enumerate(new[[*FEATURES, COLOR, TARGET, ORIGIN]].to_dict("records")):
        key, quality = _key(row), int(row[TARGET])
        scores = known.get(key)
        if scores is not None and quality in scores:
            duplicates += 1
            continue
        if scores:
            conflicts.append(Conflict(row[ORIGIN], quality, sorted(scores)))
            if not keep_conflicts:
                continue
        known.setdefault(key, set()).add(quality)
        keep.append(position)
    added = new.iloc[keep][[*FEATURES, COLOR, TARGET]].reset_index(drop=True)
    added[TARGET] = added[TARGET].astype(np.int64)
    return Addition(added, duplicates, conflicts, keep_conflicts if conflicts else None)


def _number(value: float) -> str:
    """A number as the data file writes it: the shortest text that reads back exactly."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def as_lines(wines: pd.DataFrame) -> bytes:
    """The wines as rows of the data file: features, quality and colour, `;`-separated."""
    lines = [
        ";".join([*(_number(row[f]) for f in FEATURES), str(int(row[TARGET])), str(row[COLOR])])
        for row in wines.to_dict("records")
    ]
    return "".join(f"{line}\n" for line in lines).encode("ascii")
