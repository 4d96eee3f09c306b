"""Workflow part of `wineq infer`: how far a batch's predictions can be trusted, added up
chunk by chunk (unusual wines, the expected RMSE, drift), and the drift report's files."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Optional

from winequality.errors import DataError
from winequality.records import ModelSource, Trust

SHOWN_ROWS = 10  # unusual rows named in the summary; the report lists up to REPORT_ROWS
REPORT_ROWS = 1000


class TrustTally:
    """The batch's unusual wines, the sum of its wines' expected squared errors and, for a
    report, its distribution per feature."""

    def __init__(self, net, chosen: ModelSource, report: Optional[Path]):
        from winequality.domain.familiarity import Drift

        self.summary, self.calibration = net.summary, net.calibration
        if report is not None and self.summary is None:
            raise DataError(
                f"{chosen.label} keeps no summary of its training wines (it was saved before "
                "wineq kept one), so there is nothing to measure drift against; a model "
                "trained now has one — drop --report"
            )
        self.drift = Drift(self.summary) if report is not None and self.summary else None
        self.wines, self.unusual, self.square = 0, 0, 0.0
        self.rows: list[int] = []

    def add(self, found, inputs, first: int) -> None:
        """A chunk's predictions; `first` is the number of wines before it."""
        import numpy as np

        self.wines += len(inputs)
        if found.unusual is not None:
            flagged = np.flatnonzero(found.unusual)
            self.unusual += len(flagged)
            room = REPORT_ROWS - len(self.rows)
            self.rows.extend((flagged[:room] + first + 1).tolist())
        if found.scale is not None:
            self.square += float(np.sum(found.scale**2))
        if self.drift is not None:
            self.drift.add(inputs)

    def result(self, chosen: ModelSource, reports: tuple[str, ...] = ()) -> Trust:
        expected = None
        if self.calibration is not None and self.wines:
            expected = (self.calibration.mean_square * self.square / self.wines) ** 0.5
        return Trust(
            self.wines,
            self.unusual if self.summary is not None else None,
            tuple(self.rows[:SHOWN_ROWS]),
            expected,
            chosen.test_rmse,
            reports,
        )

    def write_report(self, path: Path, chosen: ModelSource, source: str) -> tuple[str, ...]:
        """The drift report: JSON at `path`, or Markdown there and the JSON beside it when
        its name ends in .md. Each file is whole or absent."""
        from winequality.domain.familiarity import markdown
        from winequality.io.atomic import write_atomic

        assert self.drift is not None and self.summary is not None
        trust = self.result(chosen)
        distance = self.summary.distance
        report = {
            "model": chosen.label,
            "model_md5": chosen.md5,
            "input": source,
            "wines": self.wines,
            "training_wines": self.summary.wines,
            "expected_rmse": trust.expected_rmse,
            "test_rmse": trust.test_rmse,
            "unusual": self.unusual,
            "unusual_share": self.unusual / self.wines if self.wines else None,
            "unusual_rows": self.rows,
            "unusual_rows_listed": min(self.unusual, REPORT_ROWS),
            "unusual_distance": distance if math.isfinite(distance) else None,
            "features": self.drift.features(),
            "measures": {
                "psi": "population stability index over the training wines' deciles: < 0.1 "
                "stable, 0.1-0.25 moderate, >= 0.25 major; shift_by psi from 100 wines of a "
                "colour on, else ks (major when ks > ks_critical)",
                "ks": "Kolmogorov-Smirnov statistic at the training percentiles; above "
                "ks_critical the batch differs at the 5% level",
            },
        }
        text = json.dumps(report, indent=2, allow_nan=False) + "\n"
        if path.suffix.lower() != ".md":
            write_atomic(path, text.encode())
            return (str(path),)
        beside = path.with_suffix(".json")
        write_atomic(beside, text.encode())
        write_atomic(path, markdown(report).encode())
        return (str(path), str(beside))
