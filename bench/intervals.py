"""How sure, honestly: wineq's intervals and p_premium against extra trees given the same
conformal treatment, on wines neither model saw.

    python -m bench intervals PATH/TO/uci-wine-quality [--json bench/results/intervals.json]

Two protocols, as the quality benchmark's:
1. the fixed test split `wineq train` scores on (split seed 20091), for training seeds
   0-4: what one run's metrics say, and how much that moves from seed to seed;
2. the quality benchmark's 5 grouped folds (identical wines never straddle a fold).

In both, each model learns from the same fitting wines and is calibrated on the same
validation wines (wineq's own validation split), then scored on the held-out wines;
wineq's neighbour memory then holds the validation wines too, so the peer's forest is
refit on fitting + validation wines before it predicts them.
The peer is scikit-learn's ExtraTreesRegressor (500 trees, the best tree model of the
quality benchmark) with split-conformal intervals, twice: plain (one width for every
wine) and normalised by the spread of its trees, through the very code wineq uses
(`winequality.domain.calibration.fit`). Widths are compared twice: as calibrated (the coverage
each method reaches) and at equal coverage (each method's widths scaled until exactly
80% of held-out scores are inside: sharpness with calibration noise taken out).

"Far" wines: the 10% of held-out wines whose 10 nearest fitting wines are farthest away
on average (standardised model inputs): the same wines for every method.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from winequality.domain import calibration as cal
from winequality.domain import model as nn_model
from winequality.domain.params import TrainParams
from winequality.domain.splits import grouped_split, validation_split

from . import summary
from .quality import grouped_folds, load

LEVELS = (0.8, 0.9)
PREMIUM = 7
METHODS = ("wineq", "extra_trees_normalised", "extra_trees_plain")


def far_mask(x: np.ndarray, fit_rows: np.ndarray, test_rows: np.ndarray, k: int = 10):
    """The held-out wines in the top 10% of mean distance to their k nearest fitting wines."""
    mean, std = x[fit_rows].mean(axis=0), x[fit_rows].std(axis=0)
    std[std == 0] = 1
    memory = torch.as_tensor((x[fit_rows] - mean) / std)
    query = torch.as_tensor((x[test_rows] - mean) / std)
    distance = torch.cdist(query, memory).topk(k, dim=1, largest=False).values.mean(dim=1)
    distance = distance.numpy()
    return distance >= np.quantile(distance, 0.9)


def methods_on(data: dict, fit_rows, val_rows, test_rows, seed: int) -> dict:
    """Each method's (calibration, predicted, scale) on the held-out wines."""
    from sklearn.ensemble import ExtraTreesRegressor

    x, y = data["x_nn"], data["y"]
    with nn_model.threads(2):
        net, _ = nn_model.fit(
            x[fit_rows], y[fit_rows], x[val_rows], y[val_rows], TrainParams(seed=seed)
        )
        predicted, scale = nn_model.predict_with_scale(net, x[test_rows])
    found = {"wineq": (net.calibration, predicted, scale)}

    # As wineq's memory takes in the validation wines once they have calibrated it, the
    # forest that predicts the held-out wines is refit on fitting + validation wines;
    # the forest calibrated is the one that never saw the validation wines.
    def forest(rows):
        return ExtraTreesRegressor(n_estimators=500, n_jobs=-1, random_state=seed).fit(
            data["x_raw"][rows], y[rows]
        )

    def per_tree(trees, rows):
        each = np.stack([t.predict(data["x_raw"][rows]) for t in trees.estimators_])
        return each.mean(axis=0), each.std(axis=0)

    val_mean, val_spread = per_tree(forest(fit_rows), val_rows)
    test_mean, test_spread = per_tree(forest(np.concatenate([fit_rows, val_rows])), test_rows)
    zeros_v, zeros_t = np.zeros((len(val_rows), 2)), np.zeros((len(test_rows), 2))
    normalised = cal.fit(val_mean, y[val_rows], np.column_stack([val_spread, zeros_v]))
    test_signs = np.column_stack([test_spread, zeros_t])
    found["extra_trees_normalised"] = (normalised, test_mean, normalised.scale(test_signs))
    plain = cal.fit(val_mean, y[val_rows], np.zeros((len(val_rows), 3)))
    found["extra_trees_plain"] = (
        plain,
        test_mean,
        np.full(len(test_rows), plain.scale(np.zeros((1, 3)))[0]),
    )
    return found


