"""Which model, and exactly which bytes: registry reference, alias, version or run → DVC
path and md5 → the bytes, hash-checked.

The CLI, the lookup child process and any later loader resolve models through this one
unit; it needs the tracker (MLflow) and the store (DVC), never the service or the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from winequality.errors import IntegrityError, MissingObject, NotFoundError, UsageError, WineqError
from winequality.records import ALIAS, RMSE, ModelSource, RunRecord, VersionRecord


@dataclass(frozen=True)
class ModelRef:
    """A registered model version named by number or by alias."""

    name: str
    version: Optional[str] = None
    alias: Optional[str] = None

    def __str__(self) -> str:
        return f"{self.name}/{self.version}" if self.version else f"{self.name}@{self.alias}"


def parse_model_ref(text: Optional[str], default_name: str) -> ModelRef:
    """`NAME@ALIAS`, `NAME/VERSION`, `models:/...`, `@ALIAS` or a bare version number.

    None means the champion of `default_name`. Example:
    `parse_model_ref("3", "wine-quality")` is `wine-quality/3`.
    """
    if text is None:
        return ModelRef(default_name, alias=ALIAS)
    ref = text.strip().removeprefix("models:/")
    if ref.isdigit():
        return ModelRef(default_name, version=str(int(ref)))
    if "@" in ref:
        name, alias = ref.split("@", 1)
        if alias and "/" not in alias:
            return ModelRef(name or default_name, alias=alias)
    elif "/" in ref:
        name, number = ref.rsplit("/", 1)
        if name and number.isdigit():
            return ModelRef(name, version=str(int(number)))
    raise UsageError(
        f"model {text!r}: use NAME@ALIAS, NAME/VERSION or a version number, "
        f"e.g. {default_name}@{ALIAS} or {default_name}/1"
    )


def gone(source: ModelSource) -> str:
    """The truth about a model whose bytes its run pushed and nobody can fetch any more."""
    named = source.label.startswith("run ") or not source.run_id
    of = "" if named else f" of run {source.run_id[:8]}"
    return (
        f"{source.label}: the model{of} ({source.path}, md5 {source.md5}) was pushed to DVC "
        f"remote {source.pushed_to}, and it is gone from there now (from DVC's objects and "
        "wineq's vault); put it back with `wineq check --repair` in a clone whose DVC cache "
        "still has it, or train again"
    )


def is_model_ref(text: str) -> bool:
    """Whether `text` names a registered version rather than a run: NAME@ALIAS,
    NAME/VERSION, models:/..., or a number of up to 3 digits (run id prefixes have 4+)."""
    return "@" in text or "/" in text or (text.isdigit() and len(text) < 4)


class ModelResolver:
    """Finds runs and registered versions and fetches exactly their model bytes.

    Example: `source, content = ModelResolver.from_settings(load_settings()).resolve()`.
    """

    def __init__(self, tracker, store, model_name: str, experiment: str):
        self.tracker = tracker
        self.store = store
        self.model_name = model_name
        self.experiment = experiment

    @classmethod
    def from_settings(cls, settings) -> ModelResolver:
        from winequality.adapters.dvc import store_for
        from winequality.adapters.mlflow import ExperimentTracker

        return cls(
            ExperimentTracker.from_settings(settings),
            store_for(settings),
            settings.model_name,
            settings.experiment,
        )

    def find_run(self, run_id: str) -> RunRecord:
        """A run of the experiment by id or by a unique prefix of at least 4 characters."""
        run = self._find_run(run_id)
        if "dvc_location" in run.lineage:  # where its data versions are, outside a clone
            self._remember(self._location(run.lineage))
        return run

    def _find_run(self, run_id: str) -> RunRecord:
        if len(run_id) >= 32:
            return self.tracker.get_run(run_id)
        if len(run_id) < 4:
            raise UsageError(f"run id {run_id!r} is too short; give at least 4 characters")
        matches = [
            r for r in self.tracker.search_runs(max_results=5000) if r.run_id.startswith(run_id)
        ]
        if not matches:
            raise NotFoundError(
                f"no run {run_id!r} in experiment {self.experiment!r}; see `wineq runs`"
            )
        if len(matches) > 1:
            raise UsageError(
                f"run id {run_id!r} is ambiguous ({len(matches)} runs); give more characters"
            )
        return matches[0]

    def version(
        self, model: Optional[str] = None, hint: str = "see `wineq infer --interactive`"
    ) -> VersionRecord:
        """The registered version `model` names (NAME@ALIAS, NAME/VERSION, a number;
        default: the champion), or a NotFoundError saying how to register one, or `hint`."""
        ref = parse_model_ref(model, self.model_name)
        try:
            if ref.version:
                return self.tracker.version(ref.version, ref.name)
            return self.tracker.version_by_alias(ref.alias, ref.name)
        except NotFoundError as exc:
            raise NotFoundError(
                f"model {ref} is not registered in {self.tracker.store.display}; "
                f"run `wineq register`, or {hint}"
            ) from exc

    def source(self, model: Optional[str] = None, run_id: Optional[str] = None) -> ModelSource:
        """The model to use and where its bytes are: a run's, a version's, or the champion's."""
        run: Optional[RunRecord] = None
        if run_id:
            run = self.find_run(run_id)
            lineage, label, rid = run.lineage, f"run {run.run_id}", run.run_id
        else:
            version = self.version(model)
            lineage, label, rid = version.lineage, version.label, version.run_id or ""
        if "model_md5" not in lineage or "model_path" not in lineage:
            raise NotFoundError(
                f"{label} carries no DVC model path and md5; it was not made by wineq"
            )
        if run is None and rid:
            try:
                run = self.tracker.get_run(rid)
            except WineqError:  # the run is gone from MLflow; the version still predicts
                run = None
        pushed_to = lineage.get("dvc_remote", "")
        test_rmse = run.metrics.get(RMSE) if run is not None else None
        found = ModelSource(
            label,
            rid,
            lineage["model_path"],
            lineage["model_md5"],
            pushed_to,
            test_rmse,
            self._location(run.lineage if run is not None else lineage),
        )
        self.knows(found)
        return found

    def knows(self, source: ModelSource) -> None:
        """Outside a clone, the remote `source` recorded is where its run's data versions
        are looked for too."""
        self._remember(source.location)

    def _remember(self, location: Optional[dict]) -> None:
        if self.outside_a_clone and location:
            self.store.remember(location)

    def _location(self, lineage: dict[str, str]) -> Optional[dict]:
        """The remote the run pushed the model to, as recorded to reach it again: its tag,
        else (runs before the tag) the MLflow Model's `dvc_remote.json`; only looked up
        where it is needed, outside a clone."""
        import json

        if "dvc_location" in lineage:
            return json.loads(lineage["dvc_location"])
        if not self.outside_a_clone or not lineage.get("mlflow_model_id"):
            return None
        return self.tracker.model_remote(lineage["mlflow_model_id"])

    @property
    def outside_a_clone(self) -> bool:
        return bool(getattr(self.store, "outside_a_clone", False))

    def fetch(self, source: ModelSource) -> bytes:
        """Exactly the bytes recorded for `source`, from the DVC cache or remote."""
        try:
            return self.store.fetch(source.path, source.md5, source.location)
        except IntegrityError as exc:
            raise IntegrityError(f"{source.label}: {exc}") from exc
        except MissingObject as exc:
            if not source.pushed_to or exc.remote != source.pushed_to:
                raise  # never pushed, or pushed elsewhere: the store's own words say so
            raise MissingObject(gone(source), source.md5, exc.remote) from exc

    def resolve(
        self, model: Optional[str] = None, run_id: Optional[str] = None
    ) -> tuple[ModelSource, bytes]:
        """The chosen model and exactly its recorded bytes."""
        source = self.source(model, run_id)
        return source, self.fetch(source)
