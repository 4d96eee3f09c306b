"""The CLI ↔ service contract, in seconds: what each command passes to the service, how
it renders what comes back, and one exit code per kind of failure.

The service here is a recorder: it checks how arguments are passed on, never what MLflow
or DVC do (the end-to-end tests in tests/e2e do that with the real ones).
"""

from __future__ import annotations

import json
from dataclasses import fields
from types import SimpleNamespace

import pytest
import typer.main

from winequality import cli as cli_module
from winequality.cli import context as cli_context
from winequality.domain.params import DEFAULTS, TrainParams, knobs, option
from winequality.errors import EXIT_CODES, UsageError
from winequality.records import (
    InferResult,
    ModelSource,
    Registration,
    RunRecord,
    RunsPage,
    RunSummary,
    TrainResult,
    VersionRecord,
)

RUN_IDS = [f"{i:x}" * 32 for i in (10, 11, 12)]


class Recorder:
    """Stands in for WineService: records each call and answers with plain records."""

    def __init__(self):
        self.calls: list[tuple[str, tuple, dict]] = []
        self.fail: Exception | None = None
        self.settings = SimpleNamespace(experiment="wine-quality")

    def _record(self, name, *args, **kwargs):
        self.calls.append((name, args, kwargs))
        if self.fail is not None:
            raise self.fail

    def train(self, params, on_epoch=None, report_dir=None):
        self._record("train", params, report_dir=report_dir)
        return TrainResult(
            RUN_IDS[0],
            {"test_rmse": 0.66, "test_mae": 0.5, "test_r2": 0.4, "test_within_0_5": 0.6},
            "models/model.pt",
            "0" * 32,
            "1" * 32 + ".dir",
            "2" * 40,
            100,
            20,
            3,
        )

    def list_runs(self, limit=20, page=1):
        self._record("list_runs", limit=limit, page=page)
        runs = [
            RunSummary(r, "2026-11-29T08:00:00+00:00", "FINISHED", 3, 0.7 - i / 100, 0.5, [])
            for i, r in enumerate(RUN_IDS)
        ]
        return RunsPage(runs, page, more=False)

    def register(self, max_rmse, run_id=None, gate=None):
        self._record("register", max_rmse, run_id)
        self.gate = gate
        run = RunRecord(run_id or RUN_IDS[0], "FINISHED", 0, metrics={"test_rmse": 0.66})
        tags = {"wineq.model_path": "models/model.pt", "wineq.model_md5": "0" * 32}
        version = VersionRecord("wine-quality", "1", run.run_id, tags, ("champion",))
        return Registration(version, run, reused=False)

    def model_choices(self):
        self._record("model_choices")
        return [VersionRecord("wine-quality", "2", RUN_IDS[1], {}, ("champion",))]

    def infer(self, wines, options):
        self._record("infer", wines, **{f.name: getattr(options, f.name) for f in fields(options)})
        self.read = wines.read() if hasattr(wines, "read") else None
        source = ModelSource("wine-quality/1", RUN_IDS[0], "models/model.pt", "0" * 32)
        if self.calibrated:
            return InferResult(source, 0, None, None, None, interval=0.9, premium=6)
        return InferResult(source, 0, None, None, None)

    calibrated = True


