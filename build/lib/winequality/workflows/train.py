"""Workflow: pull the data, train, score on the fixed test split, store the model in DVC,
and record everything (params, metrics, lineage) in one MLflow run."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional

from winequality.domain.params import VAL_FRACTION, TrainParams
from winequality.domain.splits import SPLIT_RULE
from winequality.errors import ConfigError, Interrupted, StoreError, UsageError, WineqError
from winequality.processes import process_tag
from winequality.records import TAG_PREFIX, StoredFile, TrainResult
from winequality.schema import COLOR, COLORS, P_PREMIUM, PREDICTION, QUALITY_HIGH, QUALITY_LOW
from winequality.settings import DATA_FILE, MODEL_FILE, Settings
from winequality.workflows.ports import Store, Tracker

# What DVC's experiments change in a work tree without changing the code: the params
# (each run logs them), DVC's lock file and the stage's reports. They do not make it dirty.
EXPERIMENT_FILES = ("params.yaml", "dvc.lock", "reports")


def git_state(root: Path) -> tuple[str, bool]:
    """(commit, dirty) of the work tree; ('none', True) outside git.

    Dirty means a tracked file other than `EXPERIMENT_FILES` differs from the commit.
    """
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        changes = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ":(top)",  # the whole repository, even when the project is a folder of it
                *(f":(exclude){name}" for name in EXPERIMENT_FILES),  # the project's own
            ],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "none", True
    return commit, bool(changes)


def _sigterm_as_interrupt() -> Callable[[], None]:
    """Treat SIGTERM like Ctrl-C while training, so a stopped job ends its run as KILLED.

    Returns the function that puts the previous handler back.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


# What a deployment machine installs to load a run's MLflow Model (wineq's own code
# travels with the model): pinned to the versions that trained it.
DEPLOYMENT_PACKAGES = (
    "mlflow",
    "torch",
    "dvc",
    "dvc-s3",
    "pandas",
    "numpy",
    "pydantic-settings",
    "filelock",
    "pyyaml",
)


def deployment_requirements() -> list[str]:
    """`name==version` of each deployment package installed here (local builds unpinned
    from their `+cpu` tags, which no package index serves)."""
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in DEPLOYMENT_PACKAGES:
        try:
            found.append(f"{name}=={version(name).split('+', 1)[0]}")
        except PackageNotFoundError:
            pass
    return found


def _pointer(md5: str, size: int, path: str) -> str:
    """A .dvc file for the model: enough for `dvc pull`/`dvc get` to find the bytes."""
    return f"outs:\n- md5: {md5}\n  size: {size}\n  hash: md5\n  path: {Path(path).name}\n"


def _dataset_profile(frame, test, counts: dict[str, int], split_seed: int) -> dict:
    colours = frame[COLOR].to_numpy()
    return {
        "wines": len(frame),
        **{c: int((colours == c).sum()) for c in COLORS},
        **{f"{c}_test": int((colours[test] == c).sum()) for c in COLORS},
        **counts,
        "split_seed": split_seed,
    }


def _checked_report_dir(folder: Optional[Path]) -> None:
    """Fail before any run starts when `--report` cannot be written."""
    if folder is None:
        return
    try:
        (folder / "plots").mkdir(parents=True, exist_ok=True)
        probe = folder / ".wineq-write-check"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(
            f"--report {folder}: cannot write there ({exc.strerror or exc}); "
            "give a folder you can write to"
        ) from None


def _check_interval_setting(level: float, n_val: int) -> None:
    """Fail before training when the run's validation wines cannot calibrate `level`."""
    from winequality.domain.calibration import MIN_CALIBRATION_WINES, highest_level, supported

    if n_val >= MIN_CALIBRATION_WINES and not supported(level, n_val):
        raise ConfigError(
            f"setting WINEQ_INTERVAL {level:g}: this run calibrates its intervals on {n_val} "
            f"validation wines, enough for a level of at most {highest_level(n_val):g}; lower it"
        )


@dataclass
class _Wines:
    """The run's wines, their inputs and scores, and the split."""

    frame: Any
    stored: StoredFile
    x: Any
    y: Any
    train_idx: Any
    val_idx: Any
    test: Any
    pushed_to: Optional[str] = None
    """The remote the data version was pushed to first, when only this clone had it."""


