"""`wineq infer` on the files labs and data teams have: ID columns, decimal commas,
compressed CSV, Parquet, Excel; local, on standard input, in a bucket, on the web.

Every format must give the same predictions, to the bit, as the plain CSV of the same
wines: each test compares with `reference`, the plain CSV's output.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.support.project import HEADER, enter, run, synthetic_wines
from tests.support.workbooks import with_formula_error

from winequality.records import InferOptions
from winequality.schema import FEATURES

PREDICTED = ["predicted_quality", "quality_low", "quality_high", "p_premium", "unusual"]
N = 60


@pytest.fixture(scope="module")
def trained(template, tmp_path_factory):
    """One project with a champion for the whole module: these tests only read it."""
    from typer.testing import CliRunner

    from winequality.cli import app

    root = tmp_path_factory.mktemp("formats") / "project"
    shutil.copytree(template, root, symlinks=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        runner = CliRunner()
        for args in (["train", "--epochs", "3"], ["register", "--min-rmse", "5"]):
            result = runner.invoke(app, args, catch_exceptions=False)
            assert result.exit_code == 0, result.stderr
    return root


@pytest.fixture
def lab(trained, tmp_path, monkeypatch):
    """A folder for the test's files, working in the trained project.

    `wineq infer` looks its model up here, in the test's process (the same resolver,
    real MLflow and DVC), not in a child process per call: these tests are about files,
    and test_infer.py covers the child. Tests that run a real `wineq` process keep it.
    """
    from winequality.workflows import infer as infer_workflow

    enter(trained, monkeypatch)
    monkeypatch.setattr(
        infer_workflow,
        "_start_lookup",
        lambda lookup, settings, resolver, model, run_id: infer_workflow._LookupHere(
            resolver(), model, run_id
        ),
    )
    return tmp_path


def wines_frame(n: int = N) -> pd.DataFrame:
    """Red and white wines as a lab sheet has them: an ID first, a note in the middle."""
    red = synthetic_wines(n // 2, "red", 11)[: n // 2]
    white = synthetic_wines(n - n // 2, "white", 12)[: n - n // 2]
    frame = pd.read_csv(io.StringIO(HEADER + "\n" + "\n".join(red + white)), sep=";")
    frame["color"] = ["red"] * (n // 2) + ["white"] * (n - n // 2)
    frame.insert(0, "sample_id", [f"S-{i:04d}" for i in range(n)])
    frame.insert(5, "notes", ["barrel " + str(i % 3) if i % 4 else "" for i in range(n)])
    return frame


def plain_csv(path: Path, frame: pd.DataFrame) -> Path:
    """The same wines as the plain UCI CSV (no pass-through columns): the reference input."""
    frame.drop(columns=["sample_id", "notes"]).to_csv(path, sep=";", index=False)
    return path


@pytest.fixture(scope="module")
def reference(trained, tmp_path_factory):
    """The plain CSV's predictions of `wines_frame()`, made once."""
    from typer.testing import CliRunner

    from winequality.cli import app

    folder = tmp_path_factory.mktemp("reference")
    source = plain_csv(folder / "plain.csv", wines_frame())
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(trained)
        args = ["infer", str(source), "--output", str(folder / "plain-out.csv")]
        result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(folder / "plain-out.csv", sep=";")[PREDICTED].astype("float64")


def same_predictions(frame: pd.DataFrame, reference: pd.DataFrame) -> None:
    got = frame[PREDICTED].astype("float64").reset_index(drop=True)
    assert np.array_equal(got.to_numpy(), reference.to_numpy(), equal_nan=True)


