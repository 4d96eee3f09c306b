"""`wineq infer`: model resolution, input formats, outputs, and one clear line for each bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from tests.support.project import HEADER, synthetic_wines

from winequality.records import InferOptions
from winequality.schema import FEATURES

PREDICTED = ["predicted_quality", "quality_low", "quality_high", "p_premium", "unusual"]


@pytest.fixture
def uci_file(tmp_path):
    path = tmp_path / "wines.csv"
    path.write_text(HEADER + "\n" + "\n".join(synthetic_wines(20, "red", seed=99)) + "\n")
    return path


def test_uci_format_with_quality_reports_errors_and_writes_output(
    champion, cli, uci_file, tmp_path
):
    out = tmp_path / "out" / "predictions.csv"
    result = cli("infer", uci_file, "--color", "red", "--output", out)
    assert result.exit_code == 0, result.stderr
    assert "wine-quality/1" in result.stderr
    # new wines: none was a training wine, and the score says so
    assert "Against the quality column, on 22 wines the model never trained on: RMSE" in (
        result.stderr
    )
    written = pd.read_csv(out, sep=";")
    original = pd.read_csv(uci_file, sep=";")
    assert len(written) == len(original) == 22
    assert list(written.columns) == FEATURES + ["quality", *PREDICTED]
    assert written["alcohol"].tolist() == original["alcohol"].tolist()  # order kept
    assert written["predicted_quality"].between(0, 10).all()
    assert (written["quality_low"] <= written["predicted_quality"]).all()
    assert (written["predicted_quality"] <= written["quality_high"]).all()
    assert written["p_premium"].between(0, 1, inclusive="neither").all()
    assert "quality_low..quality_high holds the true score with 80% probability" in result.stderr


def test_comma_csv_without_quality_piped_gives_csv(champion, cli, uci_file, tmp_path):
    frame = pd.read_csv(uci_file, sep=";").drop(columns=["quality"])
    frame["color"] = "white"
    comma = tmp_path / "comma.csv"
    frame.to_csv(comma, index=False)
    result = cli("infer", comma)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].endswith(",color," + ",".join(PREDICTED)) and len(lines) == 1 + len(frame)
    assert "Against the quality column" not in result.stderr


def test_output_is_each_input_line_verbatim_plus_the_prediction(champion, cli, tmp_path):
    rows = [r + ";RED " for r in synthetic_wines(5, "red", seed=3)[:5]]
    header = ";".join(name.upper().replace(" ", "_") for name in FEATURES) + ";Quality;Color"
    path = tmp_path / "odd.csv"
    path.write_bytes(("\r\n".join([header, rows[0], "", *rows[1:]])).encode())  # no final newline
    result = cli("infer", path)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == header + "".join(f";{name}" for name in PREDICTED)
    assert [line.rsplit(";", 5)[0] for line in lines[1:]] == rows  # blank line skipped
    assert all(0 <= float(line.rsplit(";", 5)[1]) <= 10 for line in lines[1:])
    assert {line.rsplit(";", 1)[1] for line in lines[1:]} <= {"True", "False"}


def test_every_way_of_naming_a_model_gives_the_same_predictions(champion, cli, uci_file):
    run_id = json.loads(cli("runs", "--json").stdout)[0]["run_id"]
    outputs = [
        cli("infer", uci_file, "--color", "red").stdout,
        cli("infer", uci_file, "--color", "red", "--model", "wine-quality@champion").stdout,
        cli("infer", uci_file, "--color", "red", "--model", "wine-quality/1").stdout,
        cli("infer", uci_file, "--color", "red", "--run-id", run_id).stdout,
        *(
            cli("infer", uci_file, "--color", "red", "--interactive", input=f"{typed}\n").stdout
            for typed in ("1", "wine-quality/1", "")  # "": the newest version, the default
        ),
        cli("infer", "-", "--color", "red", input=uci_file.read_text()).stdout,
    ]
    assert outputs[0].startswith('"fixed acidity";')
    quoted = ";".join(f'"{name}"' for name in PREDICTED)
    assert outputs[0].splitlines()[0].endswith(f';"quality";{quoted}')  # one style
    assert all(output == outputs[0] for output in outputs)  # the question went to stderr


def test_an_unregistered_model_is_a_clear_error(project, cli, uci_file):
    result = cli("infer", uci_file, "--color", "red")
    assert result.exit_code == 7
    assert result.stderr.startswith(
        "Error: model wine-quality@champion is not registered in sqlite:///"
    )
    assert "?timeout" not in result.stderr  # never an internal URI parameter
    result = cli("infer", uci_file, "--color", "red", "--model", "nonsense")
    assert result.exit_code == 2 and "use NAME@ALIAS, NAME/VERSION" in result.stderr


def test_a_missing_alias_or_version_of_a_registered_model_is_not_found(champion, cli, uci_file):
    for ref in ("wine-quality@staging", "wine-quality/9"):
        result = cli("infer", uci_file, "--color", "red", "--model", ref)
        assert result.exit_code == 7, result.stderr
        assert result.stderr == (
            f"Error: model {ref} is not registered in sqlite:///{champion / 'mlflow.db'}; "
            "run `wineq register`, or see `wineq infer --interactive`\n"
        )


def _rows(n=3):
    return synthetic_wines(n, "red", seed=5)[:n]


def _with(row: str, column: int, value: str) -> str:
    """A UCI row with one column's value replaced."""
    values = row.split(";")
    values[column] = value
    return ";".join(values)