def score(calibration, predicted, scale, true, colours, far, premium_share) -> dict:
    row = cal.evaluate(calibration, true, predicted, scale, colours, PREMIUM, premium_share)
    low, high = calibration.interval(predicted, scale, 0.8)
    width = high - low
    row["width_80_far"] = float(width[far].mean())
    row["width_80_rest"] = float(width[~far].mean())
    # equal coverage: the smallest multiple of each wine's scale holding 80% of true scores
    needed = np.sort(np.abs(true - predicted) / scale)[int(np.ceil(0.8 * len(true))) - 1]
    row["width_80_equal_coverage"] = float(
        np.mean(
            np.clip(predicted + needed * scale, 0, 10) - np.clip(predicted - needed * scale, 0, 10)
        )
    )
    row["p"] = calibration.p_at_least(predicted, scale, PREMIUM).tolist()
    return row


def pooled(rows: list[dict], sizes: list[int]) -> dict:
    """Wine-weighted mean of each metric over folds (NaN-safe for empty groups)."""
    keys = [k for k in rows[0] if k not in ("p", "label")]
    out = {}
    for key in keys:
        values = np.array([r.get(key, np.nan) for r in rows], dtype=float)
        weights = np.array(sizes, dtype=float)
        ok = np.isfinite(values)
        out[key] = float(np.average(values[ok], weights=weights[ok])) if ok.any() else float("nan")
    return out


