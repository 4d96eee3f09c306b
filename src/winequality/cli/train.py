"""`wineq train`: its options generated from the one definition of each hyper-parameter."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Optional

import typer

from winequality.cli import context, render
from winequality.domain.params import DEFAULTS, TrainParams, knobs, option, read_params_file
from winequality.schema import COLORS


def train(
    ctx: typer.Context,
    as_json: bool = False,
    params_file: Optional[Path] = None,
    report: Optional[Path] = None,
    **values,
) -> None:
    """Train on the DVC-tracked data, score on held-out wines, store the model, log the run.

    Example: wineq train --epochs 50 --seed 1
    """
    base = None
    if params_file:  # checked as the file's values, so an error names the file's line
        base = TrainParams.from_text(
            read_params_file(params_file), name_of=lambda name: f"{params_file}: train.{name}"
        )
    given = {  # options given on the command line win over the file
        name: str(value)
        for name, value in values.items()
        if base is None or getattr(ctx.get_parameter_source(name), "name", None) != "DEFAULT"
    }
    params = TrainParams.from_text(given, base)
    service = context.service("train")
    with render.epoch_progress(params.epochs) as on_epoch:
        result = service.train(params, on_epoch, report_dir=report)
    if result.data_pushed_to:
        typer.echo(
            f"The data version {result.data_md5} was only in this clone: pushed it to DVC "
            f"remote {result.data_pushed_to!r} first, so any clone can fetch this run's data.",
            err=True,
        )
    if as_json:
        context.print_json(result.as_dict())
        return
    m = result.metrics
    typer.echo(
        f"Run {result.run_id}: test RMSE {m['test_rmse']:.4f}, MAE {m['test_mae']:.4f}, "
        f"R² {m['test_r2']:.3f}, within 0.5: {m['test_within_0_5']:.1%} "
        f"({result.n_test:,} held-out wines; best epoch {result.best_epoch})"
    )
    for colour in COLORS:
        if f"test_rmse_{colour}" in m:
            typer.echo(
                f"  {colour:5s} RMSE {m[f'test_rmse_{colour}']:.4f}, MAE {m[f'test_mae_{colour}']:.4f}"
            )
    typer.echo(
        f"Model {result.model_path} md5 {result.model_md5} stored in DVC and pushed; "
        f"run {result.run_id[:8]} in MLflow is its record (nothing to commit)."
    )


def _train_signature() -> inspect.Signature:
    """train's options, generated from params.TrainParams: one definition of each."""
    options = []
    for name, spec in knobs():
        default = getattr(DEFAULTS, name)
        kind = type(default) if isinstance(default, (int, float)) else str
        options.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=typer.Option(
                    default if kind is not str else spec.format(default),
                    option(name),
                    help=spec.help,
                ),
                annotation=kind,
            )
        )

    def keyword(name: str, annotation, option) -> inspect.Parameter:
        return inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation
        )

    ctx = inspect.Parameter(
        "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
    )
    extra = [
        keyword(
            "params_file",
            Optional[Path],
            typer.Option(
                None,
                "--params",
                help="A YAML file whose `train:` section sets the options (DVC's "
                "params.yaml); options given on the command line win.",
            ),
        ),
        keyword(
            "report",
            Optional[Path],
            typer.Option(
                None,
                "--report",
                help="Also write metrics.json and plot data into this folder (what "
                "dvc.yaml's stage declares for `dvc exp show` and `dvc plots`).",
            ),
        ),
        keyword("as_json", bool, typer.Option(False, "--json", help="Print the result as JSON.")),
    ]
    return inspect.Signature([ctx, *options, *extra])


train.__signature__ = _train_signature()  # type: ignore[attr-defined]
