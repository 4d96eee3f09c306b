"""Which model bytes the tracking store still references, for `wineq gc`: every run of
every experiment (live or deleted, as MLflow's ViewType tells them apart) and every
version of every registered model, by the md5 their lineage tags record.

A run that `mlflow gc` has removed for good is in neither list: its bytes are nobody's."""

from __future__ import annotations

from winequality.adapters.mlflow.connection import Connection
from winequality.adapters.mlflow.registry import version_record
from winequality.adapters.mlflow.runs import run_record
from winequality.records import References

PAGE = 1000


def references(connection: Connection) -> References:
    """The model md5s live runs and registered versions reference, and those only deleted
    runs do, each with who references it (a run id, or NAME/VERSION)."""
    from mlflow.entities import ViewType

    live: dict[str, list[str]] = {}
    deleted: dict[str, list[str]] = {}
    client = connection.client
    with connection.calls("listing every run and registered version", "READ on every experiment"):
        experiments = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
        for view, into in ((ViewType.ACTIVE_ONLY, live), (ViewType.DELETED_ONLY, deleted)):
            for run in _every_run(client, experiments, view):
                record = run_record(run)
                if record.lineage.get("model_md5"):
                    into.setdefault(record.lineage["model_md5"], []).append(record.run_id)
        for mv in _every_version(client):
            version = version_record(mv, ())
            if version.lineage.get("model_md5"):
                live.setdefault(version.lineage["model_md5"], []).append(version.label)
    return References(live, {md5: ids for md5, ids in deleted.items() if md5 not in live})


def _every_run(client, experiments: list[str], view):
    token = None
    while experiments:
        page = client.search_runs(
            experiments, run_view_type=view, max_results=PAGE, page_token=token
        )
        yield from page
        token = page.token
        if not token:
            return


def _every_version(client):
    token = None
    while True:
        page = client.search_model_versions(max_results=PAGE, page_token=token)
        yield from page
        token = page.token
        if not token:
            return