def one_line_error(result, code: int = 3) -> str:
    assert result.exit_code == code, (result.exit_code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


# ---------------------------------------------------------------- pass-through columns


def test_columns_that_are_not_inputs_pass_through_in_place(lab, cli, reference):
    frame = wines_frame()
    source = lab / "lab.csv"
    frame.to_csv(source, sep=";", index=False)
    out = lab / "out.csv"
    result = cli("infer", source, "--output", out)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("Kept as they came (not model inputs): sample_id, notes.") == 1
    lines_in = source.read_text().splitlines()
    lines_out = out.read_text().splitlines()
    assert [line.rsplit(";", 5)[0] for line in lines_out] == lines_in  # every byte in place
    written = pd.read_csv(out, sep=";", dtype={"sample_id": str, "notes": str})
    assert list(written.columns) == list(frame.columns) + PREDICTED
    same_predictions(written, reference)


def test_a_table_shows_the_id_column_first_even_when_narrow(lab, monkeypatch, capsys):
    from rich.console import Console

    from winequality.cli import render
    from winequality.settings import load_settings
    from winequality.workflows.service import WineService

    source = lab / "lab.csv"
    wines_frame().to_csv(source, sep=";", index=False)
    result = WineService(load_settings(Path.cwd())).infer(source, InferOptions(keep=5))
    assert result.passthrough == ["sample_id", "notes"] and result.id_columns == ["sample_id"]
    assert result.frame["sample_id"].tolist() == ["S-0000", "S-0001", "S-0002", "S-0003", "S-0004"]
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100, color_system=None)
    monkeypatch.setattr(render, "new_console", lambda stderr=False: terminal)
    render.print_predictions(result.frame, "5 wines", result.id_columns)
    row = next(line for line in screen.getvalue().splitlines() if "S-0001" in line)
    cells = [c.strip() for c in row.strip("│ ").split("│")]
    assert cells[:3] == ["2", "S-0001", "red"]  # row number, the ID, then colour
    assert "columns are hidden" in capsys.readouterr().err


def test_one_feature_under_two_spellings_is_an_error_naming_both(lab, cli):
    frame = wines_frame().drop(columns=["notes"])
    frame.insert(2, "Fixed Acidity", frame["fixed acidity"])
    frame = frame.rename(columns={"fixed acidity": "fixed_acidity"})
    source = lab / "twice.csv"
    frame.to_csv(source, index=False)
    line = one_line_error(cli("infer", source, "--output", lab / "out.csv"))
    assert line == (
        f"Error: {source}: columns 'fixed_acidity' and 'Fixed Acidity' are both "
        "'fixed acidity'; keep one of them"
    )
    assert not (lab / "out.csv").exists()


def test_a_near_miss_of_a_feature_name_is_pointed_out(lab, cli):
    frame = wines_frame().rename(columns={"residual sugar": "residual sugr"})
    source = lab / "typo.csv"
    frame.to_csv(source, index=False)
    line = one_line_error(cli("infer", source))
    assert line.endswith(
        "missing column 'residual sugar' (needs all 11 UCI features); is 'residual sugr' it? "
        "rename it to 'residual sugar'"
    )


# ---------------------------------------------------------------- decimal commas


def european(frame: pd.DataFrame) -> str:
    return frame.to_csv(sep=";", decimal=",", index=False)


def test_decimal_commas_are_read_and_kept_in_the_output(lab, cli, reference):
    source = lab / "eu.csv"
    source.write_text(european(wines_frame()))
    assert "7,4" in source.read_text() or ",5" in source.read_text()
    out = lab / "out.csv"
    result = cli("infer", source, "--output", out)
    assert result.exit_code == 0, result.stderr
    written = pd.read_csv(out, sep=";", decimal=",", dtype={"sample_id": str})
    same_predictions(written, reference)
    first = out.read_text().splitlines()[1].split(";")
    assert all("," in value and "." not in value for value in first[-5:-1])  # their convention
    assert first[-1] in ("True", "False")
    stated = cli("infer", source, "--decimal", ",", "--output", lab / "stated.csv")
    assert stated.exit_code == 0 and (lab / "stated.csv").read_bytes() == out.read_bytes()


def test_mixed_decimal_marks_ask_for_decimal_and_it_settles_them(lab, cli):
    frame = wines_frame()
    text = european(frame).splitlines()
    row = text[1].split(";")
    row[frame.columns.get_loc("density")] = "0.9978"
    mixed = lab / "mixed.csv"
    mixed.write_text("\n".join([text[0], row and ";".join(row), *text[2:]]) + "\n")
    line = one_line_error(cli("infer", mixed))
    assert "numbers are written both with a decimal point ('0.9978' in 'density')" in line
    assert line.endswith("state the decimal mark with --decimal , or --decimal .")
    stated = one_line_error(cli("infer", mixed, "--decimal", ","))
    assert (
        "column 'density', row 1 (line 2) has '0.9978', not a number with a decimal comma" in stated
    )
    told = one_line_error(cli("infer", lab / "mixed.csv", "--decimal", "."))
    assert "has '" in told and "if the file uses decimal commas, pass --decimal ," in told
    comma_file = lab / "comma.csv"
    frame.to_csv(comma_file, index=False)
    usage = one_line_error(cli("infer", comma_file, "--decimal", ","), code=2)
    assert "separates its columns with ','" in usage


