"""Comparisons in MLflow: each one a run of the experiment `<experiment>-comparisons`.

The run's page shows the verdicts (its description), the numbers (params and metrics,
per model and colour), a plot of the paired errors and the wines with every model's
prediction (a table artifact). Each model's scores are also logged against its MLflow
logged model and the wines as a dataset, so a logged model's page lists every
comparison it took part in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from winequality.adapters.mlflow.connection import Connection
from winequality.adapters.mlflow.runs import Experiment
from winequality.records import Comparison

SUFFIX = "-comparisons"


def metric_prefix(label: str) -> str:
    """A model's label as a metric name's first part: `wine-quality/3 (@champion)` →
    `wine-quality_3`, `run 1a2b3c4d` → `run_1a2b3c4d`."""
    base = label.split(" (", 1)[0]
    return "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in base)


def description(result: Comparison) -> str:
    """The run's description: what was compared on which wines, the table and verdicts."""
    lines = [
        f"**Comparison of {len(result.models)} models on the same {result.wines} wines** "
        f"from {result.source}"
        + (f" ({result.excluded} left out: a compared model trained on them)." if result.excluded else "."),
        "",
        "| model | RMSE | MAE | within 0.5 | 80% coverage | trained on (of offered) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]  # fmt: skip
    for m in result.models:
        s = m.scores["all"]
        coverage = "–" if s["coverage"] is None else f"{s['coverage']:.1%}"
        lines.append(
            f"| {m.label} | {s['rmse']:.4f} | {s['mae']:.4f} | {s['within_0_5']:.1%} | "
            f"{coverage} | {m.trained_on} of {result.offered} |"
        )
    lines += ["", *(f"- {m.verdict}" for m in result.models if m.verdict)]
    lines += ["", *(f"_{note}_" for note in result.notes)]
    return "\n".join(lines).rstrip() + "\n"


class ComparisonLog:
    """Writes comparisons as runs of one experiment."""

    def __init__(self, connection: Connection, experiment: str):
        self.connection = connection
        self.experiment = Experiment(connection, experiment + SUFFIX)

    def record(
        self,
        result: Comparison,
        table: Any,
        plot: Optional[Path],
        model_ids: list[Optional[str]],
        digest: str,
    ) -> tuple[str, Optional[str]]:
        """The comparison's run id and, on a server, its page in the UI."""
        from mlflow.entities import Dataset, DatasetInput, InputTag, LoggedModelInput

        client = self.connection.client
        with self.connection.calls(
            "recording the comparison", f"EDIT on experiment {self.experiment.name!r}"
        ):
            names = " · ".join(m.label for m in result.models)
            run = client.create_run(
                self.experiment.id(), run_name=f"compare {names}"[:250],
                tags={"mlflow.note.content": description(result), "wineq.kind": "comparison"},
            )  # fmt: skip
            run_id = run.info.run_id
            dataset = Dataset(
                name="comparison-wines", digest=digest, source_type="wineq",
                source=json.dumps({"wines": result.source, "n": result.wines}),
                schema=None, profile=json.dumps({"wines": result.wines, "left_out": result.excluded}),
            )  # fmt: skip
            models = [LoggedModelInput(i) for i in dict.fromkeys(model_ids) if i]
            inputs = [DatasetInput(dataset, [InputTag("mlflow.data.context", "evaluation")])]
            client.log_inputs(run_id, inputs, models=models or None)
            self._log_numbers(run_id, result, model_ids, digest)
            client.log_text(run_id, json.dumps(result.as_dict(), indent=2), "comparison.json")
            if plot is not None:
                client.log_artifact(run_id, str(plot), "plots")
            client.log_table(run_id, table, "comparison_wines.json")
            client.set_terminated(run_id, "FINISHED")
        url = None
        if self.connection.store.is_server:
            store = self.connection.store.display.rstrip("/")
            url = f"{store}/#/experiments/{run.info.experiment_id}/runs/{run_id}"
        return run_id, url

    def _log_numbers(self, run_id: str, result: Comparison, model_ids, digest: str) -> None:
        """Params, and every model's scores in one batch, each linked to its logged model
        and the wines when the model has one."""
        import time

        from mlflow.entities import Metric, Param

        params = [
            Param("wines", str(result.wines)),
            Param("source", result.source[:500]),
            Param("left_out", str(result.excluded)),
            Param("models", " · ".join(m.label for m in result.models)[:500]),
        ]
        now, metrics = int(time.time() * 1000), []
        for m, model_id in zip(result.models, model_ids, strict=True):
            numbers = {
                f"{k}{'' if colour == 'all' else '_' + colour}": v
                for colour, s in m.scores.items()
                for k, v in s.items()
                if k != "wines" and v is not None
            }
            if m.difference:
                numbers["rmse_minus_first"] = m.difference["rmse"]
            link = {
                "model_id": model_id,
                "dataset_name": "comparison-wines",
                "dataset_digest": digest,
            }
            metrics += [
                Metric(f"{metric_prefix(m.label)}.{key}", float(value), now, 0, **(link if model_id else {}))
                for key, value in numbers.items()
            ]  # fmt: skip
        self.connection.client.log_batch(run_id, metrics=metrics, params=params)
