"""Git, where wineq records something in the user's history: staging a file, committing it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from winequality.errors import StoreError, first_line


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    except FileNotFoundError:
        raise StoreError(
            "git is not installed; install it, or commit the change yourself"
        ) from None
    except subprocess.CalledProcessError as exc:
        reason = first_line(exc.stderr or exc.stdout or str(exc))
        raise StoreError(f"git {args[0]} failed: {reason}") from None
    return done.stdout


def stage(root: Path, path: str) -> None:
    """`git add path`: the change is staged for the user's next commit."""
    _git(root, "add", "--", path)


def commit(root: Path, path: str, message: str) -> str:
    """Commit `path` alone with `message`; the new commit's id."""
    _git(root, "commit", "-q", "-m", message, "--", path)
    return _git(root, "rev-parse", "HEAD").strip()


def history(root: Path, path: str) -> list[tuple[str, str, str]]:
    """(commit, ISO date, subject) of each commit that changed `path`, newest first."""
    out = _git(root, "log", "--format=%H%x09%cI%x09%s", "--", path)
    return [tuple(line.split("\t", 2)) for line in out.splitlines() if line]  # type: ignore[misc]


def show(root: Path, commit: str, path: str) -> str:
    """`path` as it was at `commit`."""
    return _git(root, "show", f"{commit}:{path}")