# ---------------------------------------------------------------- compressed CSV


def zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


COMPRESSORS = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress, ".zst": zstd}


@pytest.mark.parametrize("suffix", list(COMPRESSORS))
def test_compressed_files_and_stdin_give_the_plain_files_output(lab, cli, suffix):
    frame = wines_frame()
    plain = lab / "lab.csv"
    frame.to_csv(plain, sep=";", index=False)
    expected = cli("infer", plain).stdout
    packed = lab / f"lab.csv{suffix}"
    packed.write_bytes(COMPRESSORS[suffix](plain.read_bytes()))
    assert cli("infer", packed).stdout == expected
    piped = cli("infer", "-", input=packed.read_bytes())  # the bytes say how it is packed
    assert piped.exit_code == 0, piped.stderr
    assert piped.stdout == expected
    if suffix == ".gz":  # and through a real pipe into a real wineq process
        real = subprocess.run(
            [str(Path(sys.executable).parent / "wineq"), "infer", "-"],
            input=packed.read_bytes(),
            capture_output=True,
        )
        assert real.returncode == 0, real.stderr
        assert real.stdout.decode() == expected
    out = lab / f"out.csv{suffix}"
    assert cli("infer", plain, "--output", out).exit_code == 0
    opener = {".gz": gzip, ".bz2": bz2, ".xz": lzma}.get(suffix)
    if opener is not None:
        assert opener.decompress(out.read_bytes()).decode() == expected
    else:
        import zstandard

        assert (
            zstandard.ZstdDecompressor().decompressobj().decompress(out.read_bytes()).decode()
            == expected
        )