def _load_wines(settings: Settings, store: Store, params: TrainParams) -> _Wines:
    """The data of data.dvc (pulled when needed), its inputs and its grouped split."""
    import numpy as np

    from winequality.domain import model as nn_model
    from winequality.domain.splits import grouped_split, validation_split, wine_keys
    from winequality.io.validation import load_training_frame
    from winequality.schema import TARGET

    stored = store.pull_data()
    # a run's data must be fetchable from any clone: pushed before the run starts
    pushed_to = store.ensure_data_pushed(stored.md5)
    with store.open_data() as handle:
        frame = load_training_frame(handle, DATA_FILE)
    keys = wine_keys(frame)  # a wine's side depends on the wine alone
    rest, test = grouped_split(keys, params.test_size, settings.split_seed)
    train_idx, val_idx = validation_split(keys, rest, params.seed)
    _check_interval_setting(settings.interval, len(val_idx))
    x = nn_model.frame_inputs(frame)
    y = frame[TARGET].to_numpy(dtype=np.float64)
    return _Wines(frame, stored, x, y, train_idx, val_idx, test, pushed_to)


def _logged_params(settings: Settings, params: TrainParams, wines: _Wines) -> dict:
    return {
        **params.as_mlflow(),
        "split_seed": settings.split_seed,
        "split_rule": SPLIT_RULE,
        "train_threads": settings.train_threads,
        "val_fraction": VAL_FRACTION,
        "n_train": len(wines.train_idx),
        "n_val": len(wines.val_idx),
        "n_test": len(wines.test),
        "interval": settings.interval,
        "premium": settings.premium,
    }


def _run_tags(settings: Settings, commit: str, dirty: bool, data_md5: str) -> dict[str, str]:
    tags = {
        "mlflow.source.name": "wineq train",
        "mlflow.source.type": "LOCAL",
        "mlflow.source.git.commit": commit,
        f"{TAG_PREFIX}git_commit": commit,
        f"{TAG_PREFIX}git_dirty": str(dirty).lower(),
        f"{TAG_PREFIX}data_path": f"{DATA_FILE} (data.dvc)",
        f"{TAG_PREFIX}data_md5": data_md5,
        # so that `wineq runs` can tell a trainer that died from one still at work
        f"{TAG_PREFIX}process": process_tag(),
    }
    if settings.dvc_experiment:  # `dvc exp run`: each names the other
        tags["mlflow.runName"] = settings.dvc_experiment
        tags[f"{TAG_PREFIX}dvc_experiment"] = settings.dvc_experiment
        tags[f"{TAG_PREFIX}dvc_baseline"] = settings.dvc_baseline or ""
    return tags


def _log_dataset(
    tracker: Tracker, run_id: str, settings: Settings, wines: _Wines, logged: dict
) -> None:
    data = wines.stored
    tracker.log_dataset(
        run_id,
        name="wine-quality",
        digest=data.md5,
        source={"path": DATA_FILE, "dvc_file": data.path, "md5": data.md5, "dvc_remote": data.remote},
        profile=_dataset_profile(
            wines.frame, wines.test, {k: logged[k] for k in ("n_train", "n_val", "n_test")},
            settings.split_seed,
        ),
        context="training",
    )  # fmt: skip


@dataclass
class _Scored:
    """The trained network and how it did on the test wines."""

    net: Any
    history: Any
    metrics: dict[str, float]
    test_wines: Any
    reliability: list[dict]


def _fit(settings: Settings, params: TrainParams, wines: _Wines, on_epoch):
    """The network, its history, and its test predictions (and their scales, if calibrated)."""
    from winequality.domain import model as nn_model

    x, y, fit_rows, val_rows = wines.x, wines.y, wines.train_idx, wines.val_idx
    with nn_model.threads(settings.train_threads):
        net, history = nn_model.fit(
            x[fit_rows], y[fit_rows], x[val_rows], y[val_rows], params, on_epoch
        )
        if net.calibration is not None:  # None only without 2 validation wines
            predicted, scale = nn_model.predict_with_scale(net, x[wines.test])
        else:
            predicted, scale = nn_model.predict(net, x[wines.test]), None
    return net, history, predicted, scale


