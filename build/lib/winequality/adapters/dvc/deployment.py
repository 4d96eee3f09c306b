"""A DVC repository outside any clone, for machines that only use a model: its only remote
is the one a model recorded, and its cache keeps each model fetched once."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Optional

from winequality.adapters.dvc.repository import SPEC_KEYS
from winequality.errors import StoreError
from winequality.io.atomic import write_atomic


def deployment_root(remote: dict, cache_root: Optional[Path] = None) -> Path:
    """A store outside any clone: a DVC repository of its own (no Git) whose only remote
    is `remote` (as `StoredFile.location` recorded it), in a folder under `cache_root`.

    What a deployment machine uses: its cache keeps each model fetched once. The
    remote's credentials come from the environment, as DVC reads them (AWS_*, ...).
    """
    from filelock import FileLock

    url = remote.get("url")
    if not url:
        raise StoreError("the model records no DVC remote to fetch it from; train it again")
    base = (
        cache_root
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wineq" / "dvc"
    )
    root = base / hashlib.sha256(json.dumps(remote, sort_keys=True).encode()).hexdigest()[:16]
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root) + ".lock", timeout=120):
        if not (root / ".dvc" / "config").is_file():
            lines = ["[core]", "    no_scm = True", "    remote = recorded"]
            lines += ["['remote \"recorded\"']", f"    url = {url}"]
            lines += [
                f"    {key} = {value}" for key, value in remote.items() if key in SPEC_KEYS[1:]
            ]
            (root / ".dvc" / "tmp").mkdir(parents=True, exist_ok=True)
            write_atomic(root / ".dvc" / "config", ("\n".join(lines) + "\n").encode())
    return root