@pytest.fixture
def service(monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(cli_context, "service", lambda command="", **overrides: recorder)
    return recorder


def one_line_error(result, code: int) -> str:
    assert result.exit_code == code, (result.exit_code, result.stderr)
    assert result.stderr.startswith("Error: ") and len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr
    return result.stderr.strip()


# ---------------------------------------------------------------- train


def test_train_passes_the_defaults_of_the_one_definition(cli, service):
    result = cli("train", "--json")
    assert result.exit_code == 0, result.stderr
    [(name, (params,), _)] = service.calls
    assert name == "train" and params == DEFAULTS == TrainParams()
    assert json.loads(result.stdout)["run_id"] == RUN_IDS[0]


def test_train_turns_every_option_into_the_params(cli, service):
    result = cli("train", "--epochs", "7", "--hidden", "32,16", "--lr", "0.001", "--members", "2")
    assert result.exit_code == 0, result.stderr
    params = service.calls[0][1][0]
    assert params == TrainParams(epochs=7, hidden=(32, 16), lr=0.001, members=2)
    assert f"Run {RUN_IDS[0]}: test RMSE 0.6600" in result.stdout


def test_every_hyper_parameter_is_an_option_with_its_default_and_help():
    command = typer.main.get_command(cli_module.app).commands["train"]
    options = {p.opts[0]: p for p in command.params}
    for name, spec in knobs():
        param = options[option(name)]
        default = getattr(DEFAULTS, name)
        assert param.default == (default if not isinstance(default, tuple) else "64,64"), name
        assert param.help == spec.help
    assert set(options) == {option(name) for name, _ in knobs()} | {
        "--json",
        "--params",
        "--report",
    }


def test_train_reads_a_params_file_and_options_given_win(cli, service, tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("train:\n  epochs: 80\n  hidden: [128, 64]\n  lr: 0.001\n  seed: 3\n")
    # --epochs 50 is the default, yet given: it wins over the file's 80
    result = cli("train", "--params", params, "--lr", "0.002", "--epochs", "50", "--report", "out")
    assert result.exit_code == 0, result.stderr
    [(_, (got,), kwargs)] = service.calls
    assert got == TrainParams(epochs=50, hidden=(128, 64), lr=0.002, seed=3)
    assert str(kwargs["report_dir"]) == "out"


@pytest.mark.parametrize(
    "text, message",
    [
        ("train:\n  epoch: 80\n", "unknown training parameter train.epoch; known: epochs,"),
        ("train:\n  epochs: 0\n", "params.yaml: train.epochs 0: must be at least 1"),
        ("train:\n  epochs: 80.5\n", "params.yaml: train.epochs '80.5': must be at least 1"),
        ("train:\n  hidden: [64, x]\n", "params.yaml: train.hidden '64,x': must be layer"),
        ("other:\n  epochs: 3\n", "no `train:` section of hyper-parameters"),
        ("train: [\n", "not valid YAML at line 2: expected the node content"),
    ],
)
def test_a_bad_params_file_is_one_line_naming_it(cli, service, tmp_path, text, message):
    params = tmp_path / "params.yaml"
    params.write_text(text)
    line = one_line_error(cli("train", "--params", str(params)), 2)
    assert message in line
    assert service.calls == []


def test_a_missing_params_file_is_one_line(cli, service, tmp_path):
    line = one_line_error(cli("train", "--params", str(tmp_path / "nope.yaml")), 2)
    assert line.endswith("nope.yaml: no such file")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--epochs", "0"], "Error: --epochs 0: must be at least 1 (see `wineq train --help`)"),
        (["--hidden", "64,x"], "Error: --hidden '64,x': must be layer widths separated by commas"),
        (["--members", "65"], "Error: --members 65: must be between 1 and 64"),
        (["--test-size", "0.9"], "Error: --test-size 0.9: must be between 0.05 and 0.5"),
        (["--lr", "2"], "Error: --lr 2.0: must be between 0 and 1"),
        (["--epochs", "x"], "Error: Invalid value for '--epochs': 'x' is not a valid int"),
        (["--no-such-option"], "Error: No such option: --no-such-option"),
    ],
)
def test_a_bad_train_option_is_a_usage_error_whoever_detects_it(cli, service, args, message):
    assert one_line_error(cli("train", *args), 2).startswith(message)
    assert service.calls == []  # nothing was started


# ---------------------------------------------------------------- exit codes


@pytest.mark.parametrize("code", sorted(EXIT_CODES))
def test_each_kind_of_failure_has_its_own_exit_code(cli, service, code):
    service.fail = EXIT_CODES[code]("what happened; what to do")
    line = one_line_error(cli("runs"), code)
    assert line == "Error: what happened; what to do"


def test_verbose_shows_the_traceback(cli, service):
    service.fail = UsageError("boom")
    with pytest.raises(UsageError):
        cli("-v", "runs")


# ---------------------------------------------------------------- register


def test_register_passes_the_bar_and_the_run(cli, service):
    result = cli("register", "--min-rmse", "0.68", "--run-id", "abcd", "--json")
    assert result.exit_code == 0, result.stderr
    assert service.calls == [("register", (0.68, "abcd"), {})]
    assert json.loads(result.stdout)["version"] == "1"


def test_register_passes_the_gate_options(cli, service):
    result = cli(
        "register", "--run-id", "abcd", "--tolerance", "0.01", "--force", "--reason", "hotfix"
    )
    assert result.exit_code == 0, result.stderr
    gate = service.gate
    assert (gate.tolerance, gate.force, gate.reason, gate.alias) == (
        0.01,
        True,
        "hotfix",
        "champion",
    )
    assert cli("register", "--alias", "challenger").exit_code == 0
    assert service.gate.alias == "challenger" and not service.gate.force