def test_a_damaged_gzip_is_one_line_and_leaves_nothing(lab, cli):
    plain = lab / "lab.csv"
    wines_frame(2000).to_csv(plain, sep=";", index=False)
    packed = gzip.compress(plain.read_bytes())
    cut = lab / "cut.csv.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    out = lab / "out.csv"
    line = one_line_error(cli("infer", cut, "--output", out))
    assert line.startswith(f"Error: {cut}: its gzip data is damaged or cut short (")
    assert line.endswith("fetch an intact copy (compare its checksum with the sender's)")
    flipped = bytearray(packed)
    flipped[len(flipped) // 2] ^= 0xFF
    bad = lab / "flipped.csv.gz"
    bad.write_bytes(bytes(flipped))
    one_line_error(cli("infer", bad, "--output", out))
    assert not out.exists() and list(lab.glob(".out.csv*")) == []


# ---------------------------------------------------------------- Parquet


def test_parquet_in_and_out_keeps_the_schema_and_the_predictions(lab, cli, reference):
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = wines_frame()
    frame["batch"] = np.arange(N, dtype=np.int32)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    source = lab / "lab.parquet"
    pq.write_table(table, source, row_group_size=17)  # several row groups
    out = lab / "out.parquet"
    result = cli("infer", source, "--output", out)
    assert result.exit_code == 0, result.stderr
    written = pq.read_table(out)
    assert written.schema.names == table.schema.names + PREDICTED
    for field in table.schema:
        assert written.schema.field(field.name).type == field.type
    assert written.select(table.schema.names).equals(table)
    same_predictions(written.to_pandas(), reference)
    # and to CSV, and from the CSV to Parquet: the same numbers
    assert cli("infer", source, "--output", lab / "out.csv").exit_code == 0
    same_predictions(pd.read_csv(lab / "out.csv"), reference)
    plain = lab / "lab.csv"
    frame.to_csv(plain, sep=";", index=False)
    assert cli("infer", plain, "--output", lab / "csv.parquet").exit_code == 0
    converted = pq.read_table(lab / "csv.parquet")
    assert converted.column("sample_id").to_pylist() == frame["sample_id"].tolist()
    same_predictions(converted.to_pandas(), reference)


def test_parquet_errors_are_one_line(lab, cli):
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = wines_frame().drop(columns=["alcohol"])
    source = lab / "no-alcohol.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), source)
    line = one_line_error(cli("infer", source))
    assert line == f"Error: {source}: missing column 'alcohol' (needs all 11 UCI features)"
    cut = lab / "cut.parquet"
    cut.write_bytes(source.read_bytes()[:300])
    assert "is not a readable Parquet file" in one_line_error(cli("infer", cut))
    text = wines_frame()
    text["alcohol"] = text["alcohol"].astype(str)
    text.loc[7, "alcohol"] = "n/a"
    typed = lab / "text.parquet"
    pq.write_table(pa.Table.from_pandas(text, preserve_index=False), typed)
    line = one_line_error(cli("infer", typed))
    assert line == f"Error: {typed}: column 'alcohol', row 8 has 'n/a', not a number"


def test_the_name_decides_the_format_and_format_overrides_it(lab, cli, reference):
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = wines_frame()
    misnamed = lab / "lab.csv"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), misnamed)
    line = one_line_error(cli("infer", misnamed))
    assert line == f"Error: {misnamed} is Parquet, but its name says CSV; give --format parquet"
    result = cli("infer", misnamed, "--format", "parquet", "--output", lab / "out.dat",
                 "--output-format", "parquet")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    same_predictions(pq.read_table(lab / "out.dat").to_pandas(), reference)
    assert one_line_error(cli("infer", misnamed, "--format", "json"), 2) == (
        "Error: --format 'json': use one of csv, parquet, xlsx"
    )
    piped = cli("infer", "-", input=misnamed.read_bytes())
    assert piped.exit_code == 0, piped.stderr  # standard input: the bytes say Parquet
    same_predictions(pd.read_csv(io.StringIO(piped.stdout)), reference)


# ---------------------------------------------------------------- Excel


