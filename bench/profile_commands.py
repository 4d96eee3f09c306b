"""Where the time of `wineq train` and `wineq infer` goes: cProfile, in phases.

    python bench/profile_commands.py PATH/TO/uci-wine-quality [--rows 1000000]

Runs each command once under cProfile in a scratch project and prints the cumulative
seconds of its phases (imports, DVC, MLflow, training, reading, predicting, writing).
"""

from __future__ import annotations

import argparse
import json
import pstats
import subprocess
import tempfile
from pathlib import Path

from harness import ENV, PYTHON, WINEQ, remove_project, run, scratch_project
from infer_scale import write_wines

PHASES = {
    "train": [
        ("imports", "<frozen importlib._bootstrap>", "_find_and_load"),
        ("git state", "train.py", "git_state"),
        ("DVC: pull data", "store.py", "pull_data"),
        ("DVC: read data (dvc.api.open)", "data.py", "load_training_frame"),
        ("MLflow: connect + start run", "tracking.py", "start_run"),
        ("training loop (fit)", "model.py", "fit"),
        ("test predictions", "model.py", "predict"),
        ("MLflow: log metrics (batched)", "tracking.py", "log_metrics"),
        ("DVC: save + push model", "store.py", "save_model"),
        ("MLflow: pointer artifact", "tracking.py", "log_pointer"),
        ("MLflow: lineage tags", "tracking.py", "set_tags"),
        ("MLflow: end run", "tracking.py", "end_run"),
    ],
    "infer": [
        ("imports", "<frozen importlib._bootstrap>", "_find_and_load"),
        ("start the lookup process", "lookup.py", "start"),
        ("wait for the lookup (after torch loaded)", "lookup.py", "result"),
        ("load weights", "model.py", "from_bytes"),
        ("read + parse + validate chunks", "data.py", "read_wine_chunks"),
        ("encode inputs", "model.py", "frame_inputs"),
        ("predict: whole", "model.py", "predict"),
        ("predict: ensemble of MLPs", "model.py", "forward_members"),
        ("predict: nearest wines", "model.py", "neighbour_mean"),
        ("write lines + predictions", "csv.py", "with_columns"),
    ],
    # the child process of `wineq infer` that finds the model (winequality/lookup.py)
    "infer: model lookup process": [
        ("imports", "<frozen importlib._bootstrap>", "_find_and_load"),
        ("MLflow: resolve model", "resolve.py", "source"),
        ("DVC: fetch bytes", "store.py", "fetch"),
    ],
}


def phases(stats_file: Path, command: str) -> list[tuple[str, float]]:
    stats = pstats.Stats(str(stats_file)).stats  # (file, line, name) -> (cc, nc, tt, ct, callers)
    total = max(ct for (_, _, _, ct, _) in stats.values())
    out = [("total (profiled)", total)]
    for label, file_end, name in PHASES[command]:
        # cProfile counts a recursive function's (an import's) time once, at the outermost call
        cumulative = sum(
            ct
            for (file, _, fname), (_, _, _, ct, _) in stats.items()
            if fname == name and file.endswith(file_end)
        )
        out.append((label, cumulative))
    return out


def bench(uci: Path, rows: int = 1_000_000) -> dict:
    root = scratch_project(uci)
    work = Path(tempfile.mkdtemp(prefix="wineq-profile-", dir=root.parent))
    try:
        profiles = {}
        for command, args in (
            ("train", ["train", "--epochs", "50"]),
            ("infer", ["infer", str(work / "wines.csv"), "--output", str(work / "out.csv")]),
        ):
            if command == "infer":
                run([WINEQ, "register", "--min-rmse", "10"], root)
                write_wines(root / "data" / "wine-quality.csv", work / "wines.csv", rows)
            out = work / f"{command}.prof"
            run([PYTHON, "-m", "cProfile", "-o", str(out), WINEQ, *args], root)
            profiles[command] = phases(out, command)
        # the lookup `wineq infer` runs in its child process, given the same request
        command, out = "infer: model lookup process", work / "lookup.prof"
        request = {"settings": {"project_dir": str(root)}, "model": None, "run_id": None}
        subprocess.run(
            [PYTHON, "-m", "cProfile", "-o", str(out), "-m", "winequality.adapters.lookup_process"],
            cwd=root,
            env=ENV,
            input=json.dumps(request).encode(),
            capture_output=True,
            check=True,
        )
        profiles[command] = phases(out, command)
    finally:
        remove_project(root)
    return profiles


def markdown(profiles: dict) -> str:
    lines = []
    for command, rows in profiles.items():
        lines += [f"`wineq {command}` under cProfile:", "", "| phase | seconds |", "| --- | --- |"]
        lines += [f"| {label} | {seconds:.2f} |" for label, seconds in rows]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="folder with the two UCI files")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    profiles = bench(Path(args.source), args.rows)
    print(markdown(profiles))
    print(json.dumps(profiles, indent=2))
