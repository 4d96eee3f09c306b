"""What a run tells about itself: plots, its test predictions, a description, DVC's files.

Pure functions of one run's outcome (an `Evaluation`): no MLflow and no DVC here. The
tracker logs what these make; a DVC stage (`wineq train --report DIR`) gets the same
numbers as files that `dvc metrics`, `dvc plots` and `dvc exp show` read.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from winequality.domain.calibration import LEVELS, coverage_rows
from winequality.domain.params import TrainParams
from winequality.io.atomic import write_atomic
from winequality.records import TEST_METRICS
from winequality.schema import (
    COLOR,
    COLORS,
    DEFAULT_INTERVAL,
    DEFAULT_PREMIUM,
    FEATURES,
    P_PREMIUM,
    PREDICTION,
    QUALITY_HIGH,
    QUALITY_LOW,
    TARGET,
)
from winequality.settings import DATA_FILE

ERROR = "error"
"""predicted minus true quality: above 0, the model rates the wine too high."""
COLOURS = {"red": "#9b1d3a", "white": "#c9a227"}
RARE_SHARE = 0.05  # quality levels holding fewer of the test wines than this are "rare"


@dataclass(frozen=True)
class Evaluation:
    """One run's outcome: its params, loss curves, test wines with predictions, metrics."""

    run_id: str
    params: TrainParams
    train_loss: list[float]
    val_loss: list[float]
    best_epoch: int
    test: pd.DataFrame
    """The held-out wines: their features, colour, quality and `predicted_quality`."""
    metrics: dict[str, float]
    lineage: dict[str, str] = field(default_factory=dict)
    """data_md5, git_commit, git_dirty, split_seed, n_train, n_val, n_test, model_path,
    model_md5, dvc_remote, mlflow_model_id, dvc_experiment: whatever is known."""
    reliability: list[dict] = field(default_factory=list)
    """p_premium's reliability table on the test wines (calibration.reliability)."""


def predictions_table(test: pd.DataFrame) -> pd.DataFrame:
    """The test wines with their prediction and its error, in the order they were scored."""
    table = test.copy()
    table[ERROR] = (table[PREDICTION] - table[TARGET]).round(6)
    return table


def error_by_quality(test: pd.DataFrame) -> pd.DataFrame:
    """Per true quality level: how many test wines, their mean error (the bias), MAE, RMSE."""
    error = test[PREDICTION] - test[TARGET]
    grouped = pd.DataFrame({TARGET: test[TARGET], ERROR: error, COLOR: test[COLOR]}).groupby(TARGET)
    table = pd.DataFrame(
        {
            "wines": grouped.size(),
            "red": grouped[COLOR].apply(lambda c: int((c == "red").sum())),
            "white": grouped[COLOR].apply(lambda c: int((c == "white").sum())),
            "mean_error": grouped[ERROR].mean(),
            "mae": grouped[ERROR].apply(lambda e: float(np.mean(np.abs(e)))),
            "rmse": grouped[ERROR].apply(lambda e: float(np.sqrt(np.mean(e**2)))),
        }
    )
    table.index = table.index.astype(int)
    return table.reset_index()


# ------------------------------------------------------------------ plots


def _figure(width: float = 6.4, height: float = 4.2):
    # Figure, not pyplot: no global state, no GUI backend, safe in threads and servers
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=110, layout="constrained")
    return figure


