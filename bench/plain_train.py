"""The baseline of bench/train_overhead.py: `wineq train`'s training loop alone.

Reads data/wine-quality.csv from the current project with pandas, makes the same test
and validation splits, trains the same model for the same epochs and scores it; no DVC,
no MLflow, no model file.

    python bench/plain_train.py [EPOCHS]
"""

import sys

import numpy as np

from winequality.domain import model as nn_model
from winequality.domain.params import TrainParams
from winequality.domain.splits import group_ids, grouped_split, validation_split
from winequality.io.validation import load_training_frame
from winequality.schema import TARGET
from winequality.settings import Settings

epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
with open("data/wine-quality.csv") as handle:
    frame = load_training_frame(handle, "data/wine-quality.csv")
options = TrainParams(epochs=epochs)
groups = group_ids(frame)
rest, test = grouped_split(groups, options.test_size, Settings.model_fields["split_seed"].default)
fit_rows, val_rows = validation_split(groups, rest, options.seed)
x, y = nn_model.frame_inputs(frame), frame[TARGET].to_numpy(dtype=np.float64)
with nn_model.threads(Settings.model_fields["train_threads"].default):  # as wineq train
    net, _ = nn_model.fit(x[fit_rows], y[fit_rows], x[val_rows], y[val_rows], options)
    rmse = nn_model.regression_metrics(y[test], nn_model.predict(net, x[test]))["rmse"]
print(f"test RMSE {rmse:.4f}")
