"""`wineq data import`: verified sources, a deterministic CSV tracked by DVC, nothing written on failure."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pandas as pd
import pytest
import yaml
from tests.support.project import write_uci_files

from winequality.io import uci
from winequality.schema import FEATURES


def _data_md5(root: Path) -> str:
    return yaml.safe_load((root / "data.dvc").read_text())["outs"][0]["md5"]


def test_import_builds_the_combined_csv_and_pushes_it(
    project, cli, uci_source, remote_dir, monkeypatch
):
    source, spec = uci_source
    monkeypatch.setattr(uci, "UCI_FILES", spec)
    before = _data_md5(project)
    result = cli("data", "import", "--source", source)
    assert result.exit_code == 0, result.stderr
    # Same inputs, same bytes: the md5 committed in data.dvc stays valid.
    assert _data_md5(project) == before
    assert "data.dvc already records this version" in result.stdout
    assert "Commit data.dvc" not in result.stdout
    frame = pd.read_csv(project / "data" / "wine-quality.csv", sep=";")
    assert list(frame.columns) == FEATURES + ["quality", "color"]
    red_rows = (source / spec["red"].name).read_text().count("\n") - 1
    white_rows = (source / spec["white"].name).read_text().count("\n") - 1
    assert (frame["color"] == "red").sum() == red_rows
    assert (frame["color"] == "white").sum() == white_rows
    # The data set's manifest is in the remote, so other clones can pull it.
    oid = before.removesuffix(".dir")
    assert (remote_dir / "files" / "md5" / oid[:2] / (oid[2:] + ".dir")).is_file()


def test_a_file_that_fails_the_check_is_refused_and_nothing_is_written(project, cli, uci_source):
    source, _ = uci_source  # synthetic files: they cannot match UCI's published SHA-256
    csv = project / "data" / "wine-quality.csv"
    before_csv, before_dvc = csv.read_bytes(), (project / "data.dvc").read_bytes()
    result = cli("data", "import", "--source", source)
    assert result.exit_code == 3
    assert result.stderr.startswith(
        f"Error: {source / 'winequality-red.csv'} is not the published winequality-red.csv"
    )
    assert "nothing was written" in result.stderr
    assert csv.read_bytes() == before_csv and (project / "data.dvc").read_bytes() == before_dvc


def test_a_missing_source_file_names_what_is_needed(project, cli, tmp_path):
    result = cli("data", "import", "--source", tmp_path)
    assert result.exit_code == 3
    assert "winequality-red.csv not found" in result.stderr


@pytest.fixture
def http_source(tmp_path):
    folder = tmp_path / "served"
    spec = write_uci_files(folder, seed=11)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep the test's stderr for wineq's own output
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", spec
    server.shutdown()
    server.server_close()


def test_import_downloads_from_a_url(project, cli, http_source, monkeypatch):
    url, spec = http_source
    monkeypatch.setattr(uci, "UCI_FILES", spec)
    monkeypatch.setenv("WINEQ_DATA_SOURCE", url)  # the setting, not the flag
    result = cli("data", "import")
    assert result.exit_code == 0, result.stderr
    assert "Imported" in result.stdout


def test_a_url_that_answers_404_is_a_clear_error(project, cli, http_source):
    url, _ = http_source
    result = cli("data", "import", "--source", url + "missing/")
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: could not download {url}missing/winequality-red.csv")
