"""Damaged surroundings: each fault a user's machine can show gets one true line, a
non-zero exit and nothing half-written, and heals itself where the truth is at hand.
Real files, pipes, stores and processes throughout."""

from __future__ import annotations

import os
import subprocess
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.support.project import BIN, HEADER, synthetic_wines

from winequality.records import InferOptions


@pytest.fixture
def champion(project, cli):
    assert cli("train", "--epochs", "2", "--members", "2").exit_code == 0
    assert cli("register", "--min-rmse", "5").exit_code == 0
    return project


@pytest.fixture
def wines(tmp_path):
    path = tmp_path / "wines.csv"
    path.write_text(HEADER + ';"color"\n' + "\n".join(r + ";red" for r in _rows(12)) + "\n")
    return path


def _rows(n: int) -> list[str]:
    return synthetic_wines(n, "red", seed=41)[:n]


def wineq(*args, cwd, stdin=None):
    """`wineq` as its own process."""
    return subprocess.run(
        [str(BIN / "wineq"), *map(str, args)],
        cwd=cwd,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


# ---------------------------------------------------------------- settings

BAD_SETTINGS = {
    "WINEQ_SPLIT_SEED": ("-5", "Input should be greater than or equal to 0"),
    "WINEQ_TRACKING_TIMEOUT": ("0", "Input should be greater than 0"),
    "WINEQ_TRACKING_URI": ("ftp://host/db", "use sqlite:///path/mlflow.db, http(s)://"),
    "WINEQ_MODEL_NAME": ("team/wine", "a model name cannot hold '/', '@' or ':'"),
    "WINEQ_EXPERIMENT": (" ", "give a name without spaces around it"),
    "WINEQ_TRAIN_THREADS": ("0", "Input should be greater than or equal to 1"),
    "WINEQ_INTERVAL": ("80", "Input should be less than 1"),
    "WINEQ_PREMIUM": ("11", "Input should be less than or equal to 10"),
}


@pytest.mark.parametrize("variable", list(BAD_SETTINGS))
@pytest.mark.parametrize("place", ["environment", ".env"])
def test_every_bad_setting_is_one_line_naming_where_it_was_set(
    project, cli, monkeypatch, variable, place
):
    value, reason = BAD_SETTINGS[variable]
    if place == "environment":
        monkeypatch.setenv(variable, value)
        where = "the environment"
    else:
        (project / ".env").write_text(
            f"# team settings\nWINEQ_EXPERIMENT=wine-quality\n{variable}={value}\n"
        )
        where = f"{project / '.env'} line 3"
    shown = repr(value) if value != value.strip() else value
    if place == ".env" and value == " ":
        shown = "''"  # a .env value is stripped: the empty name is what was given
    before = (project / "mlflow.db").read_bytes()
    result = cli("train", "--epochs", "1")
    assert result.exit_code == 9, result.stderr
    line = result.stderr.strip()
    assert line.startswith(f"Error: {variable}={shown} (from {where}) is not accepted: {reason}")
    assert line.endswith("; fix it there") and len(line.splitlines()) == 1
    assert (project / "mlflow.db").read_bytes() == before  # nothing reached the store


# ---------------------------------------------------------------- input paths


def test_a_folder_is_named_a_folder(champion, cli, tmp_path):
    result = cli("infer", tmp_path, "--color", "red")
    assert result.exit_code == 3
    assert result.stderr.strip() == (
        f"Error: {tmp_path} is a folder, not a file; give the path of a CSV of wines in it"
    )


def test_a_named_pipe_and_dev_stdin_are_read_as_the_streams_they_are(
    champion, cli, wines, tmp_path
):
    expected = cli("infer", wines).stdout
    fifo = tmp_path / "wines.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(wines.read_bytes()), daemon=True)
    writer.start()
    through_pipe = wineq("infer", fifo, cwd=champion)
    writer.join(timeout=60)
    assert through_pipe.returncode == 0, through_pipe.stderr
    assert through_pipe.stdout == expected
    with open(wines, "rb") as handle:
        through_stdin = wineq("infer", "/dev/stdin", cwd=champion, stdin=handle)
    assert through_stdin.returncode == 0, through_stdin.stderr
    assert through_stdin.stdout == expected


def test_an_unreadable_file_says_permission_denied(champion, tmp_path):
    locked = tmp_path / "locked.csv"
    locked.write_text(HEADER + ';"color"\n' + _rows(1)[0] + ";red\n")
    locked.chmod(0o000)
    # root reads anything: run wineq without root's power to override file permissions
    import shutil

    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("root here, and no setpriv to give up its power over permissions")
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all"]
    command = [*(drop if os.geteuid() == 0 else []), str(BIN / "wineq"), "infer", str(locked)]
    result = subprocess.run(command, cwd=champion, capture_output=True, text=True, timeout=300)
    assert result.returncode == 3, result.stderr
    assert result.stderr.strip() == (
        f"Error: cannot read {locked}: permission denied; ask its owner, or check `ls -l {locked}`"
    )


@pytest.mark.parametrize("change", ["truncate", "delete"])
def test_a_file_that_changes_while_it_is_read_keeps_no_predictions(champion, tmp_path, change):
    from winequality.errors import DataError
    from winequality.settings import load_settings
    from winequality.workflows.service import WineService

    path = tmp_path / "many.csv"
    rows = [r + ";white" for r in synthetic_wines(300, "white", seed=4)] * 110  # > one chunk
    path.write_text(HEADER + ';"color"\n' + "\n".join(rows) + "\n")
    size = path.stat().st_size
    out = tmp_path / "out.csv"

    def meddle(rows_done: int, offset: int) -> None:
        if rows_done and path.exists():
            if change == "truncate":
                os.truncate(path, offset)
            else:
                path.unlink()

    service = WineService(load_settings(champion))
    with pytest.raises(DataError) as failed:
        service.infer(path, InferOptions(output=out, on_chunk=meddle))
    said = str(failed.value)
    if change == "truncate":
        assert said.startswith(f"{path} shrank from {size:,} to ")
    else:
        assert said.startswith(f"{path} was deleted while it was being read")
    assert said.endswith("its predictions are not kept — give it again once it is complete")
    assert not out.exists() and list(tmp_path.glob(".out.csv*")) == []


# ---------------------------------------------------------------- the MLflow store


def _set_revision(db, revision: str) -> None:
    import sqlite3

    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))