def test_register_manual_numbers_the_rows_and_takes_a_number(cli, service):
    result = cli("register", "--manual", input="2\n")
    assert result.exit_code == 0, result.stderr
    table_row = next(line for line in result.stderr.splitlines() if RUN_IDS[1][:8] in line)
    assert table_row.split("│")[1].strip() == "2"
    assert service.calls[-1] == ("register", (0.7, RUN_IDS[1]), {})


def test_register_manual_takes_an_id_prefix(cli, service):
    assert cli("register", "--manual", input=f"{RUN_IDS[2][:6]}\n").exit_code == 0
    assert service.calls[-1] == ("register", (0.7, RUN_IDS[2][:6]), {})


@pytest.mark.parametrize("typed", ["\n", "", "9\n"], ids=["empty", "end-of-input", "no-such-row"])
def test_register_manual_without_a_choice_is_one_clear_line(cli, service, typed):
    result = cli("register", "--manual", input=typed)
    assert result.stdout == ""  # the table and the question go to stderr
    assert result.stderr.count("Run to register") == 1  # asked once, never "Aborted!"
    assert result.exit_code == 2
    *_, last = result.stderr.splitlines()  # after the question (the answer is not echoed)
    error = "Error:" + last.split("Error:", 1)[1]
    assert error in (
        "Error: no run chosen; type a row number or a run id, or use --run-id",
        "Error: row 9: pick a row between 1 and 3",
    )
    assert "Traceback" not in result.stderr and "Aborted" not in result.stderr
    assert [name for name, *_ in service.calls] == ["list_runs"]


# ---------------------------------------------------------------- infer


def test_infer_looks_the_model_up_in_a_child_process(cli, service, tmp_path):
    wines = tmp_path / "wines.csv"
    wines.write_text("x\n")
    result = cli("infer", wines, "--model", "wine-quality/1", "--color", "red")
    assert result.exit_code == 0, result.stderr
    [(name, (given,), kwargs)] = service.calls
    assert name == "infer" and given == wines
    assert kwargs["lookup"] == "process" and kwargs["model"] == "wine-quality/1"
    assert kwargs["color"] == "red" and kwargs["stream"] is not None  # piped: CSV to stdout


def test_infer_passes_the_level_and_premium_and_says_what_they_mean(cli, service):
    result = cli("infer", "-", "--interval", "0.9", "--premium", "6", input="a;b\n")
    assert result.exit_code == 0, result.stderr
    [(_, _, kwargs)] = service.calls
    assert (kwargs["interval"], kwargs["premium"]) == (0.9, 6)
    assert (
        "quality_low..quality_high holds the true score with 90% probability; p_premium is "
        "the chance of quality 6 or more." in result.stderr
    )


def test_infer_with_a_model_from_before_intervals_says_it_has_none(cli, service):
    service.calibrated = False
    result = cli("infer", "-", input="a;b\n")
    assert result.exit_code == 0, result.stderr
    assert service.calls[0][2]["interval"] is None  # the settings' level, decided in the service
    assert "wine-quality/1 has no intervals or p_premium: it was saved before" in result.stderr


def test_infer_dash_reads_standard_input(cli, service):
    assert cli("infer", "-", input="a;b\n").exit_code == 0
    assert service.read == b"a;b\n"  # the bytes of standard input, as they came


@pytest.mark.parametrize("typed", ["1", "wine-quality/1", "wine-quality@champion"])
def test_infer_interactive_accepts_a_number_a_version_or_an_alias(cli, service, tmp_path, typed):
    wines = tmp_path / "wines.csv"
    wines.write_text("x\n")
    result = cli("infer", wines, "--interactive", input=typed + "\n")
    assert result.exit_code == 0, result.stderr
    assert service.calls[-1][2]["model"] == typed
    assert service.calls[-1][2]["lookup"] == "here"  # MLflow is loaded for the table already


def test_register_manual_json_keeps_stdout_for_the_json(cli, service):
    result = cli("register", "--manual", "--json", input="1\n")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["run_id"] == RUN_IDS[0]


def test_infer_interactive_cannot_read_wines_from_stdin(cli, service):
    line = one_line_error(cli("infer", "-", "--interactive", input="1\n"), 2)
    assert "give a file, not -" in line and service.calls == []


# ---------------------------------------------------------------- runs


def test_runs_json_is_the_records_as_data(cli, service):
    result = cli("runs", "--json", "--limit", "3", "--page", "2")
    assert service.calls == [("list_runs", (), {"limit": 3, "page": 2})]
    assert [r["run_id"] for r in json.loads(result.stdout)] == RUN_IDS


def test_list_runs_is_runs(cli, service):
    assert json.loads(cli("list-runs", "--json").stdout) == json.loads(cli("runs", "--json").stdout)
