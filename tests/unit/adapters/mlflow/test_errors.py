"""Reading MLflow's errors (adapters/mlflow/errors.py): the lost race of two runs
logging one dataset."""

from __future__ import annotations

from winequality.adapters.mlflow.errors import is_duplicate_dataset


def test_the_lost_race_of_two_runs_logging_one_dataset_is_told_apart():
    seen = (  # as an MLflow server on SQLite answered two trainers (CI, 2026-11-29)
        "(sqlite3.IntegrityError) UNIQUE constraint failed: datasets.experiment_id, "
        "datasets.name, datasets.digest"
    )
    assert is_duplicate_dataset(seen)
    assert is_duplicate_dataset('duplicate key value violates unique constraint "datasets_pk"')
    assert not is_duplicate_dataset("UNIQUE constraint failed: runs.run_uuid")
    assert not is_duplicate_dataset("database is locked")