def plot_loss(e: Evaluation, path: Path) -> Path:
    figure = _figure()
    ax = figure.subplots()
    epochs = np.arange(1, len(e.train_loss) + 1)
    ax.plot(epochs, e.train_loss, label="training", color="#4c72b0")
    ax.plot(epochs, e.val_loss, label="validation", color="#dd8452")
    if 1 <= e.best_epoch <= len(e.val_loss):
        ax.axvline(e.best_epoch, color="grey", linestyle="--", linewidth=1)
        ax.plot([e.best_epoch], [e.val_loss[e.best_epoch - 1]], "o", color="#dd8452")
        ax.annotate(
            f"kept: epoch {e.best_epoch}",
            (e.best_epoch, e.val_loss[e.best_epoch - 1]),
            textcoords="offset points",
            xytext=(6, 10),
        )
    ax.set(xlabel="epoch", ylabel="mean squared error", title=f"Loss by epoch, run {e.run_id[:8]}")
    ax.grid(alpha=0.3)
    ax.legend()
    figure.savefig(path)
    return path


def plot_predicted_vs_true(e: Evaluation, path: Path) -> Path:
    figure = _figure(9.6, 4.4)
    axes = figure.subplots(1, len(COLORS), sharex=True, sharey=True)
    rng = np.random.default_rng(0)
    for ax, colour in zip(axes, COLORS, strict=True):
        wines = e.test[e.test[COLOR] == colour]
        if wines.empty:
            ax.set_title(f"{colour}: no test wines")
            continue
        true = wines[TARGET].to_numpy(dtype=float)
        jitter = rng.uniform(-0.18, 0.18, len(true))  # quality is an integer: spread the dots
        ax.scatter(true + jitter, wines[PREDICTION], s=8, alpha=0.35, color=COLOURS[colour])
        levels = np.unique(true)
        means = [wines[PREDICTION][true == q].mean() for q in levels]
        ax.plot(levels, means, "o-", color="black", label="mean prediction")
        low, high = 2.5, 9.5
        ax.plot([low, high], [low, high], color="grey", linestyle="--", label="perfect")
        rmse = e.metrics.get(f"test_rmse_{colour}")
        ax.set_title(f"{colour} ({len(wines):,} wines, RMSE {rmse:.3f})" if rmse else colour)
        ax.set(xlabel="true quality", xlim=(low, high), ylim=(low, high))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("predicted quality")
    for ax in axes:  # the legend on the first panel with wines in it
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left")
            break
    figure.suptitle("Predicted against true quality, held-out test wines")
    figure.savefig(path)
    return path


def plot_error_by_quality(e: Evaluation, path: Path) -> Path:
    table = error_by_quality(e.test)
    figure = _figure()
    ax = figure.subplots()
    levels = table[TARGET].to_numpy()
    ax.bar(levels - 0.2, table["mean_error"], width=0.4, label="mean error (bias)", color="#4c72b0")
    ax.bar(levels + 0.2, table["rmse"], width=0.4, label="RMSE", color="#dd8452")
    ax.axhline(0, color="black", linewidth=0.8)
    tops = table[["mean_error", "rmse"]].max(axis=1).clip(lower=0)
    for level, wines, top in zip(levels, table["wines"], tops, strict=True):
        ax.annotate(
            f"n={wines}", (level, top), textcoords="offset points", xytext=(0, 3), ha="center"
        )
    ax.set_xticks(levels)
    ax.set(
        xlabel="true quality",
        ylabel="predicted − true",
        title="Error by true quality level (n: test wines at that level)",
    )
    ax.grid(alpha=0.3, axis="y")
    ax.legend()
    figure.savefig(path)
    return path