BAD_INPUTS = {
    "missing column": (
        ";".join(f'"{n}"' for n in FEATURES[:-1])
        + ';"color"\n'
        + "\n".join(";".join(r.split(";")[:-2]) + ";red" for r in _rows()),
        "missing column 'alcohol'",
    ),
    "one feature twice": (
        HEADER + ';"color";"PH"\n' + "\n".join(r + ";red;3.2" for r in _rows()),
        "columns 'pH' and 'PH' are both 'pH'; keep one of them",
    ),
    "non-numeric value": (
        HEADER
        + ';"color"\n'
        + "\n".join(r + ";red" for r in _rows(2))
        + "\n7.4;abc"
        + ";1" * 9
        + ";5;red",
        "column 'volatile acidity', row 3 (line 4) has 'abc', not a number",
    ),
    "empty value": (
        HEADER + ';"color"\n' + _rows(1)[0] + ";red\n" + _rows(1)[0].rsplit(";", 2)[0] + ";;5;red",
        "column 'alcohol', row 2 (line 3) is empty",
    ),
    "a value beyond any wine": (
        HEADER + ';"color"\n' + _rows(1)[0] + ";red\n" + _with(_rows(1)[0], 6, "1e20") + ";red",
        "row 2 (line 3): total sulfur dioxide 1e+20 is not a wine's total sulfur dioxide in "
        "mg/L (about 120); wines lie between 1 and 500: check the file's units and columns",
    ),
    "density in g/L": (
        HEADER + ';"color"\n' + _rows(1)[0] + ";red\n" + _with(_rows(1)[0], 7, "997.8") + ";red",
        "row 2 (line 3): density 997.8 is not a wine's density in g/cm³ (about 0.99); it looks "
        "like g/L — divide by 1000",
    ),
    "unknown colour": (
        HEADER + ';"color"\n' + _rows(1)[0] + ";rose",
        "column 'color', row 1 (line 2) has 'rose'; use red or white",
    ),
    "no colour": (
        HEADER + "\n" + "\n".join(_rows()),
        "has no 'color' column; pass --color red or --color white",
    ),
    "empty file": ("", "is empty; give a CSV with a header row"),
    "not UTF-8": (
        (HEADER + ';"color"\n' + _rows(1)[0] + ";r\xe9d\n").encode("latin-1"),
        "is not UTF-8 text (invalid continuation byte); save it as UTF-8",
    ),
    "quoted line break": (
        HEADER + ';"color"\n' + _rows(1)[0] + ';"re\nd"\n' + _rows(1)[0] + ";red\n",
        "rows from line 2 on do not match the lines (a quoted value spanning lines?)",
    ),
    "header only": (HEADER + ';"color"\n', "has a header but no wines"),
    "wrong separator": (
        HEADER.replace(";", "\t") + "\n" + "\n".join(r.replace(";", "\t") for r in _rows()),
        "cannot find the columns in the header line",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_clear_line_and_no_output(champion, cli, tmp_path, case):
    content, message = BAD_INPUTS[case]
    path = tmp_path / "bad.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "predictions.csv"
    result = cli("infer", path, "--output", out)
    assert result.exit_code == 3, result.stderr
    assert result.stderr.startswith(f"Error: {path}")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not out.exists()
    assert list(tmp_path.glob(".predictions.csv*")) == []  # no half-written temp file either


def test_a_missing_file_and_a_bad_color_flag(champion, cli, tmp_path, uci_file):
    result = cli("infer", tmp_path / "nope.csv")
    assert result.exit_code == 3 and "does not exist" in result.stderr
    result = cli("infer", uci_file, "--color", "rose")
    assert result.exit_code == 2 and result.stderr == "Error: --color 'rose': use red or white\n"


def test_a_damaged_cache_copy_heals_from_the_remote_and_a_damaged_remote_is_named(
    champion, cli, uci_file
):
    from tests.support.project import damaged, md5_of, remote_object, tracker_for

    md5 = tracker_for(champion).version("1").lineage["model_md5"]
    expected = cli("infer", uci_file, "--color", "red").stdout
    cached = champion / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    with damaged(cached):
        healed = cli("infer", uci_file, "--color", "red")
        assert healed.exit_code == 0, healed.stderr  # the same command, not the next one
        assert healed.stdout == expected and md5_of(cached) == md5
    with damaged(cached), damaged(remote_object(champion, md5)):  # wineq's vault heals
        healed = cli("infer", uci_file, "--color", "red")
        assert healed.exit_code == 0, healed.stderr
        assert healed.stdout == expected and md5_of(cached) == md5
    vaulted = remote_object(champion, md5, "wineq-vault/models")
    with damaged(cached), damaged(remote_object(champion, md5)), damaged(vaulted):
        result = cli("infer", uci_file, "--color", "red")
        assert result.exit_code == 5
        line = result.stderr.strip()
        assert line.startswith(
            "Error: wine-quality/1: models/model.pt: the DVC cache's copy hashes to "
        )
        assert f"not the recorded {md5}, and the copy in DVC remote shared (" in line
        assert line.endswith(
            "is damaged too; re-push it from a clone whose cache has it intact (`dvc push`)"
        )


def test_progress_is_reported_per_chunk_up_to_the_whole_file(champion, tmp_path):
    from winequality.settings import load_settings
    from winequality.workflows.service import WineService

    path = tmp_path / "many.csv"
    rows = [r + ";white" for r in synthetic_wines(300, "white", seed=4)] * 110  # > one 2 MB chunk
    path.write_text(HEADER + ';"color"\n' + "\n".join(rows) + "\n")
    seen = []
    service = WineService(load_settings(champion))
    service.infer(
        path, InferOptions(output=tmp_path / "out.csv", on_chunk=lambda n, at: seen.append((n, at)))
    )
    assert seen and seen[-1] == (len(rows), path.stat().st_size)
    assert len(seen) > 1 and all(a < b for a, b in zip(seen, seen[1:], strict=False))


def wineq_process(*args, cwd):
    """`wineq` as its own process: MLflow is not loaded there, so the model is looked up
    in a child process while torch loads (winequality/lookup.py)."""
    import subprocess

    from tests.support.project import BIN

    return subprocess.run(
        [str(BIN / "wineq"), *map(str, args)], cwd=cwd, capture_output=True, timeout=300
    )


def test_a_separate_process_predicts_the_same_and_reports_lookup_errors(champion, cli, uci_file):
    expected = cli("infer", uci_file, "--color", "red").stdout.encode()
    done = wineq_process("infer", uci_file, "--color", "red", cwd=champion)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == expected
    assert done.stderr.decode().startswith("Predicted 22 wines with wine-quality/1 (md5 ")

    done = wineq_process(
        "infer", uci_file, "--color", "red", "--model", "wine-quality/9", cwd=champion
    )
    assert done.returncode == 7 and done.stdout == b""
    assert done.stderr.decode().startswith("Error: model wine-quality/9 is not registered in ")
    assert len(done.stderr.decode().strip().splitlines()) == 1


def test_the_lookup_process_hands_over_exactly_the_registered_bytes(champion):
    from tests.support.project import md5_of, tracker_for

    from winequality.adapters.lookup_process import ModelLookup
    from winequality.errors import IntegrityError
    from winequality.settings import load_settings

    settings = load_settings(champion)
    md5 = tracker_for(champion).version("1").lineage["model_md5"]
    lookup = ModelLookup.start(settings, "wine-quality/1", None)
    try:
        source, content = lookup.result()
    finally:
        lookup.close()
    assert (source.label, source.path, source.md5) == ("wine-quality/1", "models/model.pt", md5)
    cached = champion / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    assert content == cached.read_bytes() and md5_of(cached) == md5

    from tests.support.project import damaged, remote_object

    vaulted = remote_object(champion, md5, "wineq-vault/models")
    with damaged(cached), damaged(remote_object(champion, md5)), damaged(vaulted):
        lookup = ModelLookup.start(settings, None, None)
        try:
            with pytest.raises(IntegrityError, match=f"wine-quality/1: .*recorded {md5}"):
                lookup.result()
        finally:
            lookup.close()


@pytest.mark.parametrize("width", [100, 400])
def test_a_terminal_table_never_cuts_a_prediction_short(monkeypatch, capsys, width):
    import io

    from rich.console import Console

    from winequality.cli import render

    frame = pd.DataFrame([[7.4] * len(FEATURES) + ["red", 5, 5.4321]])
    frame.columns = FEATURES + ["color", "quality", "predicted_quality"]
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=width, color_system=None)
    monkeypatch.setattr(render, "new_console", lambda stderr=False: terminal)
    render.print_predictions(frame, "1 wines")
    row = next(line for line in screen.getvalue().splitlines() if "5.4321" in line)
    if width == 100:  # 14 columns do not fit: the 11 features give way
        assert row.split() == ["│", "1", "│", "red", "│", "5", "│", "5.4321", "│"]
        assert "11 columns are hidden" in capsys.readouterr().err
    else:
        assert row.count("7.4") == len(FEATURES)


def test_a_lookup_process_that_dies_without_an_answer_is_one_clear_error(champion, monkeypatch):
    import shutil
    import sys

    from winequality.adapters.lookup_process import ModelLookup
    from winequality.errors import WineqError
    from winequality.settings import load_settings

    settings = load_settings(champion)
    monkeypatch.setattr(sys, "executable", shutil.which("false"))  # exits 1, says nothing
    lookup = ModelLookup.start(settings, None, None)
    try:
        with pytest.raises(WineqError, match="exited with code 1 without an answer"):
            lookup.result()
    finally:
        lookup.close()


def test_keep_holds_only_the_first_wines_but_predicts_them_all(champion, uci_file):
    from winequality.settings import load_settings
    from winequality.workflows.service import WineService

    service = WineService(load_settings(champion))
    whole = service.infer(uci_file, InferOptions(color="red"))
    first = service.infer(uci_file, InferOptions(color="red", keep=5))
    assert whole.rows == first.rows == 22 and len(whole.frame) == 22
    assert first.frame.equals(whole.frame.iloc[:5])
    assert first.metrics == whole.metrics  # every wine still counts in RMSE and MAE
