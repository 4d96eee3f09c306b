"""The layout of a wine file: column names, separator and header, without importing pandas.

Checking a file's header here, before any model is looked up, lets a wrong file fail in
milliseconds with one line.
"""

from __future__ import annotations

import csv
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Optional, Union

from winequality.errors import DataError, UsageError

FEATURES = [
    "fixed acidity",
    "volatile acidity",
    "citric acid",
    "residual sugar",
    "chlorides",
    "free sulfur dioxide",
    "total sulfur dioxide",
    "density",
    "pH",
    "sulphates",
    "alcohol",
]
TARGET = "quality"
COLOR = "color"
COLORS = ("red", "white")
PREDICTION = "predicted_quality"
QUALITY_LOW = "quality_low"
QUALITY_HIGH = "quality_high"
P_PREMIUM = "p_premium"
UNCERTAINTY = (QUALITY_LOW, QUALITY_HIGH, P_PREMIUM)
"""The columns of a calibrated model's output after PREDICTION: its interval and the
chance of a premium score (models saved before calibration give PREDICTION alone)."""
DEFAULT_INTERVAL = 0.8  # the interval's level, unless WINEQ_INTERVAL or --interval say otherwise
DEFAULT_PREMIUM = 7  # p_premium is P(quality ≥ this)
STDIN_NAME = "<stdin>"
HEADER_LIMIT = 1 << 20  # bytes of a header line; anything longer is no wine file


def checked_level(interval: float, flag: str = "--interval") -> float:
    if not 0 < interval < 1:
        raise UsageError(f"{flag} {interval:g}: give a level between 0 and 1, e.g. 0.9 for 90%")
    return interval


def checked_premium(premium: int, flag: str = "--premium") -> int:
    if not 1 <= premium <= 10:
        raise UsageError(f"{flag} {premium}: give a whole quality score from 1 to 10, e.g. 7")
    return premium


def separator_of(header: str, name: str) -> str:
    """';' for UCI-style headers, ',' for plain CSV; anything else is refused."""
    if not header.strip():
        raise DataError(f"{name} is empty; give a CSV with a header row and at least one wine")
    if header.count(";") >= len(FEATURES) - 1:
        return ";"
    if header.count(",") >= len(FEATURES) - 1:
        return ","
    raise DataError(
        f"{name}: cannot find the columns in the header line; use ';' (as UCI does) or ',' "
        "as the separator"
    )


def _normalise(name: str) -> str:
    return " ".join(name.strip().strip('"').replace("_", " ").split()).lower()


_CANONICAL = {_normalise(name): name for name in FEATURES + [TARGET, COLOR]}


def column_mapping(
    name: str, columns: list[str], color: Optional[str], require_target: bool = False
) -> dict[str, str]:
    """Each column as found → its canonical name; a DataError for unknown or missing ones.

    Names match whatever their case, spacing or underscores: `Fixed_Acidity` is
    `fixed acidity`.
    """
    mapping = {}
    for column in columns:
        canonical = _CANONICAL.get(_normalise(str(column)))
        if canonical is None:
            raise DataError(
                f"{name}: unknown column {str(column)!r}; expected the 11 UCI features, "
                "optionally quality and color"
            )
        if canonical in mapping.values():
            raise DataError(f"{name}: column {canonical!r} appears twice")
        mapping[column] = canonical
    present = set(mapping.values())
    missing = [feature for feature in FEATURES if feature not in present]
    if missing:
        raise DataError(f"{name}: missing column {missing[0]!r} (needs all 11 UCI features)")
    if COLOR not in present and color is None:
        raise DataError(f"{name} has no 'color' column; pass --color red or --color white")
    if require_target and TARGET not in present:
        raise DataError(f"{name}: missing column 'quality'")
    return mapping


