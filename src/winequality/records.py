"""Plain records that every layer may import: runs, versions, model sources, results.

No third-party imports: the CLI renders these, the service returns them, and the MLflow
and DVC adapters build them from their libraries' objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional, Union
from urllib.parse import urlsplit, urlunsplit

RMSE = "test_rmse"
# The test metrics of a run, each overall (`test_rmse`) and per colour (`test_rmse_red`).
TEST_METRICS = (("rmse", "RMSE"), ("mae", "MAE"), ("r2", "R²"), ("within_0_5", "within 0.5"))
ALIAS = "champion"
# Lineage tags, on the run and copied onto each registered version.
TAG_PREFIX = "wineq."
LINEAGE_KEYS = (
    "run_id",
    "git_commit",
    "git_dirty",
    "data_md5",
    "model_path",
    "model_md5",
    "dvc_remote",
    "mlflow_model_id",
    "dvc_experiment",
)


def without_credentials(url: str) -> str:
    """`url` as wineq records or shows it: no user, password, query or fragment.

    Everything else is kept as given (`sqlite:////abs/path` keeps its slashes).
    """
    url = url.split("?", 1)[0].split("#", 1)[0]
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))


def _lineage(tags: dict[str, str]) -> dict[str, str]:
    return {k[len(TAG_PREFIX) :]: v for k, v in tags.items() if k.startswith(TAG_PREFIX)}


@dataclass(frozen=True)
class RunRecord:
    """What wineq needs of an MLflow run."""

    run_id: str
    status: str
    start_time: Optional[int]
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    end_time: Optional[int] = None
    artifact_uri: str = ""
    experiment_id: str = ""

    @property
    def lineage(self) -> dict[str, str]:
        return _lineage(self.tags)

    @property
    def description(self) -> str:
        return self.tags.get("mlflow.note.content", "")

    @property
    def process_gone(self) -> bool:
        """RUNNING while the process that started it has ended on this machine."""
        from winequality.processes import gone

        tag = self.tags.get(f"{TAG_PREFIX}process")
        return self.status == "RUNNING" and tag is not None and gone(tag) is True


@dataclass(frozen=True)
class VersionRecord:
    """A registered model version and the lineage tags it carries."""

    name: str
    version: str
    run_id: Optional[str]
    tags: dict[str, str]
    aliases: tuple[str, ...] = ()
    description: str = ""

    @property
    def lineage(self) -> dict[str, str]:
        return _lineage(self.tags)

    @property
    def label(self) -> str:
        return f"{self.name}/{self.version}"


@dataclass(frozen=True)
class StoredFile:
    """A file as DVC knows it: repo-relative path, md5 of its bytes, and the remote."""

    path: str
    md5: str
    remote: str
    """`name (url)` of the remote, without credentials."""
    changed: bool = True
    """Whether this call changed what DVC tracks (False: the same bytes were there)."""
    location: dict = field(default_factory=dict)
    """The remote as a model records it to be fetched again: name, url, endpoint, region."""


@dataclass(frozen=True)
class ModelSource:
    """A model chosen in MLflow and where its bytes are in DVC."""

    label: str
    run_id: str
    path: str
    md5: str
    pushed_to: str = ""
    """The DVC remote the run recorded pushing the bytes to, as `name (url)`."""
    test_rmse: Optional[float] = None
    """The run's RMSE on its test wines, where the run is still in MLflow."""
    location: Optional[dict] = None
    """That remote as the run recorded it to reach it again (URL, endpoint; never
    credentials): where a machine without a clone fetches the bytes from."""


