"""Output plumbing shared by data import, model storage and infer: atomic files and sinks.

Standard library only, so any layer may use it without loading pandas or DVC.
"""

from __future__ import annotations

import errno
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO, Union, cast

from winequality.errors import DataError


class OutputError(DataError):
    """A file could not be written (no such folder, no permission, a folder in the way)."""


def why_not_written(exc: OSError) -> str:
    """The reason a write failed, in the words a user acts on."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk is full ({exc.strerror}); free some space, or pick another place"
    if exc.errno == errno.EFBIG:
        return (
            f"the file reached this process's file-size limit ({exc.strerror}); raise the "
            "limit (`ulimit -f`), or pick another place"
        )
    return f"{exc.strerror}; pick another place"


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary handle whose bytes replace `path` only when the block ends without error.

    Readers see the old file or the new one, never a torn one; on any error (Ctrl-C
    included) the temporary file is removed and `path` is untouched. Example:
    `with atomic_file(Path("out.csv")) as out: out.write(b"...")`
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {why_not_written(exc)}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            raise OutputError(f"cannot write {path}: {why_not_written(exc)}") from exc
        raise


def write_atomic(path: Path, content: bytes) -> None:
    """Write `content` to `path` so readers see the old file or the new one, never a torn one."""
    with atomic_file(path) as handle:
        handle.write(content)


class _TextSink:
    """Bytes into a text stream that has no binary buffer underneath (e.g. a StringIO)."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, data: bytes) -> None:
        self.stream.write(data.decode())

    def flush(self) -> None:
        self.stream.flush()


def binary_sink(stream: Union[TextIO, BinaryIO]) -> Union[BinaryIO, _TextSink]:
    """Somewhere to write bytes that end up in `stream`, text or binary, in order."""
    if isinstance(stream, (io.RawIOBase, io.BufferedIOBase)):
        return stream  # already binary
    stream.flush()  # anything written as text so far goes out first
    return getattr(stream, "buffer", None) or _TextSink(cast(TextIO, stream))
