"""The workflows behind the CLI: import data, train, register, infer, list runs.

`WineService` combines a ModelStore (DVC: the bytes) with an ExperimentTracker (MLflow:
the metadata). Every decision lives here, where tests reach it without a terminal.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Optional, TextIO

from winequality.errors import (
    DataError,
    IntegrityError,
    Interrupted,
    NotFoundError,
    QualityBarError,
    StoreError,
    WineqError,
)
from winequality.settings import DATA_FILE, MODEL_FILE, Settings
from winequality.tracking import ALIAS, RMSE, TAG_PREFIX, RunRecord, VersionRecord

PREDICTION = "predicted_quality"
VAL_FRACTION = 0.1  # of the training split, for per-epoch validation and best-epoch choice
LINEAGE_KEYS = (
    "run_id",
    "git_commit",
    "git_dirty",
    "data_md5",
    "model_path",
    "model_md5",
    "dvc_remote",
)


@dataclass(frozen=True)
class TrainOptions:
    """What `wineq train` was asked for."""

    epochs: int = 50
    lr: float = 5e-4
    batch_size: int = 64
    hidden: tuple[int, ...] = (64, 64)
    seed: int = 0
    test_size: float = 0.2
    weight_decay: float = 1e-2
    members: int = 8

    def config(self):
        """The model's hyper-parameters for these options."""
        from winequality.model import TrainConfig

        return TrainConfig(
            epochs=self.epochs,
            lr=self.lr,
            batch_size=self.batch_size,
            hidden=self.hidden,
            seed=self.seed,
            weight_decay=self.weight_decay,
            members=self.members,
        )

    def check(self) -> None:
        if self.epochs < 1:
            raise WineqError("--epochs must be at least 1")
        if not 0 < self.lr < 1:
            raise WineqError("--lr must be between 0 and 1, e.g. 0.001")
        if self.batch_size < 1:
            raise WineqError("--batch-size must be at least 1")
        if not self.hidden or min(self.hidden) < 1:
            raise WineqError("--hidden takes layer widths like 64,64")
        if not 1 <= self.members <= 64:
            raise WineqError("--members must be between 1 and 64")
        if not 0.05 <= self.test_size <= 0.5:
            raise WineqError("--test-size must be between 0.05 and 0.5")


def validation_split(groups, rows, seed: int):
    """Split training `rows` into (fit, validation) rows, grouped, seeded by the training seed.

    `wineq train` and the quality benchmark both use this, so they train the same way.
    """
    from winequality.data import grouped_split

    fit_pos, val_pos = grouped_split(groups[rows], VAL_FRACTION, seed)
    return rows[fit_pos], rows[val_pos]


@dataclass(frozen=True)
class TrainResult:
    run_id: str
    metrics: dict[str, float]
    model_path: str
    model_md5: str
    data_md5: str
    git_commit: str
    n_train: int
    n_test: int
    best_epoch: int


@dataclass(frozen=True)
class Registration:
    version: VersionRecord
    run: RunRecord
    reused: bool


@dataclass(frozen=True)
class ModelSource:
    """A model chosen in MLflow and where its bytes are in DVC."""

    label: str
    run_id: str
    path: str
    md5: str


@dataclass(frozen=True)
class InferResult:
    model: ModelSource
    rows: int
    metrics: Optional[dict[str, float]]
    output: Optional[Path]
    frame: Optional[object] = None  # the predictions, when neither a file nor a stream was given


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    start: Optional[str]
    status: str
    epochs: Optional[int]
    rmse: Optional[float]
    mae: Optional[float]
    registered: list[str]

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RunsPage:
    runs: list[RunSummary]
    page: int
    more: bool
    """Whether a next page may follow (MLflow cannot always tell at the exact end)."""


