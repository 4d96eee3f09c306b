"""Real servers for the team set-up tests, each on a free loopback port.

Every server is a subprocess with its log in a file; waiting for readiness is bounded,
and a server that does not come up fails the test with the tail of its log.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

BIN = Path(sys.executable).parent
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "wineq-test-key",
    "AWS_SECRET_ACCESS_KEY": "wineq-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    log: Path
    url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _log_tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start(
    name: str,
    cmd: list[str],
    log: Path,
    url: str,
    ready: Callable[[], bool],
    timeout: float = 90,
    **popen,
) -> Server:
    handle = open(log, "wb")
    process = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, **popen)
    server = Server(name, process, log, url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"{name} exited with {process.returncode} while starting:\n{_log_tail(log)}"
            )
        try:
            if ready():
                return server
        except OSError:
            pass
        time.sleep(0.25)
    server.stop()
    pytest.fail(f"{name} did not become ready within {timeout:.0f} s:\n{_log_tail(log)}")


def http_ok(url: str) -> Callable[[], bool]:
    def check() -> bool:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200

    return check


def port_open(port: int) -> Callable[[], bool]:
    def check() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    return check


def mlflow_server(workdir: Path, backend_uri: str) -> Server:
    """`mlflow server` exactly as users run it, with the store and artifacts in `workdir`."""
    port = free_port()
    cmd = [
        str(BIN / "mlflow"), "server",
        "--backend-store-uri", backend_uri,
        "--default-artifact-root", "./mlruns",
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    return start(
        "mlflow server",
        cmd,
        workdir / "mlflow-server.log",
        url,
        http_ok(url + "/health"),
        cwd=workdir,
    )


def mlflow_auth_server(workdir: Path, admin: tuple[str, str], workers: Optional[int] = 1) -> Server:
    """`mlflow server --app-name basic-auth` (MLflow's own authentication) on a SQLite store
    in `workdir`, where no one may do anything they are not granted; `admin` is the first
    user (name, password). `workers=None` keeps MLflow's default number of workers."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "basic_auth.ini"
    config.write_text(
        "[mlflow]\n"
        "default_permission = NO_PERMISSIONS\n"
        f"database_uri = sqlite:///{workdir / 'basic_auth.db'}\n"
        f"admin_username = {admin[0]}\n"
        f"admin_password = {admin[1]}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    port = free_port()
    cmd = [
        str(BIN / "mlflow"), "server", "--app-name", "basic-auth",
        "--backend-store-uri", f"sqlite:///{workdir / 'mlflow.db'}",
        "--default-artifact-root", "./mlruns",
        "--host", "127.0.0.1", "--port", str(port),
        *(["--workers", str(workers)] if workers else []),
    ]  # fmt: skip
    env = {
        **os.environ,
        "MLFLOW_AUTH_CONFIG_PATH": str(config),
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "tests-only-csrf-key",
    }
    url = f"http://127.0.0.1:{port}"
    server = start(
        "mlflow basic-auth server",
        cmd,
        workdir / "server.log",
        url,
        http_ok(url + "/health"),
        cwd=workdir,
        env=env,
    )
    server.workdir = workdir
    return server


def moto_s3(workdir: Path) -> Server:
    """moto's standalone S3 server, as DVC's own tests exercise S3."""
    port = free_port()
    cmd = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    url = f"http://127.0.0.1:{port}"
    return start("moto S3 server", cmd, workdir / "moto.log", url, http_ok(url + "/moto-api/"))


def postgres_binaries() -> Optional[Path]:
    found = shutil.which("initdb") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))), None
    )
    return Path(found).parent if found else None


class Postgres:
    """A throwaway PostgreSQL cluster on a free loopback port (run as `postgres` when root)."""

    def __init__(self):
        bindir = postgres_binaries()
        if bindir is None:
            message = "PostgreSQL is not installed (Debian: apt-get install postgresql)"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        self.dir = Path(tempfile.mkdtemp(prefix="wineq-pg-"))
        self.dir.chmod(0o755)
        data = self.dir / "data"
        data.mkdir()
        as_user: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.dir, "postgres")
            shutil.chown(data, "postgres")
            as_user = ["runuser", "-u", "postgres", "--"]
        init = subprocess.run(
            as_user + [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
            capture_output=True, text=True,
        )  # fmt: skip
        if init.returncode != 0:
            pytest.fail(f"initdb failed:\n{init.stdout}\n{init.stderr}")
        self.port = free_port()
        cmd = as_user + [
            str(bindir / "postgres"), "-D", str(data), "-p", str(self.port), "-k", str(self.dir),
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
        ]  # fmt: skip
        self.server = start("postgres", cmd, self.dir / "postgres.log", "", port_open(self.port))
        # accepting TCP is not yet accepting queries: wait for a real login
        deadline = time.monotonic() + 30
        while True:
            try:
                import psycopg

                psycopg.connect(self.uri, connect_timeout=2).close()
                break
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(
                        f"postgres did not accept logins:\n{_log_tail(self.dir / 'postgres.log')}"
                    )
                time.sleep(0.25)

    @property
    def uri(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        self.server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