def _score(settings: Settings, params: TrainParams, wines: _Wines, on_epoch) -> _Scored:
    """Train, then score on the test wines: metrics overall and per colour, and the table."""
    import numpy as np

    from winequality.domain import model as nn_model
    from winequality.schema import FEATURES, TARGET

    net, history, predicted, scale = _fit(settings, params, wines, on_epoch)
    y_test = wines.y[wines.test]
    metrics = {f"test_{k}": v for k, v in nn_model.regression_metrics(y_test, predicted).items()}
    colours = wines.frame[COLOR].to_numpy()[wines.test]
    for colour in COLORS:
        mask = colours == colour
        if mask.any():
            for k, v in nn_model.regression_metrics(y_test[mask], predicted[mask]).items():
                metrics[f"test_{k}_{colour}"] = v
    metrics["best_epoch"] = history.best_epoch
    metrics["blend"] = history.blend
    test_wines = wines.frame.iloc[wines.test][[*FEATURES, COLOR, TARGET]].reset_index(drop=True)
    test_wines[PREDICTION] = np.round(predicted, 6)
    reliability: list[dict] = []
    if net.calibration is not None:
        reliability = _score_calibration(
            settings, net.calibration, wines, predicted, scale, metrics, test_wines
        )
    return _Scored(net, history, metrics, test_wines, reliability)


def _score_calibration(
    settings, calibration, wines: _Wines, predicted, scale, metrics, test_wines
) -> list[dict]:
    """Coverage and p_premium scores into `metrics`, intervals into `test_wines`; the
    reliability table of p_premium."""
    import numpy as np

    from winequality.domain import calibration as calibrate

    y_test = wines.y[wines.test]
    colours = wines.frame[COLOR].to_numpy()[wines.test]
    premium_share = float(np.mean(wines.y[wines.train_idx] >= settings.premium))
    found = calibrate.evaluate(
        calibration, y_test, predicted, scale, colours, settings.premium, premium_share
    )
    metrics.update({f"test_{k}": v for k, v in found.items()})
    low, high = calibration.interval(predicted, scale, settings.interval)
    p_premium = calibration.p_at_least(predicted, scale, settings.premium)
    test_wines[QUALITY_LOW] = np.round(low, 4)
    test_wines[QUALITY_HIGH] = np.round(high, 4)
    test_wines[P_PREMIUM] = np.round(p_premium, 4)
    return calibrate.reliability(p_premium, (y_test >= settings.premium).astype(float))


def _lineage(tags: dict[str, str], logged: dict) -> dict[str, str]:
    """What a run's report names of its lineage: wineq's tags and the logged params."""
    return {
        **{k.removeprefix(TAG_PREFIX): v for k, v in tags.items() if k.startswith(TAG_PREFIX)},
        **{k: str(v) for k, v in logged.items()},
    }


def _evaluation(run_id: str, params: TrainParams, scored: _Scored, lineage: dict[str, str]):
    from winequality.domain import report

    history = scored.history
    return report.Evaluation(
        run_id=run_id,
        params=params,
        train_loss=history.train_loss,
        val_loss=history.val_loss,
        best_epoch=history.best_epoch,
        test=scored.test_wines,
        metrics=scored.metrics,
        reliability=scored.reliability,
        lineage=lineage,
    )


def _store_model(
    store: Store, tracker: Tracker, run_id: str, params: TrainParams, net, wines: _Wines
):
    """The model's bytes stored and pushed, its pointer and MLflow Model logged; what the
    run records of it."""
    from winequality.domain import model as nn_model
    from winequality.schema import FEATURES

    content = nn_model.to_bytes(net, params.hidden)
    try:
        stored = store.save_model(MODEL_FILE, content)
    except StoreError as exc:
        tracker.set_tags(run_id, {f"{TAG_PREFIX}error": str(exc)})
        raise
    pointer = _pointer(stored.md5, len(content), stored.path)
    tracker.log_pointer(run_id, pointer, "model.pt.dvc")
    example = wines.frame.iloc[wines.test[:5]][[*FEATURES, COLOR]].reset_index(drop=True)
    example[FEATURES] = example[FEATURES].astype("float64")  # the signature says double
    model_id = tracker.log_wine_model(
        run_id,
        pointer,
        stored.location,
        example,
        deployment_requirements(),
        intervals=net.calibration is not None,
    )
    stored_tags = {
        "model_path": stored.path,
        "model_md5": stored.md5,
        "dvc_remote": stored.remote,
        # where a machine without a clone fetches the bytes: URL, endpoint, no credentials
        "dvc_location": json.dumps(stored.location, sort_keys=True),
        "mlflow_model_id": model_id,
    }
    ranges = nn_model.training_ranges(net)
    if ranges is not None:  # what `wineq show` says the model learned from
        stored_tags["training_ranges"] = json.dumps(ranges)
    tracker.set_tags(run_id, {f"{TAG_PREFIX}{k}": v for k, v in stored_tags.items()})
    return stored, stored_tags