STORE_FAULTS = {
    "truncated": (
        lambda db: db.write_bytes(db.read_bytes()[: db.stat().st_size // 2]),
        "is damaged or not an MLflow database (SQLite: database disk image is malformed); "
        "restore it from a backup, or move it aside and a new, empty one will be made",
    ),
    "not SQLite": (
        lambda db: db.write_text("runs: none\n"),
        "is damaged or not an MLflow database (SQLite: file is not a database); restore it",
    ),
    "older MLflow": (
        lambda db: _set_revision(db, "451aebb31d03"),  # one of MLflow's first schemas
        "has the schema of an older MLflow; back it up, then run `mlflow db upgrade sqlite:///",
    ),
    "newer MLflow": (
        lambda db: _set_revision(db, "ffffffffffff"),
        "was written by a newer MLflow than this one, or its schema record is damaged; use "
        "that MLflow, upgrade MLflow here",
    ),
}


@pytest.mark.parametrize("fault", list(STORE_FAULTS))
def test_a_damaged_or_foreign_store_is_one_line_and_is_not_written(project, cli, fault):
    damage, message = STORE_FAULTS[fault]
    db = project / "mlflow.db"  # a working store (the template's), then damaged
    damage(db)
    before = db.read_bytes()
    for command in (("runs",), ("train", "--epochs", "1")):
        result = cli(*command)
        assert result.exit_code == 6, result.stderr
        line = result.stderr.strip()
        assert line.startswith(f"Error: MLflow store sqlite:///{db} ") and message in line
        assert len(line.splitlines()) == 1
    assert db.read_bytes() == before


def test_a_sqlite_file_of_another_application_is_refused_untouched(project, cli):
    import sqlite3

    db = project / "mlflow.db"
    db.unlink()
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE notes (day TEXT, wine TEXT)")
    before = db.read_bytes()
    result = cli("runs")
    assert result.exit_code == 6, result.stderr
    assert result.stderr.strip() == (
        f"Error: MLflow store sqlite:///{db} is a SQLite database of something else (its "
        "tables: notes...), not an MLflow store; point WINEQ_TRACKING_URI elsewhere, or move "
        "it aside"
    )
    assert db.read_bytes() == before  # MLflow never added its tables


def test_a_store_locked_past_the_wait_names_the_setting_and_is_not_written(
    project, cli, monkeypatch
):
    import sys

    db = project / "mlflow.db"
    before = db.read_bytes()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], "
         "isolation_level=None); c.execute('BEGIN EXCLUSIVE'); print('held', flush=True); "
         "time.sleep(60)", str(db)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("WINEQ_STORE_BUSY_TIMEOUT", "1")
        result = cli("runs")
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 6, result.stderr
    assert result.stderr.strip() == (
        f"Error: MLflow store sqlite:///{db} stayed locked by another process past the wait "
        f"(WINEQ_STORE_BUSY_TIMEOUT); wait for it to finish, or find it with `fuser {db}`"
    )
    assert db.read_bytes() == before


# ---------------------------------------------------------------- dead trainers


def test_a_killed_trainer_is_shown_gone_never_registered_and_closed_with_one_command(project, cli):
    import json
    import signal
    import time

    from tests.support.project import tracker_for

    trainer = subprocess.Popen(
        [str(BIN / "wineq"), "train", "--epochs", "100000"],
        cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        running = []
        while not running and time.monotonic() < deadline:
            time.sleep(0.5)
            running = [r for r in tracker_for(project).search_runs() if r.status == "RUNNING"]
        assert running, "the trainer never started its run"
        [run] = running
        assert not run.process_gone  # alive: still training
        assert "RUNNING (process gone)" not in cli("runs").stdout
    finally:
        trainer.send_signal(signal.SIGKILL)
        trainer.wait()

    listed = cli("runs")
    assert "RUNNING (process gone)" in listed.stdout
    assert json.loads(cli("runs", "--json").stdout)[0]["process_gone"] is True
    best = cli("register", "--min-rmse", "5")
    assert best.exit_code == 8 and "(no finished runs)" in best.stderr
    chosen = cli("register", "--run-id", run.run_id)
    assert chosen.exit_code == 8
    assert chosen.stderr.strip() == (
        f"Error: run {run.run_id} never finished: its training process is gone (killed, or the "
        "machine restarted); close it with `wineq runs --close-gone` and register a finished run"
    )

    closed = cli("runs", "--close-gone")
    assert closed.exit_code == 0
    assert f"as FAILED: {run.run_id}" in closed.stderr
    after = tracker_for(project).get_run(run.run_id)
    assert after.status == "FAILED" and "closed as FAILED" in after.tags["wineq.error"]
    assert "process gone" not in closed.stdout
    again = cli("runs", "--close-gone")
    assert "No RUNNING run of this machine has lost its process." in again.stderr


# ---------------------------------------------------------------- a full disk


@contextmanager
def small_disk(folder, size: int):
    """`folder` on a file system of `size` bytes (tmpfs) holding its present files, for the
    block; skipped where this machine lets nobody mount one."""
    import shutil
    import tempfile

    folder.mkdir(parents=True, exist_ok=True)
    keep = Path(tempfile.mkdtemp(prefix="wineq-keep-"))
    shutil.copytree(folder, keep / "files", symlinks=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True, text=True,
    )  # fmt: skip
    if mounted.returncode != 0:
        shutil.rmtree(keep)
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.strip()}")
    try:
        shutil.copytree(keep / "files", folder, symlinks=True, dirs_exist_ok=True)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)
        shutil.copytree(keep / "files", folder, symlinks=True, dirs_exist_ok=True)
        shutil.rmtree(keep)


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.suffix == ".tmp")


