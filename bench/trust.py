"""When not to trust a prediction, measured: the unusual flag's rate on held-out wines, and
the expected RMSE of a batch against the real one and against the naive estimate.

    python -m bench trust PATH/TO/uci-wine-quality [--seeds 5] [--json bench/results/trust.json]

The fixed test split `wineq train` scores on (split seed 20091) and its validation split,
for training seeds 0..seeds-1, the default training settings. For each model:
- the share of its test wines flagged `unusual`, by the range rule and the distance rule;
- on 200 random batches of 200 test wines, the mean absolute error of the expected RMSE
  (sqrt(mean_square · mean(scale²)), what `wineq infer` prints) against the batch's real
  RMSE, beside the naive estimate's (always the model's RMSE on all its test wines);
- on shifted batches — red wines only, white only, the highest-alcohol tenth, the tenth
  farthest from their nearest training wines — the real RMSE, the estimate and the naive
  estimate.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from winequality.domain import model as nn_model
from winequality.domain.calibration import SIGNS
from winequality.domain.params import TrainParams
from winequality.domain.splits import grouped_split, validation_split

from .quality import load

BATCHES, BATCH = 200, 200
SHIFTS = ("red only", "white only", "highest-alcohol tenth", "farthest tenth")


def _rmse(error: np.ndarray) -> float:
    return float(np.sqrt(np.mean(error**2)))


def one_model(data: dict, seed: int) -> dict:
    x, y = data["x_nn"], data["y"]
    rest, test = grouped_split(data["keys"], 0.2, 20091)
    fit_rows, val_rows = validation_split(data["keys"], rest, seed)
    with nn_model.threads(2):
        net, _ = nn_model.fit(
            x[fit_rows], y[fit_rows], x[val_rows], y[val_rows], TrainParams(seed=seed)
        )
        found = nn_model.predict_with_intervals(net, x[test], 0.8, 7)
        with torch.inference_mode():
            _, signs = net.forward_with_signs(torch.as_tensor(x[test], dtype=torch.float32))
        signs = signs.numpy()
    error = found.quality - y[test]
    mean_square = net.calibration.mean_square
    naive = _rmse(error)

    def expected(mask) -> float:
        return float(np.sqrt(mean_square * np.mean(found.scale[mask] ** 2)))

    summary = net.summary
    inputs = x[test][:, :11].astype(np.float32)
    by_range = ((inputs < summary.low) | (inputs > summary.high)).any(axis=1)
    distance = signs[:, SIGNS.index("neighbour_distance")]
    rng = np.random.default_rng(seed)
    random = []
    for _ in range(BATCHES):
        batch = np.zeros(len(test), dtype=bool)
        batch[rng.choice(len(test), BATCH, replace=False)] = True
        real = _rmse(error[batch])
        random.append((abs(expected(batch) - real), abs(naive - real)))
    red, alcohol = data["red"][test], data["x_raw"][test, 10]
    masks = {
        "red only": red,
        "white only": ~red,
        "highest-alcohol tenth": alcohol >= np.quantile(alcohol, 0.9),
        "farthest tenth": distance >= np.quantile(distance, 0.9),
    }
    shifted = {
        name: {
            "wines": int(mask.sum()),
            "real": _rmse(error[mask]),
            "expected": expected(mask),
            "naive": naive,
        }
        for name, mask in masks.items()
    }
    return {
        "seed": seed,
        "test_wines": len(test),
        "test_rmse": naive,
        "expected_on_test": expected(np.ones(len(test), dtype=bool)),
        "unusual_share": float(found.unusual.mean()),
        "unusual_by_range": float(by_range.mean()),
        "unusual_by_distance": float((distance > summary.distance).mean()),
        "random_mae": float(np.mean([r[0] for r in random])),
        "random_mae_naive": float(np.mean([r[1] for r in random])),
        "shifted": shifted,
    }


def markdown(models: list[dict]) -> str:
    def mean(values) -> float:
        return float(np.mean(list(values)))

    lines = [
        f"Mean of {len(models)} training seeds on the fixed test split "
        f"({models[0]['test_wines']:,} wines).",
        "",
        f"- unusual on test wines: {mean(m['unusual_share'] for m in models):.2%} "
        f"(range rule {mean(m['unusual_by_range'] for m in models):.2%}, distance rule "
        f"{mean(m['unusual_by_distance'] for m in models):.2%})",
        f"- expected RMSE on all test wines {mean(m['expected_on_test'] for m in models):.3f}, "
        f"real {mean(m['test_rmse'] for m in models):.3f}",
        f"- random batches of {BATCH}: mean absolute error of the estimate "
        f"{mean(m['random_mae'] for m in models):.3f}, of the naive estimate "
        f"{mean(m['random_mae_naive'] for m in models):.3f}",
        "",
        "| shifted batch | wines | real RMSE | expected | naive | error of expected | "
        "error of naive |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in SHIFTS:
        rows = [m["shifted"][name] for m in models]
        real, exp, naive = (mean(r[k] for r in rows) for k in ("real", "expected", "naive"))
        err_e = mean(abs(r["expected"] - r["real"]) for r in rows)
        err_n = mean(abs(r["naive"] - r["real"]) for r in rows)
        lines.append(
            f"| {name} | {mean(r['wines'] for r in rows):.0f} | {real:.3f} | {exp:.3f} | "
            f"{naive:.3f} | {err_e:.3f} | {err_n:.3f} |"
        )
    all_e = mean(
        abs(m["shifted"][n]["expected"] - m["shifted"][n]["real"]) for m in models for n in SHIFTS
    )
    all_n = mean(
        abs(m["shifted"][n]["naive"] - m["shifted"][n]["real"]) for m in models for n in SHIFTS
    )
    lines += ["", f"All shifted batches: error of expected {all_e:.3f}, of naive {all_n:.3f}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="folder with the two UCI files")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the details here")
    args = parser.parse_args(argv)
    data = load(args.source)
    models = [one_model(data, seed) for seed in range(args.seeds)]
    print(markdown(models))
    if args.json:
        args.json.write_text(json.dumps(models, indent=2) + "\n")
    return 0