def run(data: dict, seeds: int) -> dict:
    n = len(data["y"])
    report: dict = {"fixed_split": {}, "folds": {}}
    splits = []
    rest, test = grouped_split(data["keys"], 0.2, 20091)
    for seed in range(seeds):
        splits.append(("fixed_split", f"seed {seed}", rest, test, seed))
    for i, test_rows in enumerate(grouped_folds(data["groups"], 5, seed=0)):
        splits.append(("folds", f"fold {i}", np.setdiff1d(np.arange(n), test_rows), test_rows, 0))
    collected: dict = {"fixed_split": {m: [] for m in METHODS}, "folds": {m: [] for m in METHODS}}
    outcomes: dict = {"fixed_split": [], "folds": []}
    for protocol, label, rest_rows, test_rows, seed in splits:
        started = time.perf_counter()
        fit_rows, val_rows = validation_split(data["keys"], rest_rows, seed)
        far = far_mask(data["x_nn"], fit_rows, test_rows)
        true = data["y"][test_rows]
        colours = np.where(data["red"][test_rows], "red", "white")
        share = float(np.mean(data["y"][fit_rows] >= PREMIUM))
        for method, (calibration, predicted, scale) in methods_on(
            data, fit_rows, val_rows, test_rows, seed
        ).items():
            row = score(calibration, predicted, scale, true, colours, far, share)
            row["label"] = label
            collected[protocol][method].append(row)
        outcomes[protocol].append((true >= PREMIUM).astype(float))
        w = collected[protocol]["wineq"][-1]
        print(
            f"  {protocol:11s} {label:7s} wineq coverage 80% {w['coverage_80']:.3f} "
            f"(red {w['coverage_80_red']:.3f}, white {w['coverage_80_white']:.3f}), 90% "
            f"{w['coverage_90']:.3f}; width {w['width_80']:.3f} vs trees "
            f"{collected[protocol]['extra_trees_normalised'][-1]['width_80']:.3f} "
            f"({time.perf_counter() - started:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    for protocol in ("fixed_split", "folds"):
        sizes = [len(o) for o in outcomes[protocol]]
        outcome = np.concatenate(outcomes[protocol])
        for method in METHODS:
            rows = collected[protocol][method]
            p = np.concatenate([np.array(r.pop("p")) for r in rows])
            entry = {"each": [dict(r) for r in rows], "pooled": pooled(rows, sizes)}
            if protocol == "folds":  # every wine held out once: one reliability table
                entry["reliability"] = cal.reliability(p, outcome)
            report[protocol][method] = entry
    return report


def markdown(report: dict) -> str:
    lines = []
    groups = [("", "all"), ("_red", "red"), ("_white", "white"), ("_le4", "≤ 4"), ("_ge8", "≥ 8")]
    for protocol, title in (
        ("folds", "5 grouped folds (each wine held out once), wine-weighted"),
        ("fixed_split", "the fixed test split of `wineq train`, mean of training seeds 0-4"),
    ):
        lines += [f"**Coverage on {title}** (target 80% / 90%)", ""]
        lines.append("| method | " + " | ".join(f"{g} 80% | {g} 90%" for _, g in groups) + " |")
        lines.append("| --- " * (1 + 2 * len(groups)) + "|")
        for method in METHODS:
            r = report[protocol][method]["pooled"]
            cells = " | ".join(
                f"{r[f'coverage_80{s}']:.1%} | {r[f'coverage_90{s}']:.1%}" for s, _ in groups
            )
            lines.append(f"| {method} | {cells} |")
        lines += [
            "",
            "| method | width 80% | width 90% | width 80% at equal coverage | far 10% | rest | Brier p_premium | Brier, training share |",
            "| --- " * 8 + "|",
        ]
        for method in METHODS:
            r = report[protocol][method]["pooled"]
            lines.append(
                f"| {method} | {r['width_80']:.3f} | {r['width_90']:.3f} | {r['width_80_equal_coverage']:.3f} | "
                f"{r['width_80_far']:.3f} | {r['width_80_rest']:.3f} | {r['brier_premium']:.4f} | "
                f"{r['brier_premium_baseline']:.4f} |"
            )
        lines.append("")
    seeds = report["fixed_split"]["wineq"]["each"]
    lines += [
        "**wineq on the fixed test split, seed by seed**",
        "",
        "| seed | 80% | red | white | 90% | red | white | Brier |",
        "| --- " * 8 + "|",
    ]
    for r in seeds:
        lines.append(
            f"| {r['label']} | {r['coverage_80']:.1%} | {r['coverage_80_red']:.1%} | {r['coverage_80_white']:.1%} | "
            f"{r['coverage_90']:.1%} | {r['coverage_90_red']:.1%} | {r['coverage_90_white']:.1%} | {r['brier_premium']:.4f} |"
        )
    lines += [
        "",
        f"**p_premium = P(quality ≥ {PREMIUM}) reliability, folds pooled**",
        "",
        "| bin | wineq wines | mean p | observed | trees wines | mean p | observed |",
        "| --- " * 7 + "|",
    ]
    ours = {r["bin"]: r for r in report["folds"]["wineq"]["reliability"]}
    theirs = {r["bin"]: r for r in report["folds"]["extra_trees_normalised"]["reliability"]}

    def cells(row) -> str:
        return (
            f"{row['wines']} | {row['predicted']:.3f} | {row['observed']:.3f}"
            if row
            else "0 | - | -"
        )

    for b in sorted(set(ours) | set(theirs)):
        lines.append(f"| {b} | {cells(ours.get(b))} | {cells(theirs.get(b))} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=summary(__doc__))
    parser.add_argument("source", help="folder (or URL) with the two UCI files")
    parser.add_argument("--json", default="bench/results/intervals.json", help="details, as JSON")
    parser.add_argument("--seeds", type=int, default=5, help="training seeds on the fixed split")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = run(load(args.source), args.seeds)
    report["seconds"] = time.perf_counter() - started
    folds = report["folds"]
    report["goals"] = {
        "coverage_80_within_2_points_folds": all(
            abs(folds["wineq"]["pooled"][f"coverage_80{s}"] - 0.8) <= 0.02
            for s in ("", "_red", "_white")
        ),
        "narrower_than_trees_at_equal_coverage": folds["wineq"]["pooled"]["width_80_equal_coverage"]
        < min(folds[m]["pooled"]["width_80_equal_coverage"] for m in METHODS[1:]),
        "far_wines_wider": folds["wineq"]["pooled"]["width_80_far"]
        > folds["wineq"]["pooled"]["width_80_rest"],
        "brier_beats_training_share": folds["wineq"]["pooled"]["brier_premium"]
        < folds["wineq"]["pooled"]["brier_premium_baseline"],
    }
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(markdown(report))
    print(f"\nGoals: {report['goals']}; wall time {report['seconds']:.0f} s; JSON: {out}")
    return 0
