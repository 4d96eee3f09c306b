"""Pure logic, in seconds: hyper-parameters, model references, what a tracking URI means,
atomic files, wine headers and chunks, splits and the combined CSV."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from winequality.adapters.mlflow import tracking_store
from winequality.adapters.models import ModelRef, parse_model_ref
from winequality.domain.params import DEFAULTS, TrainParams
from winequality.domain.splits import group_ids, grouped_split
from winequality.errors import DataError, UsageError
from winequality.io import uci
from winequality.io.atomic import atomic_file, binary_sink
from winequality.io.wines import open_wines, read_wine_chunks
from winequality.schema import FEATURES

HEADER = ";".join(f'"{name}"' for name in FEATURES)

# ---------------------------------------------------------------- params


def test_params_round_trip_through_their_mlflow_text():
    params = TrainParams(epochs=7, hidden=(32, 16), lr=0.001, sigma=0.1)
    logged = params.as_mlflow()
    assert logged["hidden"] == "32,16" and logged["epochs"] == "7"
    assert all(isinstance(v, str) for v in logged.values())
    assert TrainParams.from_text(logged) == params
    assert TrainParams.from_text({}) == DEFAULTS


@pytest.mark.parametrize(
    "values, message",
    [
        ({"epochs": "0"}, "--epochs 0: must be at least 1"),
        ({"hidden": "64,x"}, "--hidden '64,x': must be layer widths"),
        ({"hidden": ""}, "--hidden : must be layer widths"),
        ({"batch_size": "1.5"}, "--batch-size '1.5': must be at least 1"),
        ({"neighbour_power": "-1"}, "--neighbour-power -1.0: must be 0 or more"),
        ({"dropout": "0.1"}, "unknown training parameter 'dropout'"),
    ],
)
def test_bad_params_are_usage_errors_naming_the_option(values, message):
    with pytest.raises(UsageError, match="^" + message.replace("(", r"\(")):
        TrainParams.from_text(values)


# ---------------------------------------------------------------- model references


@pytest.mark.parametrize(
    "text, ref",
    [
        (None, ModelRef("wine-quality", alias="champion")),
        ("3", ModelRef("wine-quality", version="3")),
        ("wine-quality/1", ModelRef("wine-quality", version="1")),
        ("models:/other/12", ModelRef("other", version="12")),
        ("wine-quality@champion", ModelRef("wine-quality", alias="champion")),
        ("@staging", ModelRef("wine-quality", alias="staging")),
        ("models:/wine-quality@champion", ModelRef("wine-quality", alias="champion")),
    ],
)
def test_model_references(text, ref):
    assert parse_model_ref(text, "wine-quality") == ref


@pytest.mark.parametrize("text", ["nonsense", "wine-quality/x", "wine-quality@", "/3", ""])
def test_a_bad_model_reference_is_a_usage_error(text):
    with pytest.raises(UsageError, match="use NAME@ALIAS, NAME/VERSION or a version number"):
        parse_model_ref(text, "wine-quality")


# ---------------------------------------------------------------- tracking URIs


def test_what_each_tracking_uri_means(tmp_path):
    local = tracking_store(None, tmp_path)
    assert (local.kind, local.display) == ("sqlite", f"sqlite:///{tmp_path}/mlflow.db")
    assert local.uri == f"sqlite:///{tmp_path}/mlflow.db?timeout=60"
    assert local.artifact_location == (tmp_path / "mlruns").as_uri()

    server = tracking_store("https://alice:s3cret@mlflow.example.com:5000", tmp_path)
    assert server.is_server and server.artifact_location is None
    assert server.display == "https://mlflow.example.com:5000"  # no credentials shown

    pg = tracking_store("postgresql://mlflow:pw@db:5432/mlflow?sslmode=require", tmp_path)
    assert (pg.kind, pg.display) == ("database", "postgresql://db:5432/mlflow")


# ---------------------------------------------------------------- files


def test_an_atomic_file_is_all_or_nothing(tmp_path):
    target = tmp_path / "out" / "predictions.csv"
    with atomic_file(target) as handle:
        handle.write(b"first\n")
    assert target.read_bytes() == b"first\n"
    with pytest.raises(RuntimeError):
        with atomic_file(target) as handle:
            handle.write(b"half")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == b"first\n"
    assert [p.name for p in target.parent.iterdir()] == ["predictions.csv"]


def test_an_unwritable_output_is_a_one_line_error(tmp_path):
    (tmp_path / "taken").mkdir()
    for target in (tmp_path / "taken", tmp_path / "file.csv" / "below.csv"):
        if target.parent.name == "file.csv":
            target.parent.write_text("a file, not a folder")
        with pytest.raises(DataError, match=f"^cannot write {target}: .*; pick another place"):
            with atomic_file(target) as handle:
                handle.write(b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.csv", "taken"]


def test_a_binary_sink_keeps_text_streams_in_order():
    text = io.StringIO()
    text.write("before\n")
    binary_sink(text).write(b"after\n")
    assert text.getvalue() == "before\nafter\n"
    raw = io.BytesIO()
    assert binary_sink(raw) is raw


# ---------------------------------------------------------------- wine files


def _wines(header: str, rows: list[str]) -> io.BytesIO:
    return io.BytesIO(("\n".join([header, *rows]) + "\n").encode())


ROW = ";".join(["7.4"] * len(FEATURES))


def test_the_prediction_column_is_quoted_as_the_input_header_is():
    with open_wines(_wines(HEADER + ';"color"', [ROW + ";red"])) as wines:
        assert wines.prediction_header().endswith(b';"color";"predicted_quality"')
    plain = ",".join(FEATURES)
    with open_wines(_wines(plain, [ROW.replace(";", ",")]), color="red") as wines:
        assert wines.prediction_header() == (plain + ",predicted_quality").encode()


def test_a_header_is_checked_before_any_row_is_read():
    with pytest.raises(DataError, match="^<stdin> has no 'color' column"):
        open_wines(_wines(HEADER, [ROW]))
    with pytest.raises(DataError, match="^<stdin>: missing column 'alcohol'"):
        open_wines(_wines(HEADER.rsplit(";", 1)[0] + ';"color"', [ROW]))
    with pytest.raises(DataError, match="^<stdin> is empty"):
        open_wines(io.BytesIO(b""))


def test_chunks_of_a_stream_count_every_byte():
    rows = [ROW + ";white"] * 50
    stream = _wines(HEADER + ';"color"', rows)
    size = len(stream.getvalue())
    with open_wines(stream) as wines:
        chunks = list(read_wine_chunks(wines, chunk_bytes=1000))
    assert len(chunks) > 1 and chunks[-1].offset == size
    assert sum(len(c.frame) for c in chunks) == 50
    assert all((c.frame["color"] == "white").all() for c in chunks)


def test_a_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        open_wines(Path(tmp_path / "nope.csv"))


# ---------------------------------------------------------------- data set


def test_the_csv_keeps_the_uci_text_byte_for_byte(uci_source):
    source, spec = uci_source
    raw = uci.read_source(str(source), spec)
    content = uci.build_csv(raw).decode()
    red_lines = (source / spec["red"].name).read_text().splitlines()[1:]
    assert content.splitlines()[1] == red_lines[0] + ";red"
    assert uci.build_csv(raw) == uci.build_csv(dict(raw))


def test_grouped_split_never_puts_a_wine_on_both_sides():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(0.0, index=range(600), columns=FEATURES)
    frame[FEATURES[:3]] = rng.integers(0, 4, size=(600, 3))
    frame["color"] = np.where(rng.random(600) < 0.3, "red", "white")
    groups = group_ids(frame)
    assert len(np.unique(groups)) < len(frame)  # the data does have exact repeats
    rest, test = grouped_split(groups, 0.2, seed=3)
    assert set(groups[rest]).isdisjoint(groups[test])
    assert sorted(np.concatenate([rest, test])) == list(range(len(frame)))
    assert abs(len(test) / len(frame) - 0.2) < 0.05
    again_rest, again_test = grouped_split(groups, 0.2, seed=3)
    assert np.array_equal(test, again_test)


def test_a_queued_dvc_experiment_belongs_to_the_clone_that_queued_it(tmp_path, monkeypatch):
    """In DVC's temporary copy, the store and .env are those of DVC_ROOT's clone."""
    from winequality.adapters.mlflow import tracking_store
    from winequality.settings import load_settings

    clone, copy = tmp_path / "clone", tmp_path / "clone" / ".dvc" / "tmp" / "exps" / "tmp1"
    for folder in (clone, copy):
        (folder / ".dvc").mkdir(parents=True)
    (clone / ".env").write_text("WINEQ_EXPERIMENT=team\n")
    for name in ("DVC_ROOT", "DVC_EXP_NAME", "DVC_EXP_BASELINE_REV", "WINEQ_EXPERIMENT"):
        monkeypatch.delenv(name, raising=False)

    alone = load_settings(copy)
    assert alone.home_dir == alone.project_dir == copy.resolve()
    assert alone.experiment == "wine-quality" and alone.dvc_experiment is None

    monkeypatch.setenv("DVC_ROOT", str(clone))
    monkeypatch.setenv("DVC_EXP_NAME", "tonic-fins")
    monkeypatch.setenv("DVC_EXP_BASELINE_REV", "a" * 40)
    queued = load_settings(copy)
    assert queued.project_dir == copy.resolve() and queued.home_dir == clone.resolve()
    assert queued.experiment == "team"  # the clone's .env
    assert (queued.dvc_experiment, queued.dvc_baseline) == ("tonic-fins", "a" * 40)
    store = tracking_store(queued.tracking_uri, queued.home_dir)
    assert store.display == f"sqlite:///{clone.resolve() / 'mlflow.db'}"

    monkeypatch.setenv("DVC_ROOT", str(tmp_path / "not-a-project"))
    assert load_settings(copy).home_dir == copy.resolve()


def test_error_by_quality_level_counts_every_wine_and_its_bias():
    from winequality.domain import report

    test = pd.DataFrame(
        {
            "color": ["red", "white", "white", "red", "white"],
            "quality": [3, 6, 6, 8, 6],
            "predicted_quality": [5.0, 6.5, 5.5, 7.0, 6.0],
        }
    )
    table = report.error_by_quality(test).set_index("quality")
    assert table["wines"].to_dict() == {3: 1, 6: 3, 8: 1}
    assert table.loc[6, ["red", "white"]].tolist() == [0, 3]
    assert table.loc[3, "mean_error"] == 2.0 and table.loc[8, "mean_error"] == -1.0
    assert table.loc[6, "mean_error"] == 0.0
    assert table.loc[6, "rmse"] == pytest.approx(np.sqrt(0.5 / 3))
    assert report.predictions_table(test)["error"].tolist() == [2.0, 0.5, -0.5, -1.0, 0.0]


@pytest.mark.parametrize(
    "text, is_ref",
    [
        ("wine-quality@champion", True),
        ("wine-quality/3", True),
        ("models:/wine-quality/3", True),
        ("12", True),
        ("1234", False),  # a run id prefix
        ("3f2a", False),
        ("lr-0.002", False),  # a run name
    ],
)
def test_what_names_a_registered_version(text, is_ref):
    from winequality.adapters.models import is_model_ref

    assert is_model_ref(text) is is_ref


def test_a_run_with_one_colour_in_its_test_wines_still_reports(tmp_path):
    """No red test wines, and every white one rated 6 (r2 does not exist): plots, text and
    DVC's files are still made, and metrics.json stays valid JSON."""
    import json

    from winequality.domain import report

    test = pd.DataFrame({name: [1.0, 2.0, 3.0] for name in FEATURES})
    test["color"], test["quality"], test["predicted_quality"] = "white", 6, [5.5, 6.0, 6.5]
    metrics = {"test_rmse": 0.4, "test_r2": float("nan"), "test_rmse_white": 0.4}
    metrics["best_epoch"] = 2.0
    evaluation = report.Evaluation(
        "ab" * 16, DEFAULTS, [0.5, 0.4], [0.6, 0.5], 2, test, metrics, {"n_test": "3"}
    )
    for path in report.draw_plots(evaluation, tmp_path / "plots"):
        assert path.stat().st_size > 1000
    text = report.describe(evaluation)
    assert "| all (3) | 0.4000 |" in text and "| red" not in text
    report.write_stage_files(evaluation, tmp_path / "reports")
    written = json.loads((tmp_path / "reports" / "metrics.json").read_text())
    assert written["test_r2"] is None and written["best_epoch"] == 2
    assert written["mlflow_run_id"] == "ab" * 16