def _record(
    store: Store,
    tracker: Tracker,
    run_id: str,
    params: TrainParams,
    scored: _Scored,
    wines: _Wines,
    plots_dir: Path,
    lineage: dict[str, str],
):
    """Everything after training: metrics, plots, the stored model, the report."""
    from winequality.domain import report

    history = scored.history
    tracker.log_metrics(
        run_id, {"train_loss": history.train_loss, "val_loss": history.val_loss}, scored.metrics
    )
    evaluation = _evaluation(run_id, params, scored, lineage)
    # drawn before the model is stored: a plot that fails leaves no pushed model
    plots = report.draw_plots(evaluation, plots_dir)
    stored, stored_tags = _store_model(store, tracker, run_id, params, scored.net, wines)
    evaluation = replace(evaluation, lineage={**evaluation.lineage, **stored_tags})
    tracker.log_report(
        run_id, report.describe(evaluation), plots, report.predictions_table(scored.test_wines)
    )
    return stored, evaluation


def train(
    settings: Settings,
    store: Store,
    tracker: Tracker,
    params: TrainParams,
    on_epoch: Optional[Callable[[int, float, float], None]] = None,
    report_dir: Optional[Path] = None,
) -> TrainResult:
    """Train one model with `params` and record it as one MLflow run (see the module doc).

    The run explains itself: its data as a dataset input, a description, plots and the
    test predictions as a table. `report_dir` also gets the metrics and plot data as the
    files a DVC stage declares (dvc.yaml), so `dvc exp show` and `dvc plots` see the run.
    """
    from winequality.domain import report

    params.checked()
    _checked_report_dir(report_dir)
    commit, dirty = git_state(settings.project_dir)
    wines = _load_wines(settings, store, params)
    logged = _logged_params(settings, params, wines)
    tags = _run_tags(settings, commit, dirty, wines.stored.md5)
    run_id = tracker.start_run(logged, tags)
    status = "FAILED"
    restore_sigterm = _sigterm_as_interrupt()
    plots_dir = tempfile.TemporaryDirectory(prefix="wineq-plots-")
    try:
        _log_dataset(tracker, run_id, settings, wines, logged)
        scored = _score(settings, params, wines, on_epoch)
        stored, evaluation = _record(
            store,
            tracker,
            run_id,
            params,
            scored,
            wines,
            Path(plots_dir.name),
            _lineage(tags, logged),
        )
        status = "FINISHED"
    except KeyboardInterrupt:
        status = "KILLED"
        raise Interrupted(
            f"interrupted: run {run_id} ended as KILLED; {MODEL_FILE} is the previous "
            "model or the new one, never a partial file"
        ) from None
    finally:
        restore_sigterm()
        plots_dir.cleanup()
        try:
            tracker.end_run(run_id, status)
        except WineqError:
            if status == "FINISHED":
                raise
    if report_dir is not None:  # only for a finished run: the files name it
        report.write_stage_files(evaluation, report_dir)
    history, metrics, data_md5, test = scored.history, scored.metrics, wines.stored.md5, wines.test
    train_idx = wines.train_idx
    return TrainResult(
        run_id=run_id,
        metrics=metrics,
        model_path=stored.path,
        model_md5=stored.md5,
        data_md5=data_md5,
        git_commit=commit,
        n_train=len(train_idx),
        n_test=len(test),
        best_epoch=history.best_epoch,
        data_pushed_to=wines.pushed_to,
    )
