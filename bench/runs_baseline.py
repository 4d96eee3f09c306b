"""The baseline of runs_scale: the newest 20 runs straight from MlflowClient.

    python bench/runs_baseline.py

Run by its path in a wineq project; uses the same store, experiment and columns as
`wineq runs`.
"""

from pathlib import Path


def main() -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{Path.cwd() / 'mlflow.db'}?timeout=60")
    experiment = client.get_experiment_by_name("wine-quality")
    runs = client.search_runs(
        [experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=20
    )
    for r in runs:
        m = r.data.metrics
        print(
            r.info.run_id[:8],
            r.info.start_time,
            r.info.status,
            r.data.params.get("epochs"),
            m.get("test_rmse"),
            m.get("test_mae"),
        )


if __name__ == "__main__":
    main()