@dataclass(frozen=True)
class TrainResult:
    run_id: str
    metrics: dict[str, float]
    model_path: str
    model_md5: str
    data_md5: str
    git_commit: str
    n_train: int
    n_test: int
    best_epoch: int
    data_pushed_to: Optional[str] = None
    """The DVC remote the run's data version was pushed to first (only this clone had it)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Registration:
    version: VersionRecord
    run: RunRecord
    reused: bool
    gate: Optional[Comparison] = None
    """The comparison with the champion that let the run in (None when there was none)."""
    previous: Optional[str] = None
    """The version the alias left, if it moved."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.version.name,
            "version": self.version.version,
            "aliases": list(self.version.aliases),
            "run_id": self.run.run_id,
            "test_rmse": self.run.metrics.get(RMSE),
            "model_path": self.version.lineage.get("model_path"),
            "model_md5": self.version.lineage.get("model_md5"),
            "reused": self.reused,
            "previous": self.previous,
            "gate": self.gate.as_dict() if self.gate else None,
        }


@dataclass(frozen=True)
class Trust:
    """How far a batch's predictions can be trusted, before any label arrives."""

    wines: int
    unusual: Optional[int]
    """Wines unlike any the model trained on; None for a model saved before it kept a
    summary of its training wines."""
    unusual_rows: tuple[int, ...]
    """The first of them, as rows of the input (1: the first wine)."""
    expected_rmse: Optional[float]
    """The RMSE the calibrated model expects on these wines; None without calibration."""
    test_rmse: Optional[float]
    """The model's RMSE on its own test wines, where its run says."""
    reports: tuple[str, ...] = ()
    """The drift report's files, as written."""


@dataclass(frozen=True)
class InferResult:
    model: ModelSource
    rows: int
    metrics: Optional[dict[str, Any]]
    """Against a quality column: rmse, mae on all wines; rmse_unseen, mae_unseen on those
    the model did not train on (`unseen` of them, `trained_on` the rest)."""
    output: Optional[Union[Path, str]]
    frame: Optional[object] = None  # the predictions, when neither a file nor a stream was given
    interval: Optional[float] = None
    """The level of the intervals given; None when the model has none (saved before them)."""
    premium: Optional[int] = None
    """p_premium is P(quality ≥ premium); None when the model has no calibration."""
    passthrough: list[str] = field(default_factory=list)
    """The input's columns that are not model inputs, kept as they came, in order."""
    id_columns: list[str] = field(default_factory=list)
    """Those of them that name a wine (sample_id, ...): shown first in a table."""
    trust: Optional[Trust] = None


@dataclass(frozen=True)
class InferOptions:
    """What `wineq infer` takes besides the wines; every field has the command's default."""

    model: Optional[str] = None
    """NAME@ALIAS, NAME/VERSION or a version number; None: the champion."""
    run_id: Optional[str] = None
    color: Optional[str] = None
    """red or white, for files without a colour column."""
    output: Optional[Union[Path, str]] = None
    """A path or s3:// address for the input plus the prediction columns."""
    stream: Optional[Any] = None
    """A text or binary stream for them as CSV, when there is no `output`."""
    on_chunk: Optional[Callable[[int, int], None]] = None
    """Called with (rows predicted, bytes read) after each chunk."""
    keep: Optional[int] = None
    """Wines kept in the result's frame when there is neither output nor stream."""
    lookup: str = "here"
    """"process": look the model up in a child process while torch loads; "here": here."""
    interval: Optional[float] = None
    premium: Optional[int] = None
    fmt: Optional[str] = None
    decimal: Optional[str] = None
    sheet: Optional[str] = None
    output_format: Optional[str] = None
    report: Optional[Path] = None
    """Where to write the batch's drift report: JSON, or Markdown (with the JSON beside it)
    when the name ends in .md."""


@dataclass(frozen=True)
class AddOptions:
    """What `wineq data add` takes besides the files; every field has the command's default."""

    color: Optional[str] = None
    """red or white, for files without a colour column."""
    conflicts: Optional[str] = None
    """keep or skip the wines whose quality contradicts the data's; None: refuse them."""
    dry_run: bool = False
    commit: bool = False
    """Commit data.dvc (else it is staged for the user's commit)."""
    fmt: Optional[str] = None
    decimal: Optional[str] = None
    sheet: Optional[str] = None