def git_state(root: Path) -> tuple[str, bool]:
    """(commit, dirty) of the work tree; ('none', True) outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
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
    return lambda: signal.signal(signal.SIGTERM, previous)


def _with_column(lines: list[bytes], values, sep: str) -> bytes:
    """The lines, each ending in `sep` and its value to 4 decimals, newline-terminated."""
    column = [f"{sep}{v:.4f}\n".encode() for v in values.tolist()]
    return b"".join(line + value for line, value in zip(lines, column, strict=True))


class _TextSink:
    """Bytes into a text stream that has no binary buffer underneath."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, data: bytes) -> None:
        self.stream.write(data.decode())

    def flush(self) -> None:
        self.stream.flush()


def _pointer(md5: str, size: int, path: str) -> str:
    """A .dvc file for the model: enough for `dvc pull`/`dvc get` to find the bytes."""
    return f"outs:\n- md5: {md5}\n  size: {size}\n  hash: md5\n  path: {Path(path).name}\n"


class WineService:
    """The workflows, built from settings. Example: `WineService(load_settings()).list_runs()`."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.root = settings.project_dir

    @cached_property
    def store(self):
        from winequality.store import ModelStore

        return ModelStore(self.root, self.settings.dvc_remote)

    @cached_property
    def tracker(self):
        from winequality.tracking import ExperimentTracker

        return ExperimentTracker(
            self.settings.resolved_tracking_uri,
            self.settings.experiment,
            self.settings.model_name,
            self.settings.default_artifact_location,
            self.settings.tracking_timeout,
        )

    # ------------------------------------------------------------- data

    def import_data(self, source: Optional[str] = None, files=None):
        """Verify the UCI files, build data/wine-quality.csv, track it in DVC and push it."""
        from winequality.data import build_csv, read_source

        raw = read_source(source or self.settings.data_source, files)
        content = build_csv(raw)
        stored = self.store.save_data(content)
        return stored, content.count(b"\n") - 1

    # ------------------------------------------------------------- train

    def train(
        self, options: TrainOptions, on_epoch: Optional[Callable[[int, float, float], None]] = None
    ) -> TrainResult:
        """Pull the data, train, score on the fixed test split, store the model, record it all."""
        import numpy as np

        from winequality import model as nn_model
        from winequality.data import (
            COLOR,
            COLORS,
            TARGET,
            group_ids,
            grouped_split,
            load_training_frame,
        )

        options.check()
        commit, dirty = git_state(self.root)
        data_md5 = self.store.pull_data()
        with self.store.open_data() as handle:
            frame = load_training_frame(handle, DATA_FILE)
        groups = group_ids(frame)
        rest, test = grouped_split(groups, options.test_size, self.settings.split_seed)
        train_idx, val_idx = validation_split(groups, rest, options.seed)
        config = options.config()
        x = nn_model.frame_inputs(frame)
        y = frame[TARGET].to_numpy(dtype=np.float64)

        params = {
            "epochs": options.epochs,
            "lr": options.lr,
            "batch_size": options.batch_size,
            "hidden": ",".join(str(h) for h in options.hidden),
            "seed": options.seed,
            "test_size": options.test_size,
            "weight_decay": options.weight_decay,
            "members": options.members,
            "frequencies": config.frequencies,
            "embedding": config.embedding,
            "sigma": config.sigma,
            "neighbours": config.neighbours,
            "neighbour_power": config.neighbour_power,
            "split_seed": self.settings.split_seed,
            "val_fraction": VAL_FRACTION,
            "n_train": len(train_idx),
            "n_val": len(val_idx),
            "n_test": len(test),
        }
        tags = {
            "mlflow.source.name": "wineq train",
            "mlflow.source.type": "LOCAL",
            "mlflow.source.git.commit": commit,
            f"{TAG_PREFIX}git_commit": commit,
            f"{TAG_PREFIX}git_dirty": str(dirty).lower(),
            f"{TAG_PREFIX}data_path": f"{DATA_FILE} (data.dvc)",
            f"{TAG_PREFIX}data_md5": data_md5,
        }
        tracker = self.tracker
        run_id = tracker.start_run(params, tags)
        status = "FAILED"
        restore_sigterm = _sigterm_as_interrupt()
        try:
            net, history = nn_model.fit(
                x[train_idx], y[train_idx], x[val_idx], y[val_idx], config, on_epoch
            )
            predicted = nn_model.predict(net, x[test])
            metrics = {
                f"test_{k}": v for k, v in nn_model.regression_metrics(y[test], predicted).items()
            }
            colours = frame[COLOR].to_numpy()[test]
            for colour in COLORS:
                mask = colours == colour
                if mask.any():
                    for k, v in nn_model.regression_metrics(y[test][mask], predicted[mask]).items():
                        metrics[f"test_{k}_{colour}"] = v
            metrics["best_epoch"] = history.best_epoch
            metrics["blend"] = history.blend
            tracker.log_metrics(
                run_id, {"train_loss": history.train_loss, "val_loss": history.val_loss}, metrics
            )
            content = nn_model.to_bytes(net, options.hidden)
            try:
                stored = self.store.save_model(MODEL_FILE, content)
            except StoreError as exc:
                tracker.set_tags(run_id, {f"{TAG_PREFIX}error": str(exc)})
                raise
            tracker.log_pointer(
                run_id, _pointer(stored.md5, len(content), stored.path), "model.pt.dvc"
            )
            tracker.set_tags(
                run_id,
                {
                    f"{TAG_PREFIX}model_path": stored.path,
                    f"{TAG_PREFIX}model_md5": stored.md5,
                    f"{TAG_PREFIX}dvc_remote": stored.remote,
                },
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
            try:
                tracker.end_run(run_id, status)
            except WineqError:
                if status == "FINISHED":
                    raise
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
        )

    # ------------------------------------------------------------- register

    def find_run(self, run_id: str) -> RunRecord:
        """A run of the experiment by id or by a unique prefix of at least 4 characters."""
        if len(run_id) >= 32:
            return self.tracker.get_run(run_id)
        if len(run_id) < 4:
            raise NotFoundError(f"run id {run_id!r} is too short; give at least 4 characters")
        matches = [
            r for r in self.tracker.search_runs(max_results=5000) if r.run_id.startswith(run_id)
        ]
        if not matches:
            raise NotFoundError(
                f"no run {run_id!r} in experiment {self.settings.experiment!r}; see `wineq runs`"
            )
        if len(matches) > 1:
            raise NotFoundError(
                f"run id {run_id!r} is ambiguous ({len(matches)} runs); give more characters"
            )
        return matches[0]

    def register(self, max_rmse: float, run_id: Optional[str] = None) -> Registration:
        """Register the best finished run at or below `max_rmse` (or the run named) as champion."""
        bar = float(max_rmse)
        if run_id:
            run = self.find_run(run_id)
            if run.status != "FINISHED":
                raise QualityBarError(
                    f"run {run.run_id} ended {run.status}, so its model is not trustworthy; "
                    "register a finished run"
                )
            rmse = run.metrics.get(RMSE)
            if rmse is None or rmse > bar:
                shown = "no test RMSE" if rmse is None else f"test RMSE {rmse:.4f}"
                raise QualityBarError(
                    f"run {run.run_id} has {shown}, above the bar {bar:.4f}; "
                    "pick another run or relax --min-rmse"
                )
        else:
            run = self.tracker.best_run(bar)
            if run is None:
                best = self.tracker.best_run()
                hint = (
                    f" (best: {best.metrics[RMSE]:.4f}, run {best.run_id[:8]})"
                    if best and RMSE in best.metrics
                    else " (no finished runs)"
                )
                raise QualityBarError(
                    f"no run reaches test RMSE {bar:.4f}{hint}; train longer or relax --min-rmse"
                )
        lineage = run.lineage
        md5 = lineage.get("model_md5")
        if not md5:
            raise StoreError(f"run {run.run_id} recorded no model in DVC; train again")
        if not self.store.in_remote(md5):
            raise StoreError(
                f"the model of run {run.run_id} (md5 {md5}) is not in the DVC remote, so no "
                "other clone could use it; nothing registered — check the remote, then "
                "train again"
            )
        for existing in self.tracker.versions():
            if existing.run_id == run.run_id:
                self.tracker.set_alias(existing.version)
                return Registration(self.tracker.version(existing.version), run, reused=True)
        lineage["run_id"] = run.run_id
        tags = {f"{TAG_PREFIX}{k}": lineage[k] for k in LINEAGE_KEYS if k in lineage}
        return Registration(self.tracker.register(run, tags), run, reused=False)

    # ------------------------------------------------------------- infer

    def resolve_model(
        self, model: Optional[str] = None, run_id: Optional[str] = None
    ) -> ModelSource:
        """The model to use: `NAME@ALIAS`, `NAME/VERSION`, a run, or the champion."""
        if run_id:
            run = self.find_run(run_id)
            lineage, label, rid = run.lineage, f"run {run.run_id}", run.run_id
        else:
            ref = model or f"{self.settings.model_name}@{ALIAS}"
            ref = ref.removeprefix("models:/")
            try:
                if "@" in ref:
                    name, alias = ref.split("@", 1)
                    version = self.tracker.version_by_alias(alias, name)
                elif "/" in ref:
                    name, number = ref.split("/", 1)
                    version = self.tracker.version(number, name)
                else:
                    raise WineqError(
                        f"--model {ref!r}: use NAME@ALIAS or NAME/VERSION, e.g. {self.settings.model_name}/1"
                    )
            except NotFoundError as exc:
                raise NotFoundError(
                    f"model {ref} is not registered in {self.tracker.tracking_uri}; "
                    "run `wineq register` or pick one with --interactive"
                ) from exc
            lineage, label, rid = (
                version.lineage,
                f"{version.name}/{version.version}",
                version.run_id or "",
            )
        if "model_md5" not in lineage or "model_path" not in lineage:
            raise NotFoundError(
                f"{label} carries no DVC model path and md5; it was not made by wineq"
            )
        return ModelSource(label, rid, lineage["model_path"], lineage["model_md5"])

    def model_bytes(self, model: Optional[str], run_id: Optional[str]) -> tuple[ModelSource, bytes]:
        """The chosen model and exactly its registered bytes, from the DVC cache or remote."""
        source = self.resolve_model(model, run_id)
        try:
            return source, self.store.fetch(source.path, source.md5)
        except IntegrityError as exc:
            raise IntegrityError(f"{source.label}: {exc}") from exc

    def inference_model(self, model: Optional[str] = None, run_id: Optional[str] = None):
        """The chosen model's source and its network, rebuilt from exactly its bytes.

        Where MLflow is not loaded yet (a fresh `wineq infer`), the lookup runs in a child
        process while torch loads here: the two overlap, and MLflow's and DVC's memory is
        gone before the first prediction (see lookup.py).
        """
        if "mlflow" in sys.modules:  # already paid for: look the model up right here
            source, content = self.model_bytes(model, run_id)
            from winequality import model as nn_model
        else:
            from winequality.lookup import ModelLookup

            lookup = ModelLookup.start(self.settings, model, run_id)
            try:
                from winequality import model as nn_model

                source, content = lookup.result()
            finally:
                lookup.close()
        try:
            return source, nn_model.from_bytes(content)
        except ValueError as exc:
            raise DataError(f"{source.label}: {exc}") from exc

    def infer(
        self,
        input_path: Path,
        *,
        model: Optional[str] = None,
        run_id: Optional[str] = None,
        color: Optional[str] = None,
        output: Optional[Path] = None,
        stream: Optional[TextIO] = None,
        on_chunk: Optional[Callable[[int, int], None]] = None,
        keep: Optional[int] = None,
    ) -> InferResult:
        """Predict quality for every wine in `input_path` with exactly the registered bytes.

        Without `output` or `stream`, the result's frame holds the wines and predictions:
        all of them, or the first `keep` (memory stays flat however long the file is).
        `on_chunk(rows, bytes_read)` is called after each chunk, for progress.
        """
        from winequality.schema import COLORS, TARGET, sniff_separator

        if color is not None and color not in COLORS:
            raise DataError(f"--color {color!r}: use red or white")
        if not input_path.is_file():
            raise DataError(f"{input_path} does not exist; give the path of a CSV of wines")
        sep = sniff_separator(input_path)
        source, net = self.inference_model(model, run_id)

        import numpy as np
        import pandas as pd

        from winequality import model as nn_model
        from winequality.data import read_wine_chunks

        tmp: Optional[Path] = None
        sink = None  # binary: the input's lines go out as they came in, plus one column
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
            tmp = Path(name)
            sink = os.fdopen(fd, "wb")
        elif stream is not None:
            stream.flush()
            sink = getattr(stream, "buffer", None) or _TextSink(stream)
        collected = []
        rows, sq, ab, labelled = 0, 0.0, 0.0, True
        column = (sep + PREDICTION).encode()
        try:
            for chunk in read_wine_chunks(input_path, sep=sep, color=color):
                frame = chunk.frame
                predicted = nn_model.predict(net, nn_model.frame_inputs(frame))
                if TARGET in frame:
                    error = predicted - frame[TARGET].to_numpy(dtype=np.float64)
                    sq += float(np.sum(error**2))
                    ab += float(np.sum(np.abs(error)))
                else:
                    labelled = False
                if sink is not None:
                    if rows == 0:
                        sink.write(chunk.header + column + b"\n")
                    sink.write(_with_column(chunk.lines, predicted, sep))
                elif keep is None or rows < keep:
                    frame[PREDICTION] = np.round(predicted, 4)
                    collected.append(frame if keep is None else frame.iloc[: keep - rows])
                rows += len(frame)
                if on_chunk is not None:
                    on_chunk(rows, chunk.offset)
            if tmp is not None:
                sink.close()
                os.replace(tmp, output)
            elif sink is not None:
                sink.flush()
        except BaseException:
            if tmp is not None:
                sink.close()
                tmp.unlink(missing_ok=True)
            raise
        metrics = {"rmse": (sq / rows) ** 0.5, "mae": ab / rows} if labelled and rows else None
        frame = pd.concat(collected, ignore_index=True) if collected else None
        return InferResult(source, rows, metrics, output, frame)

    def model_choices(self) -> list[VersionRecord]:
        """Registered versions, newest first, for interactive picking."""
        return self.tracker.versions()

    # ------------------------------------------------------------- runs

    def list_runs(self, limit: int = 20, page: int = 1) -> RunsPage:
        """A page of the experiment's runs, newest first, with the versions registered from them."""
        if limit < 1:
            raise WineqError("--limit must be at least 1")
        if page < 1:
            raise WineqError("--page must be at least 1")
        runs, more = self.tracker.runs_page(limit, page)
        registered: dict[str, list[str]] = {}
        if runs:
            for version in self.tracker.versions():
                label = f"v{version.version}" + "".join(f"@{a}" for a in version.aliases)
                registered.setdefault(version.run_id or "", []).append(label)
        summaries = []
        for run in runs:
            start = (
                datetime.fromtimestamp(run.start_time / 1000, tz=timezone.utc).isoformat(
                    timespec="seconds"
                )
                if run.start_time
                else None
            )
            epochs = run.params.get("epochs")
            summaries.append(
                RunSummary(
                    run_id=run.run_id,
                    start=start,
                    status=run.status,
                    epochs=int(epochs) if epochs and epochs.isdigit() else None,
                    rmse=run.metrics.get(RMSE),
                    mae=run.metrics.get("test_mae"),
                    registered=registered.get(run.run_id, []),
                )
            )
        return RunsPage(summaries, page, more)