def workbook(path: Path, frame: pd.DataFrame, *, title: bool = True, before=()):
    """The wines on sheet Results, below a title row and a blank one; sheets named in
    `before` come first and hold a note only."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in before:
        book.create_sheet(name).append(["See the Results sheet"])
    for name in ("Results",):
        sheet = book.create_sheet(name)
        if title:
            sheet.append(["Lab results, harvest 2026"])
            sheet.append([])
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([None if v == "" else v for v in row])
    book.save(path)
    return path


def test_excel_in_and_out_with_a_title_row_above_the_header(lab, cli, reference):
    import openpyxl

    frame = wines_frame()
    source = workbook(lab / "lab.xlsx", frame, before=("Summary",))
    out = lab / "out.xlsx"
    result = cli("infer", source, "--sheet", "Results", "--output", out)
    assert result.exit_code == 0, result.stderr
    rows = list(openpyxl.load_workbook(out, read_only=True).worksheets[0].values)
    assert rows[0][0] == "Lab results, harvest 2026"
    assert list(rows[2]) == list(frame.columns) + PREDICTED
    assert [r[0] for r in rows[3:]] == frame["sample_id"].tolist()
    written = pd.DataFrame(rows[3:], columns=rows[2])
    same_predictions(written, reference)
    first = one_line_error(cli("infer", source))  # the first sheet has no wines
    assert first.startswith(f"Error: {source}, sheet 'Summary': no header row naming")
    missing = one_line_error(cli("infer", source, "--sheet", "Nope"))
    assert missing == f"Error: {source} has no sheet 'Nope'; its sheets: 'Summary', 'Results'"
    assert cli("infer", source, "--sheet", "Results", "--output", lab / "x.csv").exit_code == 0
    same_predictions(pd.read_csv(lab / "x.csv"), reference)


def test_excel_errors_are_one_line(lab, cli):
    import openpyxl
    from msoffcrypto.format.ooxml import OOXMLFile

    frame = wines_frame()
    source = workbook(lab / "lab.xlsx", frame, title=False)
    column = openpyxl.utils.get_column_letter(frame.columns.get_loc("alcohol") + 1)
    with_formula_error(source, f"{column}5")
    line = one_line_error(cli("infer", source, "--output", lab / "out.xlsx"))
    assert line == (
        f"Error: {source}, sheet 'Results': column 'alcohol', row 4 (cell {column}5) has "
        "'#DIV/0!', the error of a formula; fix the formula in the workbook and save it again"
    )
    assert not (lab / "out.xlsx").exists()
    uncalculated = lab / "formula.xlsx"
    book = openpyxl.load_workbook(workbook(uncalculated, frame, title=False))
    book["Results"][f"{column}3"] = "=12/1"
    book.save(uncalculated)
    line = one_line_error(cli("infer", uncalculated))
    assert line.endswith(
        f"cell {column}3 ('alcohol') holds the formula =12/1 with no value saved; open the "
        "workbook in Excel or LibreOffice and save it, so its formulas are calculated"
    )
    locked = lab / "locked.xlsx"
    with open(workbook(lab / "plain.xlsx", frame), "rb") as plain, open(locked, "wb") as out:
        office = OOXMLFile(plain)
        office.encrypt("secret", out)
    line = one_line_error(cli("infer", locked))
    assert line == (
        f"Error: {locked} is a password-protected workbook; open it in Excel, remove the "
        "password (File > Info > Protect Workbook) and save it, or export the sheet as CSV"
    )
    broken = lab / "broken.xlsx"
    broken.write_bytes(source.read_bytes()[:2000])
    assert "is not a readable .xlsx workbook" in one_line_error(cli("infer", broken))


# ---------------------------------------------------------------- the web and a bucket


@pytest.fixture
def web(lab):
    """A loopback HTTP server over the test's folder."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(lab))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_inputs_on_the_web_are_read_as_local_ones(lab, cli, web, reference):
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = wines_frame()
    frame.to_csv(lab / "lab.csv", sep=";", index=False)
    (lab / "lab.csv.gz").write_bytes(gzip.compress((lab / "lab.csv").read_bytes()))
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), lab / "lab.parquet")
    workbook(lab / "lab.xlsx", frame)
    expected = cli("infer", lab / "lab.csv").stdout
    assert cli("infer", f"{web}/lab.csv").stdout == expected
    assert cli("infer", f"{web}/lab.csv.gz").stdout == expected
    for name in ("lab.parquet", "lab.xlsx"):
        result = cli("infer", f"{web}/{name}", "--output", lab / f"from-web-{name}.csv")
        assert result.exit_code == 0, result.stderr
        same_predictions(pd.read_csv(lab / f"from-web-{name}.csv"), reference)
    line = one_line_error(cli("infer", f"{web}/nope.csv"))
    assert line == (
        f"Error: cannot download {web}/nope.csv: the server answered 404 File not found; "
        "check the address"
    )


