"""The runs workflow (workflows/runs.py): a page of the experiment's runs, newest first,
each with the versions registered from it, on a real MLflow SQLite store."""

from __future__ import annotations

from typing import Optional

import pytest

from winequality.errors import UsageError
from winequality.workflows.runs import list_runs

NAME = "wine-quality"


def registered(make_run, run_id: str, alias: Optional[str] = None) -> str:
    """A version of the model made from `run_id` with MLflow's own client; its number."""
    client = make_run.client
    if not client.search_registered_models(f"name = '{NAME}'"):
        client.create_registered_model(NAME)
    source = f"{client.get_run(run_id).info.artifact_uri}/model"
    version = str(client.create_model_version(NAME, source, run_id=run_id).version)
    if alias:
        client.set_registered_model_alias(NAME, alias, version)
    return version


def test_a_page_lists_the_newest_runs_with_their_registered_versions(tracker, make_run):
    oldest = make_run(0.74, params={"epochs": "30"})
    middle = make_run(0.71, status="FAILED", params={"epochs": "x"})
    newest = make_run(0.69, params={"epochs": "50"})
    registered(make_run, oldest)
    registered(make_run, oldest, alias="champion")
    page = list_runs(tracker, limit=2, page=1)
    assert [r.run_id for r in page.runs] == [newest, middle]
    assert (page.page, page.more, page.registry_hidden) == (1, True, None)
    first = page.runs[0]
    assert (first.status, first.epochs, first.rmse, first.registered) == (
        "FINISHED",
        50,
        0.69,
        [],
    )
    assert first.start.endswith("+00:00") and first.start[:4].isdigit()
    assert page.runs[1].epochs is None  # a value that is no count of epochs shows none
    last = list_runs(tracker, limit=2, page=2)
    assert [r.run_id for r in last.runs] == [oldest] and last.more is False
    assert last.runs[0].registered == ["v2@champion", "v1"]
    beyond = list_runs(tracker, limit=2, page=3)
    assert (beyond.runs, beyond.page, beyond.more) == ([], 3, False)


def test_no_runs_is_an_empty_page(tracker):
    page = list_runs(tracker)
    assert (page.runs, page.page, page.more) == ([], 1, False)


@pytest.mark.parametrize(
    "limit, page, message",
    [(0, 1, "--limit 0: must be at least 1"), (20, 0, "--page 0: must be at least 1")],
)
def test_a_limit_or_page_below_one_is_a_usage_error(tracker, limit, page, message):
    with pytest.raises(UsageError, match=f"^{message}$"):
        list_runs(tracker, limit=limit, page=page)