@dataclass
class WineInput:
    """An open wine CSV whose header has been read and checked; the rows are still unread."""

    name: str
    """How messages name it: the path, or <stdin>."""
    handle: BinaryIO
    header: bytes
    """The header line as read, without its line ending."""
    header_size: int
    """Bytes of the header line, line ending included (progress counts from here)."""
    sep: str
    owned: bool = True
    path: Optional[Path] = None
    identity: Optional[tuple[int, int, int]] = None
    """(device, inode, size) of a regular file when it was opened, to tell if it changes."""

    def changed_while_read(self) -> Optional[str]:
        """How the file changed since it was opened ('was deleted', ...), or None."""
        if self.identity is None or self.path is None:
            return None  # a stream or a pipe: nothing to compare with
        device, inode, size = self.identity
        try:
            now = os.fstat(self.handle.fileno()).st_size
            if now < size:
                return f"shrank from {size:,} to {now:,} bytes"
            current = os.stat(self.path)
        except FileNotFoundError:
            return "was deleted"
        except OSError as exc:
            return f"could no longer be reached ({exc.strerror})"
        if (current.st_dev, current.st_ino) != (device, inode):
            return "was replaced by another file"
        return None

    def close(self) -> None:
        if self.owned:
            self.handle.close()

    def __enter__(self) -> WineInput:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def prediction_header(self, columns: tuple[str, ...] = (PREDICTION,)) -> bytes:
        """The output's header: the input's, plus the prediction columns quoted as its last
        column is (UCI quotes every name; a plain CSV quotes none)."""
        last = self.header.rsplit(self.sep.encode(), 1)[-1].strip()
        quote = b'"' if last.startswith(b'"') else b""
        sep = self.sep.encode()
        return self.header + b"".join(sep + quote + c.encode() + quote for c in columns)


def open_wines(
    source: Union[Path, BinaryIO], color: Optional[str] = None, require_target: bool = False
) -> WineInput:
    """Open a wine CSV (a path, or a binary stream such as stdin) and check its header.

    Example: `with open_wines(Path("wines.csv"), color="red") as wines: ...`
    """
    path, identity = None, None
    if isinstance(source, Path):
        name, path, owned = str(source), source, True
        handle, identity = _open_path(source)
    else:
        name, handle, owned = STDIN_NAME, source, False
    try:
        raw = handle.readline(HEADER_LIMIT)  # /dev/zero has no end of line
        header = raw.rstrip(b"\r\n")
        text = header.decode("utf-8", errors="replace")
        sep = separator_of(text, name)
        columns = next(csv.reader([text], delimiter=sep, skipinitialspace=True))
        column_mapping(name, columns, color, require_target)
    except BaseException:
        if owned:
            handle.close()
        raise
    return WineInput(name, handle, header, len(raw), sep, owned, path, identity)


def _open_path(source: Path) -> tuple[BinaryIO, Optional[tuple[int, int, int]]]:
    """The file opened for reading, and its identity if it is a regular file; a DataError
    that says what the path really is when it cannot be read as wines."""
    name = str(source)
    try:
        info = source.stat()
    except FileNotFoundError:
        raise DataError(f"{name} does not exist; give the path of a CSV of wines") from None
    except PermissionError:
        raise DataError(
            f"cannot reach {name}: permission denied on a folder of its path; check the "
            "folders' permissions"
        ) from None
    except OSError as exc:
        raise DataError(f"cannot read {name}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError(f"{name} is a folder, not a file; give the path of a CSV of wines in it")
    if not (
        stat.S_ISREG(info.st_mode) or stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode)
    ):
        raise DataError(f"{name} is neither a file nor a pipe; give the path of a CSV of wines")
    try:
        handle: BinaryIO = open(source, "rb")
    except PermissionError:
        raise DataError(
            f"cannot read {name}: permission denied; ask its owner, or check `ls -l {name}`"
        ) from None
    except FileNotFoundError:
        raise DataError(f"{name} vanished before it could be read; give it again") from None
    except OSError as exc:
        raise DataError(f"cannot read {name}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        return handle, None  # a named pipe or /dev/stdin: read as the stream it is
    # the path's identity as stat sees it, so the check at the end compares like with like
    return handle, (info.st_dev, info.st_ino, os.fstat(handle.fileno()).st_size)
