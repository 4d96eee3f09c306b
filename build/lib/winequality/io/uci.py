"""The UCI Wine Quality files: download or read them, verify them, combine them into one CSV."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from winequality.errors import DataError
from winequality.schema import COLOR


@dataclass(frozen=True)
class SourceFile:
    """One published UCI file and the checks it must pass."""

    name: str
    size: int
    sha256: str


UCI_FILES = {
    "red": SourceFile(
        "winequality-red.csv",
        84_199,
        "4a402cf041b025d4566d954c3b9ba8635a3a8a01e039005d97d6a710278cf05e",
    ),
    "white": SourceFile(
        "winequality-white.csv",
        264_426,
        "76c3f809815c17c07212622f776311faeb31e87610d52c26d87d6e361b169836",
    ),
}


def _is_url(source: str) -> bool:
    return "://" in source


def read_source(source: str, files: Optional[dict[str, SourceFile]] = None) -> dict[str, bytes]:
    """Read and verify the UCI files from a URL prefix or a local folder."""
    files = UCI_FILES if files is None else files
    raw = {}
    for color, spec in files.items():
        if _is_url(source):
            url = source.rstrip("/") + "/" + spec.name
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    content = response.read(spec.size + 1)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", exc)
                raise DataError(
                    f"could not download {url}: {reason}; check the address or pass "
                    "--source with a folder holding the UCI files"
                ) from exc
            where = url
        else:
            path = Path(source) / spec.name
            if not path.is_file():
                raise DataError(
                    f"{path} not found; --source (or WINEQ_DATA_SOURCE) must be a folder or "
                    f"URL holding {', '.join(s.name for s in files.values())}"
                )
            content = path.read_bytes()
            where = str(path)
        digest = hashlib.sha256(content).hexdigest()
        if len(content) != spec.size or digest != spec.sha256:
            raise DataError(
                f"{where} is not the published {spec.name} ({len(content):,} bytes, sha256 "
                f"{digest[:12]}…; expected {spec.size:,} bytes, sha256 {spec.sha256[:12]}…); "
                "nothing was written — fetch an intact copy and retry"
            )
        raw[color] = content
    return raw


def build_csv(raw: dict[str, bytes]) -> bytes:
    """The combined CSV: red rows then white rows, the UCI text kept byte for byte, plus color.

    Working on the text (not re-formatting floats) makes the output a pure function of
    the inputs, so the md5 committed in data.dvc stays valid on every machine.
    """
    header = None
    lines: list[str] = []
    for color, content in raw.items():
        text = content.decode("ascii").replace("\r\n", "\n")
        rows = [row for row in text.split("\n") if row.strip()]
        if header is None:
            header = rows[0]
        elif rows[0] != header:
            raise DataError(f"the {color} file's header differs from the others: {rows[0]!r}")
        lines.extend(f"{row};{color}" for row in rows[1:])
    assert header is not None
    return (f'{header};"{COLOR}"\n' + "\n".join(lines) + "\n").encode("ascii")