def plot_calibration(e: Evaluation, path: Path) -> Path:
    """Left: p_premium's reliability (predicted against observed); right: interval coverage."""
    figure = _figure(10.4, 4.4)
    left, right = figure.subplots(1, 2)
    table = pd.DataFrame(e.reliability)
    premium = int(e.lineage.get("premium", 7))
    left.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    if not table.empty:
        left.plot(table["predicted"], table["observed"], "o-", color="#9b1d3a", label="wineq")
        for row in table.itertuples(index=False):
            left.annotate(
                f"{row.wines}", (row.predicted, row.observed), textcoords="offset points",
                xytext=(4, -10), fontsize=7,
            )  # fmt: skip
    share = e.metrics.get("test_brier_premium_baseline")
    left.set(
        xlabel=f"predicted P(quality ≥ {premium})",
        ylabel="observed share",
        xlim=(0, 1),
        ylim=(0, 1),
        title=f"p_premium on test wines (n per bin); Brier {e.metrics.get('test_brier_premium', math.nan):.3f}"
        + (f" vs {share:.3f}" if share is not None else ""),
    )
    left.grid(alpha=0.3)
    left.legend(loc="upper left")
    rows = coverage_rows(e.metrics)
    positions = np.arange(len(rows))
    for offset, (level, colour) in zip(
        (-0.2, 0.2), zip(LEVELS, ("#4c72b0", "#dd8452"), strict=True), strict=True
    ):
        tag = round(level * 100)
        right.bar(
            positions + offset, [found[tag] for _, _, found in rows], width=0.4,
            color=colour, label=f"{tag}% interval",
        )  # fmt: skip
        right.axhline(level, color=colour, linestyle="--", linewidth=1)
    right.set_xticks(positions, [label for label, _, _ in rows], fontsize=8)
    right.set(ylim=(0, 1), ylabel="share of true scores inside", title="Interval coverage")
    right.grid(alpha=0.3, axis="y")
    right.legend(loc="lower left")
    figure.savefig(path)
    return path


