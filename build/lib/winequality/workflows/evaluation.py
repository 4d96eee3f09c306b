"""Which wines a run trained on, from what it recorded: its data version (`wineq.data_md5`,
fetched by md5 like `wineq data pull`), its split seed and test share, and the split rule
that makes a wine's side depend on the wine alone (`domain.splits`).

`wineq compare` leaves those wines out; `wineq infer` on labelled wines scores them apart.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from winequality.errors import NotFoundError
from winequality.records import RunRecord
from winequality.settings import DATA_FILE
from winequality.workflows.ports import Store


def wine_index(frame) -> Any:
    """The wines of `frame` as a pandas MultiIndex of their 11 features and colour: two
    rows are the same wine when these are equal."""
    import pandas as pd

    from winequality.schema import COLOR, FEATURES

    columns = {f: frame[f].to_numpy(dtype="float64") for f in FEATURES}
    columns[COLOR] = frame[COLOR].astype(str).str.strip().str.lower().to_numpy()
    return pd.MultiIndex.from_frame(pd.DataFrame(columns))


@dataclass
class TrainingWines:
    """The wines each run trained on (data versions fetched once each, by md5)."""

    store: Store
    _data: dict[str, Any] = field(default_factory=dict)
    _keys: dict[str, Any] = field(default_factory=dict)
    _trained: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def know(self, md5: str, frame) -> None:
        """A data version already read (the current one), so it is not fetched again."""
        self._data.setdefault(md5, frame)

    def _data_version(self, md5: str):
        if md5 not in self._data:
            from winequality.io.validation import load_training_frame

            content = self.store.fetch_data_version(md5)
            self._data[md5] = load_training_frame(io.StringIO(content.decode("utf-8")), DATA_FILE)
        return self._data[md5]

    def _data_keys(self, md5: str):
        """The wines' split keys of a data version, computed once however many runs use it."""
        if md5 not in self._keys:
            from winequality.domain.splits import wine_keys

            self._keys[md5] = wine_keys(self._data_version(md5))
        return self._keys[md5]

    def trained(self, run: RunRecord) -> Any:
        """The wines `run` trained on or validated with: those of its data version that its
        split did not hold out for testing."""
        if run.run_id in self._trained:
            return self._trained[run.run_id]
        from winequality.domain.splits import SPLIT_RULE, held_out

        md5 = run.lineage.get("data_md5")
        if not md5:
            raise NotFoundError(
                f"run {run.run_id[:8]} recorded no data version, so the wines it trained on "
                "are unknown; use runs made by a wineq that records wineq.data_md5"
            )
        data = self._data_version(md5)
        fraction, seed = run.params.get("test_size"), run.params.get("split_seed")
        if run.params.get("split_rule") == SPLIT_RULE and fraction and seed:
            data = data[~held_out(self._data_keys(md5), float(fraction), int(seed))]
        else:
            self.notes.append(
                f"run {run.run_id[:8]} split its wines by an older rule: every wine of its "
                "data version counts as trained on"
            )
        self._trained[run.run_id] = wine_index(data)
        return self._trained[run.run_id]

    def mask(self, run: RunRecord, frame) -> Any:
        """Per row of `frame`, whether `run` trained on that wine."""
        return wine_index(frame).isin(self.trained(run))