def test_the_lost_race_of_two_runs_logging_one_dataset_is_told_apart():
    from winequality.adapters.mlflow import _duplicate_dataset

    seen = (  # as an MLflow server on SQLite answered two trainers (CI, 2026-11-29)
        "(sqlite3.IntegrityError) UNIQUE constraint failed: datasets.experiment_id, "
        "datasets.name, datasets.digest"
    )
    assert _duplicate_dataset(seen)
    assert _duplicate_dataset('duplicate key value violates unique constraint "datasets_pk"')
    assert not _duplicate_dataset("UNIQUE constraint failed: runs.run_uuid")
    assert not _duplicate_dataset("database is locked")


# ---------------------------------------------------------------- sources and formats


def test_a_stream_is_told_compressed_by_its_bytes_even_in_small_pieces():
    import gzip

    from winequality.io.locations import open_source

    content = (HEADER + ';"color"\n' + ROW + ";red\n").encode()

    class Trickle(io.RawIOBase):  # a pipe that hands over one byte at a time
        def __init__(self, data):
            self.data = data

        def readable(self):
            return True

        def readinto(self, buffer):
            if not self.data:
                return 0
            buffer[0] = self.data[0]
            self.data = self.data[1:]
            return 1

    source = open_source(Trickle(gzip.compress(content)))
    assert source.compression == "gzip" and source.handle.read() == content
    plain = open_source(io.BytesIO(content))
    assert plain.compression is None and plain.head(4) == content[:4]
    assert plain.handle.read() == content


