"""Re-make the README's pictures from a real wineq run.

Makes, in docs/img/ (or --out):

  mlflow-run.png        MLflow's run page of a DVC experiment: description, dataset, metrics
  mlflow-run-plots.png  the same run's Artifacts tab with plots/predicted_vs_true.png open
  mlflow-version.png    the registered model version wine-quality/1: description and tags
  dvc-plots.png         `dvc plots diff baseline lr-0.002`: loss curves, predicted against true
  mlflow-compare.png    `wineq compare @champion <the other run>`: the comparison's run page
                        (verdict, table, per-model metrics), the paired-errors plot below it
  mlflow-champion.png   the registered model's page: aliases and the champion's history tags

How: the repository (--repo, default this one) is cloned into a temporary folder, given a
local DVC remote and the UCI data (`wineq data import`), and trained twice as DVC experiments
(`dvc exp run -n baseline`, then `-n lr-0.002 -S train.lr=0.002`), each an MLflow run in the
clone's mlflow.db; `wineq register` registers the best one. An `mlflow server` on that store
and headless Chromium (driven over the DevTools protocol on a pipe: it waits for each page's
content and clicks "Show more") take the MLflow pictures; the DVC plots page is rendered with
the vega libraries inlined, as there may be no internet to fetch them from a CDN. The clone,
the DVC remote and the server's files go in a temporary folder, removed at the end (--keep
keeps it; --project <kept>/project re-takes only the pictures, in about 40 s).

Needs: Chromium (the OS package, `chromium` on PATH or --chromium), npm (installs vega, vega-lite
and vega-embed once into ~/.cache/wineq-docs), the two UCI files winequality-red.csv and
winequality-white.csv (--uci, default ../shared/datasets/uci-wine-quality next to the
repository), and wineq, DVC and MLflow installed in the Python that runs this script.

Takes about 2.5 minutes on two idle cores, most of it the two trainings (fewer --epochs is
faster).

    python -m docs.screenshots [--uci PATH] [--out docs/img] [--epochs N] [--keep]
                               [--workdir DIR] [--project DIR] [--chromium PATH]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.servers import mlflow_server as start_mlflow_server

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CACHE = Path.home() / ".cache" / "wineq-docs"
GIT = ["git", "-c", "user.name=wineq docs", "-c", "user.email=docs@wineq.invalid"]
UCI_FILES = ("winequality-red.csv", "winequality-white.csv")
VEGA_PACKAGES = ("vega@5", "vega-lite@5", "vega-embed@6")
VEGA_SCRIPTS = (
    "vega/build/vega.min.js",
    "vega-lite/build/vega-lite.min.js",
    "vega-embed/build/vega-embed.min.js",
)
WINDOW = (1400, 1000)


class Failure(Exception):
    """A problem the script reports in one line and exits on."""


# The two DVC experiments the pictures compare: params.yaml as it is, and a faster learning
# rate (more epochs alone would keep the same best epoch, hence the same model).
EXPERIMENTS = (("baseline", []), ("lr-0.002", ["train.lr=0.002"]))


def say(message: str) -> None:
    print(f"[screenshots] {message}", flush=True)


def clean_env() -> dict[str, str]:
    """The environment for every command: this Python's bin first, no WINEQ_ or DVC_ knobs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WINEQ_", "DVC_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"
    return env


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run a command; its stdout, or Failure with the tail of its output."""
    done = subprocess.run(
        cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
        raise Failure(f"`{' '.join(cmd)}` failed ({done.returncode}):\n  " + "\n  ".join(tail))
    return done.stdout


def find_tools(args: argparse.Namespace) -> tuple[str, str]:
    """Chromium's and npm's paths, and a check of the UCI files; Failure if one is missing."""
    chromium = args.chromium or next(
        (
            shutil.which(n)
            for n in ("chromium", "chromium-browser", "google-chrome")
            if shutil.which(n)
        ),
        None,
    )
    if not chromium:
        raise Failure(
            "Chromium not found: install the OS package (apt install chromium) or pass --chromium"
        )
    npm = shutil.which("npm")
    if not npm:
        raise Failure(
            "npm not found: install Node.js (apt install npm); it fetches the vega libraries"
        )
    missing = [name for name in UCI_FILES if not (args.uci / name).is_file()]
    if missing:
        raise Failure(f"UCI files missing in {args.uci}: {', '.join(missing)} (pass --uci FOLDER)")
    for tool in ("wineq", "dvc", "mlflow"):
        if not (BIN / tool).exists():
            raise Failure(
                f"{tool} not found in {BIN}: run this script with the project's venv Python"
            )
    return chromium, npm


def vega_scripts(npm: str, env: dict[str, str]) -> list[Path]:
    """vega, vega-lite and vega-embed's minified builds, installed once under CACHE."""
    prefix = CACHE / "vega"
    scripts = [prefix / "node_modules" / name for name in VEGA_SCRIPTS]
    if not all(path.is_file() for path in scripts):
        say(f"installing {', '.join(VEGA_PACKAGES)} with npm into {prefix}")
        prefix.mkdir(parents=True, exist_ok=True)
        run(
            [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", *VEGA_PACKAGES],
            prefix,
            env,
        )
    return scripts


def build_project(args: argparse.Namespace, work: Path, env: dict[str, str]) -> Path:
    """A clone of the repository with a local DVC remote, the UCI data and two experiments."""
    project = work / "project"
    say(f"cloning {args.repo} into {project}")
    run(GIT + ["clone", "-q", str(args.repo), str(project)], work, env)
    run(["dvc", "remote", "add", "--local", "-d", "local", str(work / "remote")], project, env)
    say(f"importing the UCI data from {args.uci}")
    run(["wineq", "data", "import", "--source", str(args.uci)], project, env)
    run(GIT + ["add", "data.dvc"], project, env)
    if run(["git", "status", "--porcelain", "--untracked-files=no"], project, env).strip():
        run(GIT + ["commit", "-q", "-m", "data"], project, env)

    for name, changes in EXPERIMENTS:
        changes = [*changes, *([f"train.epochs={args.epochs}"] if args.epochs else [])]
        say(f"dvc exp run -n {name} {' '.join(changes)}")
        started = time.monotonic()
        sets = [arg for change in changes for arg in ("-S", change)]
        run(["dvc", "exp", "run", *sets, "-n", name], project, env)
        say(f"  {name} trained in {time.monotonic() - started:.0f} s")
    say(f"wineq register --min-rmse {args.min_rmse}")
    run(["wineq", "register", "--min-rmse", str(args.min_rmse)], project, env)
    return project


def compare_runs(project: Path, env: dict[str, str]) -> str:
    """`wineq compare @champion OTHER` and the other run as @challenger; the comparison's
    MLflow run id."""
    listed = json.loads(run(["wineq", "runs", "--json"], project, env))
    other = next(r["run_id"] for r in listed if not r["registered"] and r["status"] == "FINISHED")
    say(
        f"wineq register --run-id {other[:8]} --alias challenger; wineq compare @champion {other[:8]}"
    )
    run(["wineq", "register", "--run-id", other, "--alias", "challenger"], project, env)
    found = json.loads(run(["wineq", "compare", "@champion", other, "--json"], project, env))
    return found["recorded"]


def stop(process: subprocess.Popen) -> None:
    """Stop a process started in its own session, and everything it started."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 9)
            process.wait()


@contextlib.contextmanager
def mlflow_server(project: Path, work: Path):
    """`mlflow server` on the project's store, started as the tests start it; yields its
    base URL, stops it on leaving."""
    server = start_mlflow_server(work, f"sqlite:///{project / 'mlflow.db'}")
    try:
        say(f"mlflow server at {server.url}")
        yield server.url
    finally:
        server.stop()


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
    JSON messages ending in NUL, Chromium reading fd 3 and writing fd 4), so no websocket
    client is needed. The MLflow pages need clicks and waits a plain --screenshot can't do."""

    def __init__(self, chromium: str, profile: Path, size: tuple[int, int] = WINDOW):
        to_chromium, self._write = os.pipe()
        self._read, from_chromium = os.pipe()
        # high numbers, so that moving them to 3 and 4 in the child cannot clobber them
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_chromium, from_chromium)]
        os.close(to_chromium)
        os.close(from_chromium)
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={size[0]},{size[1]}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        move = f'exec "$0" "$@" 3<&{ends[0]} 4>&{ends[1]} {ends[0]}<&- {ends[1]}>&-'
        self._log = (profile.parent / "chromium.log").open("ab")
        self.process = subprocess.Popen(
            ["bash", "-c", move, chromium, *flags],
            pass_fds=ends,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,
        )
        for fd in ends:
            os.close(fd)
        self._buffer = b""
        self._last_id = 0
        self._session = None
        try:
            target = self.send("Target.createTarget", url="about:blank")["targetId"]
            attached = self.send("Target.attachToTarget", targetId=target, flatten=True)
            self._session = attached["sessionId"]
            self.resize(*size)
        except BaseException:
            self.close()
            raise

    def send(self, method: str, **params) -> dict:
        """Send one command and wait for its answer (events in between are dropped)."""
        self._last_id += 1
        message = {"id": self._last_id, "method": method, "params": params}
        if self._session:
            message["sessionId"] = self._session
        try:
            os.write(self._write, json.dumps(message).encode() + b"\0")
            while True:
                while b"\0" not in self._buffer:
                    chunk = os.read(self._read, 1 << 20)
                    if not chunk:
                        raise Failure(f"Chromium quit; see {self._log.name}")
                    self._buffer += chunk
                raw, self._buffer = self._buffer.split(b"\0", 1)
                answer = json.loads(raw)
                if answer.get("id") == self._last_id:
                    break
        except BrokenPipeError:
            raise Failure(f"Chromium quit; see {self._log.name}") from None
        if "error" in answer:
            raise Failure(f"Chromium: {method}: {answer['error'].get('message')}")
        return answer.get("result", {})

    def js(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise Failure(f"JavaScript failed: {expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def resize(self, width: int, height: int) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def open(self, url: str, ready: str, timeout: float = 60) -> None:
        """Load `url` afresh and wait until the JavaScript condition `ready` is true."""
        self.send("Page.navigate", url="about:blank")  # so a new #/route is a full page load
        self.send("Page.navigate", url=url)
        self.wait(ready, f"{url} did not show {ready!r}", timeout)

    def wait(self, condition: str, problem: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.js(f"Boolean({condition})"):
            if time.monotonic() > deadline:
                raise Failure(f"after {timeout:.0f} s: {problem}")
            time.sleep(0.5)
        time.sleep(1.5)  # let images, fonts and animations settle

    def click(self, selector: str) -> bool:
        """Click the first element matching a CSS selector; False if there is none."""
        return self.js(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (e) { e.click(); return true } return false })()"
        )

    def screenshot(self, out: Path, clip: tuple[int, int] | None = None) -> None:
        """A PNG of the viewport, or of its top-left (width, height) `clip`."""
        params = {"format": "png"}
        if clip:
            params["clip"] = {"x": 0, "y": 0, "width": clip[0], "height": clip[1], "scale": 1}
        data = self.send("Page.captureScreenshot", **params)["data"]
        out.write_bytes(base64.b64decode(data))
        say(f"  {out.name} ({out.stat().st_size // 1024} kB)")

    def close(self) -> None:
        with contextlib.suppress(Failure, OSError):
            self._session = None
            os.write(self._write, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
        for fd in (self._write, self._read):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        stop(self.process)
        self._log.close()


def text_shows(text: str) -> str:
    """A JavaScript condition: the page's text contains `text`."""
    return f"document.body && document.body.innerText.includes({json.dumps(text)})"


def run_page_screenshot(browser: Browser, url: str, out: Path, hide: str) -> None:
    """A run's overview, its description expanded, the Assistant hidden, 1150 px high."""
    say(f"  {url}")
    browser.open(url, text_shows("Metrics ("))
    browser.click('[data-component-id="mlflow.assistant.chat_panel.close"]')
    if browser.click('[aria-label="Expand description"]'):  # the description's "Show more"
        browser.wait(text_shows("Show less"), f"the description at {url} did not expand")
    browser.js(hide)
    browser.resize(WINDOW[0], 1150)
    browser.screenshot(out)
    browser.resize(*WINDOW)


def compare_screenshots(browser: Browser, base: str, ids, out: Path, hide: str) -> None:
    """The comparison's run page, and the registered model's page with its history tags."""
    experiment_id, run_id = ids
    url = f"{base}/#/experiments/{experiment_id}/runs/{run_id}"
    run_page_screenshot(browser, url, out / "mlflow-compare.png", hide)
    model_url = f"{base}/#/models/wine-quality"
    say(f"  {model_url}")
    browser.open(model_url, f"{text_shows('Tags')} && {text_shows('wineq.champion.0001')}")
    browser.js(hide)
    browser.screenshot(out / "mlflow-champion.png")


def mlflow_screenshots(
    browser: Browser, base: str, ids: tuple[str, str], out: Path, compared=None
) -> None:
    """The run's overview and artifacts, and the registered version, in MLflow's UI."""
    experiment_id, run_id = ids
    # MLflow keeps UI choices in localStorage: the "Model training" side bar rather than
    # GenAI's, and the Assistant panel (it opens itself on a first visit) closed.
    browser.open(f"{base}/", "document.readyState === 'complete'")
    browser.js(
        "localStorage.setItem('mlflow.workflowType_v1', '\"machine_learning\"');"
        "localStorage.setItem('mlflow.assistant.fab.autoOpenedOnFirstLoad_v1', 'true');"
        "localStorage.setItem('mlflow.assistant.panelOpen_v1', 'false')"
    )
    hide_assistant = (
        "document.querySelectorAll('[data-component-id^=\"mlflow.assistant\"]')"
        ".forEach(e => e.style.visibility = 'hidden')"
    )
    run_url = f"{base}/#/experiments/{experiment_id}/runs/{run_id}"
    run_page_screenshot(browser, run_url, out / "mlflow-run.png", hide_assistant)

    plot_url = f"{run_url}/artifacts/plots/predicted_vs_true.png"
    say(f"  {plot_url}")
    image_shown = "[...document.images].some(i => i.complete && i.naturalWidth > 400)"
    browser.open(plot_url, image_shown)
    browser.js(hide_assistant)
    browser.screenshot(out / "mlflow-run-plots.png")

    if compared:
        compare_screenshots(browser, base, compared, out, hide_assistant)

    version_url = f"{base}/#/models/wine-quality/versions/1"
    say(f"  {version_url}")
    browser.open(version_url, f"{text_shows('Tags')} && {text_shows('Description')}")
    browser.js(hide_assistant)
    browser.screenshot(out / "mlflow-version.png")


def plots_screenshot(browser: Browser, page: Path, out: Path) -> None:
    """The DVC plots page once vega has drawn its three plots, cut to the page's height."""
    say(f"  {page.as_uri()}")
    browser.open(page.as_uri(), "document.querySelectorAll('canvas, svg.marks').length >= 3")
    right, bottom = browser.js(
        "(() => { const boxes = [...document.body.children].map(e => e.getBoundingClientRect());"
        " return [Math.max(...boxes.map(b => b.right)), Math.max(...boxes.map(b => b.bottom))] })()"
    )
    browser.resize(WINDOW[0], max(WINDOW[1], int(bottom) + 16))
    time.sleep(0.5)
    browser.screenshot(out / "dvc-plots.png", clip=(int(right) + 16, int(bottom) + 16))
    browser.resize(*WINDOW)


def dvc_plots(project: Path, work: Path, scripts: list[Path], env: dict[str, str]) -> Path:
    """`dvc plots diff` of the two experiments as an HTML page that needs no internet."""
    inline = "\n".join(
        f"<script>\n{path.read_text(encoding='utf8')}\n</script>" for path in scripts
    )
    # DVC fills {plot_divs}; its {scripts} (CDN links) are left out on purpose
    template = work / "plots-template.html"
    template.write_text(
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>DVC plots</title>\n'
        f"{inline}\n<style>\n"
        "body { font-family: sans-serif; margin: 16px; background: white;"
        " display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }\n"
        "</style>\n</head>\n<body>\n{plot_divs}\n</body>\n</html>\n",
        encoding="utf8",
    )
    out = work / "plots"
    names = [name for name, _ in EXPERIMENTS]
    say(f"dvc plots diff {' '.join(names)}")
    cmd = ["dvc", "plots", "diff", *names, "-o", str(out)]
    run(cmd + ["--html-template", str(template)], project, env)
    page = out / "index.html"
    if "cdn.jsdelivr" in page.read_text(encoding="utf8"):
        raise Failure(f"{page} still loads the vega libraries from a CDN")
    return page


def mlflow_ids(project: Path, model: str) -> tuple[str, str]:
    """The experiment id and run id of version 1 of the registered model."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    version = client.get_model_version(model, "1")
    run = client.get_run(version.run_id)
    return run.info.experiment_id, run.info.run_id


def comparison_ids(project: Path, run_id: str) -> tuple[str, str]:
    """The experiment id and run id of a comparison's MLflow run."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    return client.get_run(run_id).info.experiment_id, run_id


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=REPO, help="git repository to clone")
    parser.add_argument(
        "--uci",
        type=Path,
        default=REPO.parent / "shared" / "datasets" / "uci-wine-quality",
        help="folder with winequality-red.csv and winequality-white.csv",
    )
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img", help="PNG folder")
    parser.add_argument("--workdir", type=Path, help="work here instead of a temporary folder")
    parser.add_argument(
        "--epochs", type=int, help="epochs of both experiments (default: params.yaml's)"
    )
    parser.add_argument("--min-rmse", type=float, default=0.8, help="for wineq register")
    parser.add_argument("--chromium", help="Chromium's path (default: chromium on PATH)")
    parser.add_argument(
        "--project",
        type=Path,
        help="a project this script built before (--keep): only re-take the pictures",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.repo, args.uci, args.out = args.repo.resolve(), args.uci.resolve(), args.out.resolve()
    if args.project:
        args.project = args.project.resolve()
    started = time.monotonic()
    env = clean_env()
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        if any(args.workdir.iterdir()):
            raise Failure(f"--workdir {args.workdir} is not empty")
        work = args.workdir.resolve()
    else:
        work = Path(tempfile.mkdtemp(prefix="wineq-docs-"))
    try:
        chromium, npm = find_tools(args)
        scripts = vega_scripts(npm, env)
        if args.project:
            project = args.project
            say(f"using {project} as it is (no clone, no training)")
        else:
            project = build_project(args, work, env)
        page = dvc_plots(project, work, scripts, env)
        ids = mlflow_ids(project, "wine-quality")
        compared = comparison_ids(project, compare_runs(project, env))
        args.out.mkdir(parents=True, exist_ok=True)
        with mlflow_server(project, work) as base:
            say("screenshots")
            browser = Browser(chromium, Path(tempfile.mkdtemp(prefix="chromium-", dir=work)))
            try:
                plots_screenshot(browser, page, args.out)
                mlflow_screenshots(browser, base, ids, args.out, compared)
            finally:
                browser.close()
    finally:
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    say(f"done in {time.monotonic() - started:.0f} s: {args.out}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as problem:
        print(f"screenshots: {problem}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
