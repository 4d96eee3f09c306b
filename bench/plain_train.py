"""The baseline of train_overhead: `wineq train`'s training loop alone.

    python bench/plain_train.py [EPOCHS]

Run by its path in a wineq project: reads data/wine-quality.csv with pandas, makes the
same test and validation splits, trains the same model for the same epochs and scores
it; no DVC, no MLflow, no model file.
"""

import sys


def main(epochs: int) -> None:
    import numpy as np

    from winequality.domain import model as nn_model
    from winequality.domain.params import TrainParams
    from winequality.domain.splits import grouped_split, validation_split, wine_keys
    from winequality.io.validation import load_training_frame
    from winequality.schema import TARGET
    from winequality.settings import Settings

    with open("data/wine-quality.csv") as handle:
        frame = load_training_frame(handle, "data/wine-quality.csv")
    options = TrainParams(epochs=epochs)
    groups = wine_keys(frame)
    split_seed = Settings.model_fields["split_seed"].default
    rest, test = grouped_split(groups, options.test_size, split_seed)
    fit_rows, val_rows = validation_split(groups, rest, options.seed)
    x, y = nn_model.frame_inputs(frame), frame[TARGET].to_numpy(dtype=np.float64)
    with nn_model.threads(Settings.model_fields["train_threads"].default):  # as wineq train
        net, _ = nn_model.fit(x[fit_rows], y[fit_rows], x[val_rows], y[val_rows], options)
        rmse = nn_model.regression_metrics(y[test], nn_model.predict(net, x[test]))["rmse"]
    print(f"test RMSE {rmse:.4f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