def draw_plots(e: Evaluation, folder: Path) -> list[Path]:
    """The run's plots as PNG files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    plots = [
        plot_loss(e, folder / "loss.png"),
        plot_predicted_vs_true(e, folder / "predicted_vs_true.png"),
        plot_error_by_quality(e, folder / "error_by_quality.png"),
    ]
    if e.reliability:
        plots.append(plot_calibration(e, folder / "calibration.png"))
    return plots


# ------------------------------------------------------------------ text


def metrics_table(metrics: dict[str, float], counts: dict[str, int]) -> str:
    """Markdown: the test metrics overall and per colour."""
    rows = ["| test wines | " + " | ".join(label for _, label in TEST_METRICS) + " |"]
    rows.append("|---" * (len(TEST_METRICS) + 1) + "|")
    for group in ("all", *COLORS):
        suffix = "" if group == "all" else f"_{group}"
        if f"test_rmse{suffix}" not in metrics:
            continue
        cells = []
        for name, _ in TEST_METRICS:
            value = metrics.get(f"test_{name}{suffix}")
            cells.append(
                "" if value is None else (f"{value:.1%}" if "within" in name else f"{value:.4f}")
            )
        rows.append(f"| {group} ({counts.get(group, 0):,}) | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def rare_levels(e: Evaluation) -> list[str]:
    """Sentences on the quality levels few test wines have: how far off the model is there."""
    table = error_by_quality(e.test)
    total = int(table["wines"].sum())
    found = []
    for row in table.itertuples(index=False):
        if row.wines < RARE_SHARE * total:
            found.append(
                f"quality {getattr(row, TARGET)}: {row.wines} wines, mean error "
                f"{row.mean_error:+.2f}, RMSE {row.rmse:.2f}"
            )
    return found


def describe(e: Evaluation) -> str:
    """The run's description (MLflow's run description, markdown)."""
    p, lin = e.params, e.lineage
    counts = {"all": len(e.test), **{c: int((e.test[COLOR] == c).sum()) for c in COLORS}}
    dirty = " with uncommitted changes" if lin.get("git_dirty") == "true" else ""
    lines = [
        f"**Wine quality regressor**: {p.members} networks (hidden {','.join(map(str, p.hidden))}), "
        f"{len(e.train_loss)} epochs (kept epoch {e.best_epoch}), seed {p.seed}.",
        "",
        f"- **Data**: `{DATA_FILE}` (data.dvc md5 `{lin.get('data_md5', '?')}`), "
        f"{lin.get('n_train', '?')} training, {lin.get('n_val', '?')} validation and "
        f"{lin.get('n_test', '?')} test wines; the test split is fixed by split seed "
        f"{lin.get('split_seed', '?')} (groups of identical wines never straddle it).",
        f"- **Code**: git `{lin.get('git_commit', '?')[:12]}`{dirty}.",
    ]
    if lin.get("dvc_experiment"):
        lines.append(
            f"- **DVC experiment**: `{lin['dvc_experiment']}` (baseline "
            f"`{lin.get('dvc_baseline', '?')[:12]}`)."
        )
    lines += ["", "**Held-out test metrics**", "", metrics_table(e.metrics, counts), ""]
    lines += calibration_text(e)
    rare = rare_levels(e)
    if rare:
        lines += ["**Rare quality levels** (few wines to learn from):", ""]
        lines += [f"- {sentence}" for sentence in rare]
        lines.append("")
    if lin.get("model_md5"):
        lines += [
            f"**Model bytes** in DVC: `{lin.get('model_path')}` md5 `{lin['model_md5']}` "
            f"on remote {lin.get('dvc_remote', '?')}.",
            "",
            "**Use it**",
            "",
            "```",
            f"wineq register --run-id {e.run_id}",
            f"wineq infer wines.csv --run-id {e.run_id}",
        ]
        if lin.get("mlflow_model_id"):
            lines.append(
                f'mlflow.pyfunc.load_model("models:/{lin["mlflow_model_id"]}")  '
                "# with wineq installed"
            )
        lines += ["```", ""]
    level = lin.get("interval")
    interval = (
        f", its {float(level) * 100:g}% interval and p_premium" if level and e.reliability else ""
    )
    lines.append(
        "Plots: `plots/` (loss by epoch, predicted against true, error by quality, "
        f"calibration); every test wine with its prediction{interval}: "
        "`test_predictions.json`."
    )
    return "\n".join(lines)


def calibration_text(e: Evaluation) -> list[str]:
    """Markdown lines: interval coverage per group, widths, p_premium's Brier score."""
    rows = coverage_rows(e.metrics)
    if not rows:
        return []
    levels = [round(level * 100) for level in LEVELS]
    lines = [
        "**How sure** (intervals and p_premium calibrated on the validation wines, "
        "scored on the test wines):",
        "",
        "| test wines | " + " | ".join(f"inside {tag}% interval" for tag in levels) + " |",
        "|---" * (len(levels) + 1) + "|",
    ]
    for label, _, found in rows:
        lines.append(f"| {label} | " + " | ".join(f"{found[t]:.1%}" for t in levels) + " |")
    widths = ", ".join(
        f"{tag}%: {e.metrics[f'test_width_{tag}']:.2f}" for tag in levels
        if f"test_width_{tag}" in e.metrics
    )  # fmt: skip
    lines += ["", f"Mean interval width: {widths}."]
    if "test_brier_premium" in e.metrics:
        premium = e.lineage.get("premium", "7")
        lines.append(
            f"p_premium = P(quality ≥ {premium}): Brier score "
            f"{e.metrics['test_brier_premium']:.4f} against "
            f"{e.metrics['test_brier_premium_baseline']:.4f} for always saying the training "
            "share of premium wines (lower is better)."
        )
    if e.reliability:
        lines += [
            "",
            "| p_premium bin | wines | mean p_premium | observed share |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {r['bin']} | {r['wines']} | {r['predicted']:.3f} | {r['observed']:.3f} |"
            for r in e.reliability
        ]
    lines.append("")
    return lines


