"""Reading runs back a page at a time (adapters/mlflow/runs.py, through the
ExperimentTracker facade) from a real SQLite store."""

from __future__ import annotations


def test_pages_hold_the_newest_runs_first_and_say_whether_more_follow(tracker, make_run):
    ids = [make_run(0.7 + i / 100) for i in range(5)]  # each a minute after the last
    newest_first = ids[::-1]
    pages = [tracker.runs_page(2, page) for page in (1, 2, 3)]
    assert [[r.run_id for r in runs] for runs, _ in pages] == [
        newest_first[0:2],
        newest_first[2:4],
        newest_first[4:],
    ]
    assert [more for _, more in pages] == [True, True, False]
    assert tracker.runs_page(2, 4) == ([], False)  # past the end: empty, nothing more
    assert tracker.runs_page(2, 9) == ([], False)
    whole, _ = tracker.runs_page(5, 1)  # at the exact end MLflow may not know it is
    assert [r.run_id for r in whole] == newest_first
    assert tracker.runs_page(5, 2) == ([], False)  # and the next page says so
    assert tracker.runs_page(10, 1)[1] is False


def test_a_page_carries_each_runs_status_metrics_and_params(tracker, make_run):
    make_run(0.71, status="FAILED", params={"epochs": "3"})
    [run], more = tracker.runs_page(1, 1)
    assert (run.status, run.metrics, run.params, more) == (
        "FAILED",
        {"test_rmse": 0.71},
        {"epochs": "3"},
        False,
    )


def test_an_experiment_without_runs_has_empty_pages(tracker):
    assert tracker.runs_page(20, 1) == ([], False)  # the experiment does not exist yet
    assert tracker.runs_page(20, 2) == ([], False)