def test_inputs_and_outputs_in_a_bucket_use_the_dvc_remotes_credentials(lab, cli, reference):
    import boto3
    import pyarrow as pa
    import pyarrow.parquet as pq
    from tests.support.servers import S3_ENV, moto_s3

    server = moto_s3(lab)
    try:
        client = boto3.client("s3", endpoint_url=server.url, region_name="us-east-1",
                              aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"])  # fmt: skip
        client.create_bucket(Bucket="labdata")
        root = Path.cwd()
        config_before = (root / ".dvc" / "config").read_bytes()
        # the team's remote, its keys in config.local as `dvc remote modify --local` puts them
        run(["dvc", "remote", "add", "team", "s3://labdata/dvcstore"], root)
        run(["dvc", "remote", "modify", "team", "endpointurl", server.url], root)
        run(["dvc", "remote", "modify", "--local", "team", "access_key_id",
             S3_ENV["AWS_ACCESS_KEY_ID"]], root)  # fmt: skip
        run(["dvc", "remote", "modify", "--local", "team", "secret_access_key",
             S3_ENV["AWS_SECRET_ACCESS_KEY"]], root)  # fmt: skip
        frame = wines_frame()
        frame.to_csv(lab / "lab.csv", sep=";", index=False)
        client.put_object(Bucket="labdata", Key="in/lab.csv.gz",
                          Body=gzip.compress((lab / "lab.csv").read_bytes()))  # fmt: skip
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
        client.put_object(Bucket="labdata", Key="in/lab.parquet", Body=buffer.getvalue())
        expected = cli("infer", lab / "lab.csv").stdout
        assert cli("infer", "s3://labdata/in/lab.csv.gz").stdout == expected
        result = cli(
            "infer", "s3://labdata/in/lab.parquet", "--output", "s3://labdata/out/p.parquet"
        )
        assert result.exit_code == 0, result.stderr
        body = client.get_object(Bucket="labdata", Key="out/p.parquet")["Body"].read()
        same_predictions(pq.read_table(io.BytesIO(body)).to_pandas(), reference)
        result = cli("infer", lab / "lab.csv", "--output", "s3://labdata/out/p.csv")
        assert result.exit_code == 0, result.stderr
        body = client.get_object(Bucket="labdata", Key="out/p.csv")["Body"].read()
        assert body.decode() == expected
        line = one_line_error(cli("infer", "s3://labdata/in/nope.csv"))
        assert line == (
            "Error: s3://labdata/in/nope.csv does not exist; check the bucket and key "
            "(`aws s3 ls s3://labdata/in/nope.csv`)"
        )
        # a failed write leaves no object behind
        bad = lab / "bad.csv"
        bad.write_text(HEADER + ';"color"\n' + "1;" * 11 + "5;rose\n")
        one_line_error(cli("infer", bad, "--output", "s3://labdata/out/bad.csv"))
        listed = client.list_objects_v2(Bucket="labdata", Prefix="out/")["Contents"]
        assert sorted(o["Key"] for o in listed) == ["out/p.csv", "out/p.parquet"]
    finally:
        (Path.cwd() / ".dvc" / "config").write_bytes(config_before)
        (Path.cwd() / ".dvc" / "config.local").unlink(missing_ok=True)
        server.stop()


def test_an_earlier_output_given_as_input_is_refused_before_any_lookup(lab, cli):
    frame = wines_frame()
    frame["predicted_quality"] = 5.0
    source = lab / "again.csv"
    frame.to_csv(source, index=False)
    line = one_line_error(cli("infer", source))
    assert line == (
        f"Error: {source} already has a 'predicted_quality' column (an output of wineq infer?); "
        "give the wines without the earlier predictions, or drop that column"
    )


def test_parquet_as_pandas_and_spark_write_it_predicts_as_the_csv(lab, cli, reference):
    """An index kept by pandas (even a filtered one), float32 features, nullable integers."""
    import pyarrow.parquet as pq

    frame = wines_frame()
    frame["crate"] = pd.array([i if i % 5 else None for i in range(N)], dtype="Int64")
    indexed = lab / "indexed.parquet"
    frame.set_index("sample_id").to_parquet(indexed)
    result = cli("infer", indexed, "--output", lab / "indexed.csv")
    assert result.exit_code == 0, result.stderr
    written = pd.read_csv(lab / "indexed.csv", dtype=str)
    assert written["sample_id"].tolist() == frame["sample_id"].tolist()
    assert written["crate"].fillna("").tolist() == [str(i) if i % 5 else "" for i in range(N)]
    written["unusual"] = written["unusual"].map({"True": 1.0, "False": 0.0})
    same_predictions(written.astype({c: float for c in PREDICTED}), reference)
    filtered = lab / "filtered.parquet"
    stretched = pd.concat([frame, frame]).sort_index(kind="stable").iloc[::2]
    stretched.index = range(0, 2 * N, 2)
    stretched.to_parquet(filtered)  # its RangeIndex steps by 2
    from winequality.settings import load_settings
    from winequality.workflows.service import WineService

    shown = WineService(load_settings(Path.cwd())).infer(filtered, InferOptions(keep=10))
    assert shown.frame["sample_id"].tolist() == frame["sample_id"].tolist()[:10]
    same_predictions(shown.frame.iloc[:10], reference.iloc[:10])
    single = frame.astype({name: "float32" for name in FEATURES})
    narrow = lab / "float32.parquet"
    single.to_parquet(narrow, index=False)
    assert cli("infer", narrow, "--output", lab / "narrow.parquet").exit_code == 0
    same_predictions(pq.read_table(lab / "narrow.parquet").to_pandas(), reference)
    flags = frame.copy()
    flags["alcohol"] = True
    flagged = lab / "flags.parquet"
    flags.to_parquet(flagged, index=False)
    assert "column 'alcohol', row 1 has 'True', not a number" in one_line_error(
        cli("infer", flagged)
    )


def test_excel_rows_beyond_a_wrong_stated_size_and_text_like_formulas(lab, cli, reference):
    import openpyxl

    frame = wines_frame()
    source = workbook(lab / "lab.xlsx", frame, title=False)
    book = openpyxl.load_workbook(source)
    note = book["Results"].cell(row=5, column=frame.columns.get_loc("notes") + 1)
    note.value, note.data_type = "=SUM(1,2)", "s"  # text that looks like a formula
    book.save(source)
    with zipfile.ZipFile(source) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    start = sheet.index("<dimension ref=")
    end = sheet.index("/>", start) + 2
    parts["xl/worksheets/sheet1.xml"] = (
        sheet[:start] + '<dimension ref="A1:L5"/>' + sheet[end:]
    ).encode()
    with zipfile.ZipFile(source, "w") as book:
        for name, data in parts.items():
            book.writestr(name, data)
    out = lab / "out.xlsx"
    result = cli("infer", source, "--output", out)
    assert result.exit_code == 0, result.stderr
    rows = list(openpyxl.load_workbook(out).worksheets[0].values)
    assert len(rows) == N + 1  # every wine, whatever the file says of its size
    same_predictions(pd.DataFrame(rows[1:], columns=rows[0]), reference)
    assert rows[4][frame.columns.get_loc("notes")] == "=SUM(1,2)"  # text, not a formula
    with zipfile.ZipFile(out) as book:
        assert b"<f>" not in book.read("xl/worksheets/sheet1.xml")


def test_a_download_cut_short_keeps_no_predictions(lab, cli):
    import http.server
    import threading

    body = (lab / "x.csv").write_text(wines_frame().to_csv(index=False)) and (lab / "x.csv")
    content = body.read_bytes()

    class Cut(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content[: len(content) // 2])  # and the connection closes

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Cut)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/x.csv"
    try:
        line = one_line_error(cli("infer", url, "--output", lab / "out.csv"))
    finally:
        server.shutdown()
    assert line.startswith(f"Error: {url}")
    assert "its predictions are not kept" in line and not (lab / "out.csv").exists()


def test_bom_colour_and_an_output_on_the_web(lab, cli, reference):
    frame = wines_frame().rename(columns={"color": "Colour"})
    source = lab / "excel-utf8.csv"
    source.write_bytes(b"\xef\xbb\xbf" + frame.to_csv(index=False).encode())
    out = lab / "out.csv"
    result = cli("infer", source, "--output", out)
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes().startswith(b"\xef\xbb\xbfsample_id,")  # the file's own first bytes
    same_predictions(pd.read_csv(out, encoding="utf-8-sig"), reference)
    line = one_line_error(cli("infer", source, "--output", "https://example.org/x.csv"), 2)
    assert (
        line
        == "Error: --output https://example.org/x.csv: write to a file or an s3:// address, not the web"
    )


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as a team's internal server might have."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert, private = folder / "server.pem", folder / "server.key"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, private


def test_https_inputs_are_checked_against_the_trusted_certificates(lab, cli, monkeypatch):
    import functools
    import http.server
    import ssl
    import threading

    frame = wines_frame()
    frame.to_csv(lab / "lab.csv", sep=";", index=False)
    (lab / "lab.csv.gz").write_bytes(gzip.compress((lab / "lab.csv").read_bytes()))
    expected = cli("infer", lab / "lab.csv").stdout
    cert, key = _self_signed(lab)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(lab))
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}/lab.csv.gz"
    try:
        untrusted = one_line_error(cli("infer", url))
        assert untrusted.startswith(
            f"Error: cannot download {url}: [SSL: CERTIFICATE_VERIFY_FAILED]"
        )
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the team's certificate, trusted
        assert cli("infer", url).stdout == expected
    finally:
        server.shutdown()