@dataclass(frozen=True)
class DataAddition:
    """What `wineq data add` did, or would do with --dry-run."""

    files: list[str]
    read: int
    """Wines read from the files."""
    added: dict[str, int]
    """Wines added: in all (`wines`) and per colour."""
    duplicates: int
    """Wines skipped: the data has them already."""
    conflicts: list[str]
    """One line per wine whose quality contradicts the data's."""
    conflicts_kept: Optional[bool]
    version: dict[str, int]
    """The data version that results: its wines in all (`wines`) and per colour."""
    stored: Optional[StoredFile] = None
    """The new version, pushed; None on a dry run or when nothing was new."""
    commit: Optional[str] = None
    """The commit of data.dvc when asked; None when it was only staged."""

    def commit_message(self) -> str:
        """The message of the commit that records this addition's data.dvc."""
        return f"data: add {self.added['wines']:,} wines from {', '.join(self.files)}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DataVersion:
    """One version of the data set, as git's history of data.dvc and the runs know it."""

    md5: str
    commit: Optional[str]
    """The commit that made data.dvc name it; None for data.dvc's uncommitted change."""
    date: Optional[str]
    subject: str
    wines: dict[str, int]
    """Wines in all (`wines`) and per colour, as data.dvc's meta says; empty when it has none."""
    added: dict[str, int]
    source: list[str]
    runs: list[str]
    """Ids of the runs that trained on it, newest first."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    start: Optional[str]
    status: str
    epochs: Optional[int]
    rmse: Optional[float]
    mae: Optional[float]
    registered: list[str]
    coverage_80: Optional[float] = None
    """Share of test wines whose true score is inside their 80% interval (calibrated runs)."""
    process_gone: bool = False
    """RUNNING, but the process that trains it has ended on this machine (killed, rebooted)."""
    data_md5: Optional[str] = None
    """The data version the run trained on (data.dvc's md5)."""
    wines: Optional[int] = None
    """Wines in that data version."""
    n_test: Optional[int] = None
    """Test wines the run was scored on."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunsPage:
    runs: list[RunSummary]
    page: int
    more: bool
    """Whether a next page may follow (MLflow cannot always tell at the exact end)."""
    registry_hidden: Optional[str] = None
    """Why the registered versions are not shown (the user may not read the registry)."""


@dataclass(frozen=True)
class RunDetail:
    """One run whole (`wineq show`): the run, the version asked for (if any), the
    versions registered from the run, its artifacts and where to see it in a browser."""

    run: RunRecord
    version: Optional[VersionRecord]
    registered: list[str]
    artifacts: list[tuple[str, int]]
    ui_url: Optional[str]
    artifacts_unavailable: Optional[str] = None
    """Why the artifacts could not be listed (the store's answer), if they could not."""

    def as_dict(self) -> dict[str, Any]:
        run = self.run
        return {
            "run_id": run.run_id,
            "name": run.tags.get("mlflow.runName"),
            "status": run.status,
            "start_time": run.start_time,
            "end_time": run.end_time,
            "params": run.params,
            "metrics": run.metrics,
            "lineage": run.lineage,
            "description": run.description,
            "registered": self.registered,
            "version": None
            if self.version is None
            else {
                "name": self.version.name,
                "version": self.version.version,
                "aliases": list(self.version.aliases),
                "description": self.version.description,
                "lineage": self.version.lineage,
            },
            "artifact_uri": run.artifact_uri,
            "artifacts": [{"path": path, "bytes": size} for path, size in self.artifacts],
            "artifacts_unavailable": self.artifacts_unavailable,
            "ui_url": self.ui_url,
        }


@dataclass(frozen=True)
class References:
    """Model md5s the tracking store references, each with who references it: by live runs
    and registered versions, and (apart from those) only by deleted runs."""

    live: dict[str, list[str]]
    deleted: dict[str, list[str]]


@dataclass(frozen=True)
class Garbage:
    """A model's bytes that no live run and no registered version references."""

    md5: str
    size: int
    runs: tuple[str, ...]
    """The deleted runs that referenced it (none: `mlflow gc` removed them for good)."""
    where: tuple[str, ...]
    """Where copies are: cache, remote (DVC's objects), vault."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Collection:
    """What `wineq gc` removed, or with a dry run would remove."""

    garbage: list[Garbage]
    live: int
    """Model objects kept because a live run or a registered version references them."""
    young: int
    """Unreferenced objects kept because they are newer than the grace period."""
    removed: bool

    @property
    def bytes(self) -> int:
        return sum(g.size for g in self.garbage)

    def as_dict(self) -> dict[str, Any]:
        return {
            "removed": self.removed,
            "bytes": self.bytes,
            "garbage": [g.as_dict() for g in self.garbage],
            "live": self.live,
            "young": self.young,
        }


OK, MISSING, DAMAGED, REPAIRED = "ok", "missing", "damaged", "repaired"


@dataclass(frozen=True)
class VersionCheck:
    """Whether a registered version's model and data bytes are in the remote intact."""

    label: str
    run_id: str
    model_md5: str
    model: str
    data_md5: str
    data: str

    @property
    def worst(self) -> str:
        states = (self.model, self.data)
        return next((s for s in (DAMAGED, MISSING) if s in states), OK)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ModelScores:
    """One model of a comparison: which it is, and how it did on the shared wines."""

    label: str
    run_id: str
    model_md5: str
    scores: dict[str, dict[str, Any]]
    """Per `"all"` and per colour: wines, rmse, mae, within_0_5, coverage (80% interval)."""
    trained_on: int
    """How many of the wines offered (before any were left out) it trained on."""
    difference: Optional[dict[str, Any]] = None
    """RMSE minus the first model's, with its bootstrap interval (None for the first)."""
    verdict: Optional[str] = None

    @property
    def rmse(self) -> float:
        return float(self.scores["all"]["rmse"])

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Comparison:
    """Models scored on the same wines: none of them trained on any, unless asked."""

    wines: int
    source: str
    """Where the wines came from: the current data version, or a file."""
    offered: int
    excluded: int
    """Offered wines left out because a compared model trained on them."""
    models: list[ModelScores]
    notes: list[str] = field(default_factory=list)
    recorded: Optional[str] = None
    """The MLflow run that records the comparison, and where to see it."""
    ui_url: Optional[str] = None

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["models"] = [m.as_dict() for m in self.models]
        return found


@dataclass(frozen=True)
class ChampionMove:
    """One move of the champion alias: when, who, from which version to which, why."""

    at: str
    by: str
    to: str
    how: str
    """register, promote or force."""
    previous: Optional[str] = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GateOptions:
    """How `wineq register` treats the current champion."""

    tolerance: float = 0.0
    """How much worse (RMSE on shared wines) a candidate may be and still become champion."""
    force: bool = False
    reason: str = ""
    alias: str = ALIAS
    """The alias to move; any other than champion registers without the gate."""
    user: str = ""
    """Who asks, for the champion's history."""


@dataclass(frozen=True)
class ModelDetail:
    """A registered model whole: its versions (newest first) and the champion's history."""

    name: str
    versions: list[VersionRecord]
    history: list[ChampionMove]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "versions": [
                {"version": v.version, "aliases": list(v.aliases), "run_id": v.run_id}
                for v in self.versions
            ],
            "history": [m.as_dict() for m in self.history],
        }


@dataclass
class CompareOptions:
    """What `wineq compare` scores on, and whether it records the result."""

    data: Optional[Path] = None
    """A file of labelled wines (any format `infer` reads); default: the current data."""
    include_trained: bool = False
    """Keep the file's wines that a compared model trained on (counted either way)."""
    color: Optional[str] = None
    fmt: Optional[str] = None
    record: bool = True
