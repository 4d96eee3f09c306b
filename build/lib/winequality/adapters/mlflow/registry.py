"""The model registry: versions of one registered model, their aliases and descriptions."""

from __future__ import annotations

from typing import Optional

from winequality.adapters.mlflow.connection import Connection
from winequality.adapters.mlflow.runs import POINTER_DIR
from winequality.errors import NotFoundError
from winequality.records import ALIAS, ChampionMove, RunRecord, VersionRecord

HISTORY_TAG = "wineq.champion."
"""Each move of the champion alias is one tag of the registered model, `wineq.champion.0001`
onwards, whose value is the move as JSON: MLflow's UI lists them on the model's page."""


def version_record(mv, aliases: Optional[tuple[str, ...]] = None) -> VersionRecord:
    """A model version as wineq's record; `aliases` when known apart from `mv` (a search's
    results carry none)."""
    return VersionRecord(
        name=mv.name,
        version=str(mv.version),
        run_id=mv.run_id,
        tags=dict(mv.tags or {}),
        aliases=tuple(getattr(mv, "aliases", None) or ()) if aliases is None else aliases,
        description=mv.description or "",
    )


class Registry:
    """Versions of one registered model in one store."""

    def __init__(self, connection: Connection, model_name: str):
        self.connection = connection
        self.model_name = model_name

    def versions(self, doing: str = "", needs: str = "") -> list[VersionRecord]:
        """All versions of the registered model, newest first (empty if not registered).

        `doing` and `needs` name the action this listing is part of, for a refusal."""
        from mlflow.exceptions import MlflowException

        with self.connection.calls(
            doing or f"listing versions of {self.model_name!r}",
            needs or f"READ on registered model {self.model_name!r}",
        ):
            try:
                model = self.connection.client.get_registered_model(self.model_name)
            except MlflowException as exc:
                if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                    return []
                raise
            aliases: dict[str, list[str]] = {}
            for alias, version in (model.aliases or {}).items():
                aliases.setdefault(str(version), []).append(alias)
            found = self.connection.client.search_model_versions(f"name = '{self.model_name}'")
        records = [
            version_record(mv, tuple(sorted(aliases.get(str(mv.version), [])))) for mv in found
        ]
        return sorted(records, key=lambda r: int(r.version), reverse=True)

    def register(
        self,
        run: RunRecord,
        tags: dict[str, str],
        alias: str = ALIAS,
        description: str = "",
        model_description: str = "",
    ) -> VersionRecord:
        """A new version pointing at the run's pointer artifact, with `alias` moved onto it.

        `description` is the version's; `model_description` is set on the registered model
        when it has none (one a team wrote in MLflow's UI is kept).
        """
        from mlflow.exceptions import MlflowException

        with self.connection.calls(
            f"registering run {run.run_id} as {self.model_name!r}",
            f"EDIT or MANAGE on registered model {self.model_name!r}",
        ):
            try:
                self.connection.client.create_registered_model(
                    self.model_name, description=model_description or None
                )
            except MlflowException as exc:
                if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise
                if (
                    model_description
                    and not self.connection.client.get_registered_model(self.model_name).description
                ):
                    self.connection.client.update_registered_model(
                        self.model_name, model_description
                    )
            model_id = run.lineage.get("mlflow_model_id")
            if model_id:  # an MLflow Model: MLflow's loader, server and Spark take it
                source = f"models:/{model_id}"
            else:  # a run from before wineq logged MLflow Models: only wineq reads it
                source = (
                    f"{self.connection.client.get_run(run.run_id).info.artifact_uri}/{POINTER_DIR}"
                )
            with self.connection.process_tracking_uri():
                mv = self.connection.client.create_model_version(
                    self.model_name,
                    source,
                    run_id=run.run_id,
                    tags=tags,
                    await_creation_for=0,
                    model_id=model_id,
                    description=description or None,
                )
            self.connection.client.set_registered_model_alias(
                self.model_name, alias, str(mv.version)
            )
        return self.version(str(mv.version))

    def set_alias(self, version: str, alias: str = ALIAS) -> None:
        with self.connection.calls(
            f"moving alias {alias!r}", f"EDIT or MANAGE on registered model {self.model_name!r}"
        ):
            self.connection.client.set_registered_model_alias(self.model_name, alias, version)

    def version(self, version: str, name: Optional[str] = None) -> VersionRecord:
        name = name or self.model_name
        with self.connection.calls(
            f"looking up model {name}/{version}", f"READ on registered model {name!r}"
        ):
            return version_record(self.connection.client.get_model_version(name, version))

    def version_by_alias(self, alias: str, name: Optional[str] = None) -> VersionRecord:
        from mlflow.exceptions import MlflowException

        name = name or self.model_name
        with self.connection.calls(
            f"looking up model {name}@{alias}", f"READ on registered model {name!r}"
        ):
            try:
                return version_record(
                    self.connection.client.get_model_version_by_alias(name, alias)
                )
            except MlflowException as exc:
                # A missing alias is INVALID_PARAMETER_VALUE to MLflow; to a user it is as
                # missing as a missing version, so ask the registry which it is.
                aliases = self.connection.client.get_registered_model(name).aliases or {}
                if alias not in aliases:
                    raise NotFoundError(f"model {name} has no alias {alias!r}") from exc
                raise

    def champion_history(self) -> list[ChampionMove]:
        """Every recorded move of the champion alias, oldest first."""
        import json

        from mlflow.exceptions import MlflowException

        with self.connection.calls(
            f"reading the champion's history of {self.model_name!r}",
            f"READ on registered model {self.model_name!r}",
        ):
            try:
                tags = self.connection.client.get_registered_model(self.model_name).tags or {}
            except MlflowException as exc:
                if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                    return []
                raise
        moves = sorted((k, v) for k, v in tags.items() if k.startswith(HISTORY_TAG))
        found = []
        for _, value in moves:
            try:
                found.append(ChampionMove(**json.loads(value)))
            except (ValueError, TypeError):
                continue  # a tag someone edited by hand in the UI: not a move wineq wrote
        return found

    def record_move(self, move: ChampionMove) -> None:
        """Append `move` to the champion's history (a tag of the registered model)."""
        import json

        with self.connection.calls(
            "recording the champion's move", f"EDIT on registered model {self.model_name!r}"
        ):
            tags = self.connection.client.get_registered_model(self.model_name).tags or {}
            numbers = [int(k[len(HISTORY_TAG) :]) for k in tags if k[len(HISTORY_TAG) :].isdigit()]
            key = f"{HISTORY_TAG}{max(numbers, default=0) + 1:04d}"
            value = json.dumps(move.as_dict(), ensure_ascii=False)
            self.connection.client.set_registered_model_tag(self.model_name, key, value)

    def tag_version(self, version: str, tags: dict[str, str]) -> None:
        with self.connection.calls(
            f"tagging {self.model_name}/{version}", f"EDIT on registered model {self.model_name!r}"
        ):
            for key, value in tags.items():
                self.connection.client.set_model_version_tag(self.model_name, version, key, value)