def model_description(name: str) -> str:
    """The registered model's description: what it predicts, its inputs, how to use it."""
    return "\n".join(
        [
            "Predicts the sensory quality score (0-10, the median of at least three "
            "tasters; UCI Wine Quality data) of a red or white vinho verde from its "
            "physico-chemical analysis.",
            "",
            f"- **Inputs**: {', '.join(FEATURES)} (numbers, as in the UCI files) and "
            f"`{COLOR}` (`red` or `white`).",
            f"- **Output**: `{PREDICTION}` (a number; the scores are whole numbers), "
            f"`{QUALITY_LOW}`..`{QUALITY_HIGH}` (an interval holding the true score with "
            f"the probability of the `interval` param, default {DEFAULT_INTERVAL}) and "
            f"`{P_PREMIUM}` (the chance of a score of the `premium` param or more, "
            f"default {DEFAULT_PREMIUM}).",
            "- **Bytes**: in DVC, never in MLflow. Each version's tags `wineq.model_path`, "
            "`wineq.model_md5` and `wineq.dvc_remote` name exactly the bytes that earned "
            "its metrics; its run holds the params, metrics, plots and lineage.",
            "",
            f"Use: `wineq infer wines.csv --model {name}@champion`, or "
            f'`mlflow.pyfunc.load_model("models:/{name}@champion")` with wineq installed.',
        ]
    )


def version_description(run_id: str, metrics: dict[str, float], lineage: dict[str, str]) -> str:
    """A registered version's description: its run, test metrics, lineage."""
    per_colour = ", ".join(
        f"{c} {metrics[f'test_rmse_{c}']:.4f}" for c in COLORS if f"test_rmse_{c}" in metrics
    )
    rmse = metrics.get("test_rmse")
    lines = [
        f"From run `{run_id}`"
        + (
            f" (DVC experiment `{lineage['dvc_experiment']}`)"
            if lineage.get("dvc_experiment")
            else ""
        )
        + (f": held-out test RMSE **{rmse:.4f}**" if rmse is not None else "")
        + (f" ({per_colour})" if per_colour else "")
        + (f", MAE {metrics['test_mae']:.4f}" if "test_mae" in metrics else "")
        + ".",
        "",
        f"- Data: data.dvc md5 `{lineage.get('data_md5', '?')}`",
        f"- Code: git `{lineage.get('git_commit', '?')[:12]}`"
        + (" (uncommitted changes)" if lineage.get("git_dirty") == "true" else ""),
        f"- Bytes: DVC `{lineage.get('model_path', '?')}` md5 `{lineage.get('model_md5', '?')}` "
        f"on {lineage.get('dvc_remote', '?')}",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------ DVC stage files


def write_stage_files(e: Evaluation, folder: Path) -> list[Path]:
    """metrics.json and the plot data DVC reads (`dvc metrics/plots/exp show`), atomically.

    The metrics keep MLflow's names; `mlflow_run_id` and `model_md5` name the run and the
    bytes, so an experiment leads to its run and its model.
    """
    plots = folder / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    metrics: dict[str, object] = {  # a metric that does not exist (r2 of one score) is null
        k: int(v) if k == "best_epoch" else round(float(v), 6) if math.isfinite(v) else None
        for k, v in sorted(e.metrics.items())
    }
    metrics["mlflow_run_id"] = e.run_id
    metrics["model_md5"] = e.lineage.get("model_md5", "")
    written = {
        folder / "metrics.json": json.dumps(metrics, indent=2, allow_nan=False) + "\n",
        plots / "loss.csv": pd.DataFrame(
            {
                "epoch": range(1, len(e.train_loss) + 1),
                "train_loss": np.round(e.train_loss, 6),
                "val_loss": np.round(e.val_loss, 6),
            }
        ).to_csv(index=False),
        plots / "predictions.csv": predictions_table(e.test)[
            [COLOR, TARGET, PREDICTION, ERROR]
        ].to_csv(index=False),
        plots / "error_by_quality.csv": error_by_quality(e.test).round(6).to_csv(index=False),
    }
    if e.reliability:
        written[plots / "reliability.csv"] = (
            pd.DataFrame(e.reliability).round(6).to_csv(index=False)
        )
    for path, text in written.items():
        write_atomic(path, text.encode())
    return list(written)