def test_a_full_disk_leaves_the_previous_output_intact_and_no_temporary_file(
    champion, cli, tmp_path
):
    many = tmp_path / "many.csv"
    many.write_text(HEADER + ';"color"\n' + "\n".join([r + ";red" for r in _rows(20)] * 200) + "\n")
    with small_disk(tmp_path / "small", 64 * 1024) as small:
        out = small / "predictions.csv"
        out.write_text("the previous predictions\n")
        result = cli("infer", many, "--output", out)
        assert result.exit_code == 3, result.stderr
        assert result.stderr.strip() == (
            f"Error: cannot write {out}: the disk is full (No space left on device); free "
            "some space, or pick another place"
        )
        assert out.read_text() == "the previous predictions\n" and _leftovers(small) == []


def test_standard_output_on_a_full_disk_is_one_line(champion, wines):
    with open("/dev/full", "wb") as full:  # every write: No space left on device
        result = subprocess.run(
            [str(BIN / "wineq"), "infer", str(wines)],
            cwd=champion, stdout=full, stderr=subprocess.PIPE, text=True, timeout=300,
        )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert result.stderr.strip() == (
        "Error: cannot write the predictions to standard output: the disk is full (No space "
        "left on device); free some space, or pick another place"
    )


def test_a_file_size_limit_is_named_as_such(champion, tmp_path):
    import resource
    import signal

    # the limit lets MLflow's store grow as it needs, but not the output
    limit = (champion / "mlflow.db").stat().st_size + (2 << 20)
    rows = [r + ";red" for r in _rows(20)]
    many = tmp_path / "many.csv"
    with open(many, "w") as handle:
        handle.write(HEADER + ';"color"\n')
        while handle.tell() < limit:
            handle.write("\n".join(rows) + "\n")
    out = tmp_path / "out" / "predictions.csv"
    out.parent.mkdir()
    out.write_text("the previous predictions\n")

    def limited():  # as `ulimit -f` would; the signal would kill instead of failing the write
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run(
        [str(BIN / "wineq"), "infer", str(many), "--output", str(out)],
        cwd=champion, capture_output=True, text=True, timeout=300, preexec_fn=limited,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert result.stderr.strip() == (
        f"Error: cannot write {out}: the file reached this process's file-size limit (File "
        "too large); raise the limit (`ulimit -f`), or pick another place"
    )
    assert out.read_text() == "the previous predictions\n" and _leftovers(out.parent) == []


def test_a_full_disk_while_storing_the_model_keeps_the_previous_model(project, cli):
    assert cli("train", "--epochs", "1").exit_code == 0
    model = project / "models" / "model.pt"
    previous = model.read_bytes()
    with small_disk(project / "models", len(previous) * 3 // 2) as models:
        result = cli("train", "--epochs", "1", "--seed", "1")
        assert result.exit_code == 3, result.stderr
        assert result.stderr.strip() == (
            f"Error: cannot write {model}: the disk is full (No space left on device); free "
            "some space, or pick another place"
        )
        assert model.read_bytes() == previous and _leftovers(models) == []
    from tests.support.project import tracker_for

    assert tracker_for(project).search_runs()[0].status == "FAILED"


def test_a_full_disk_while_importing_the_data_keeps_the_previous_data(
    project, cli, uci_source, monkeypatch
):
    from winequality.io import uci as data_module

    data = project / "data" / "wine-quality.csv"
    previous = data.read_bytes()
    source, spec = uci_source
    monkeypatch.setattr(data_module, "UCI_FILES", spec)
    with small_disk(project / "data", len(previous) * 3 // 2) as folder:
        result = cli("data", "import", "--source", source)
        assert result.exit_code == 3, result.stderr
        assert result.stderr.strip() == (
            f"Error: cannot write {data}: the disk is full (No space left on device); free "
            "some space, or pick another place"
        )
        assert data.read_bytes() == previous and _leftovers(folder) == []


# ---------------------------------------------------------------- damaged data


def test_a_damaged_cache_copy_of_the_data_heals_from_the_remote(project, cli):
    import hashlib
    import json

    import yaml

    dir_md5 = yaml.safe_load((project / "data.dvc").read_text())["outs"][0]["md5"]
    cache = project / ".dvc" / "cache" / "files" / "md5"
    manifest = json.loads((cache / dir_md5[:2] / dir_md5[2:]).read_text())
    md5 = next(e["md5"] for e in manifest if e["relpath"] == "wine-quality.csv")
    copy = cache / md5[:2] / md5[2:]
    data = project / "data" / "wine-quality.csv"
    intact = data.read_bytes()
    bad = intact[:-2] + bytes([intact[-2] ^ 0x01]) + intact[-1:]  # one flipped bit
    copy.chmod(0o644)
    copy.write_bytes(bad)
    data.write_bytes(bad)  # the work tree's copy was checked out from the damaged cache
    result = cli("train", "--epochs", "1")
    assert result.exit_code == 0, result.stderr
    assert data.read_bytes() == intact and hashlib.md5(copy.read_bytes()).hexdigest() == md5

    edited = intact + intact.splitlines(keepends=True)[1]  # somebody's edit is theirs
    data.write_bytes(edited)
    result = cli("train", "--epochs", "1")
    assert result.exit_code == 3
    assert "data/wine-quality.csv differs from the version in data.dvc" in result.stderr
    assert data.read_bytes() == edited