def test_format_names_and_overrides():
    from winequality.errors import UsageError
    from winequality.io.formats import checked_format, format_of_name, output_format

    assert format_of_name("wines.csv.gz") == "csv"
    assert format_of_name("s3://b/k/wines.PARQUET") == "parquet"
    assert format_of_name("lab.xlsx") == "xlsx" and format_of_name("wines") is None
    assert checked_format("Excel") == "xlsx" and checked_format(".csv") == "csv"
    assert output_format("out.dat", "parquet") == "parquet"
    with pytest.raises(UsageError, match="Parquet compresses itself; drop the gz suffix"):
        output_format("out.parquet.gz", None)


def test_predictions_as_numbers_are_the_csv_text_parsed():
    from winequality.domain.model import Predictions
    from winequality.io.formats.delimited import with_columns
    from winequality.io.formats.rounding import prediction_numbers

    rng = np.random.default_rng(3)
    quality = rng.uniform(0, 10, 20_000).astype(np.float32).astype(np.float64)
    low, high = quality - rng.uniform(0, 2, 20_000), quality + rng.uniform(0, 2, 20_000)
    found = Predictions(
        quality, np.clip(low, 0, 10), np.clip(high, 0, 10), rng.uniform(0, 1, 20_000)
    )
    columns = ("predicted_quality", "quality_low", "quality_high", "p_premium")
    text = with_columns([b""] * 20_000, found, ";").decode().splitlines()
    parsed = np.array([[float(v) for v in line.split(";")[1:]] for line in text])
    numbers = prediction_numbers(found, columns)
    assert np.array_equal(np.column_stack([numbers[c] for c in columns]), parsed)
    one = Predictions(quality[:1], found.low[:1], found.high[:1], found.p_premium[:1])
    comma = with_columns([b"7,4"], one, ";", ",").decode()
    assert comma.count(".") == 0 and comma.startswith("7,4;") and comma.count(",") == 5
