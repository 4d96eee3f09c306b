"""Where a wine file's bytes come from and go to: a local file, standard input, an
http(s):// or s3:// address; compressed (gzip, bz2, xz, zstd) or not.

Standard library only at import: the compressors, s3fs and urllib load when a file needs
them. A source is read once, front to back, so a file of any size streams; formats that
need to jump about (Parquet, Excel) ask for `local_file()`, which is the file itself or,
for a stream, a temporary copy on disk (never in memory).
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Optional, Union

from winequality.errors import DataError, UsageError, first_line
from winequality.io.atomic import OutputError, atomic_file, why_not_written

STDIN_NAME = "<stdin>"

COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd"}
"""File-name suffix → compression; reading goes by the bytes, writing by the name."""
_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
}

S3Opener = Callable[[str], Any]  # an fsspec filesystem for the address
"""s3://bucket/key → an fsspec filesystem holding the credentials to reach it."""


def is_remote(location: str) -> bool:
    return location.startswith(("s3://", "http://", "https://"))


def split_compression(name: str) -> tuple[str, Optional[str]]:
    """`wines.csv.gz` → (`wines.csv`, "gzip"); a name without such a suffix is unchanged."""
    lowered = name.lower()
    for suffix, kind in COMPRESSIONS.items():
        if lowered.endswith(suffix):
            return name[: -len(suffix)], kind
    return name, None


class _Prefixed(io.RawIOBase):
    """A stream whose first bytes were already read to look at: they are served again."""

    def __init__(self, head: bytes, rest: Union[BinaryIO, io.RawIOBase]):
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), len(self.head))
        buffer[:n] = self.head[:n]
        self.head = self.head[n:]
        if n < len(buffer):  # the rest of the buffer from the stream, so peek sees far enough
            data = self.rest.read(len(buffer) - n)
            buffer[n : n + len(data)] = data
            n += len(data)
        return n

    def close(self) -> None:
        super().close()
        self.rest.close()


class _Counted(io.RawIOBase):
    """A raw stream that counts the bytes read through it (for progress, and to tell a cut
    download), and turns a failed read (a lost connection, a disk error) into one line."""

    def __init__(self, raw: BinaryIO, close_raw: bool, name: str):
        self.raw, self.count, self.close_raw, self.name = raw, 0, close_raw, name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self.raw.read(len(buffer))
        except Exception as exc:  # OSError, and botocore's and aiohttp's own kinds
            reason = getattr(exc, "strerror", None) or str(exc).strip() or type(exc).__name__
            raise DataError(
                f"cannot read {self.name}: {first_line(reason)}; its predictions are not "
                "kept — try again"
            ) from None
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)

    def close(self) -> None:
        super().close()
        if self.close_raw:
            self.raw.close()


def _decompression_errors() -> tuple[type[BaseException], ...]:
    import lzma
    import zlib

    errors: list[type[BaseException]] = [OSError, EOFError, zlib.error, lzma.LZMAError]
    try:
        import zstandard

        errors.append(zstandard.ZstdError)
    except ImportError:
        pass
    return tuple(errors)


class _Guarded:
    """A decompressing stream whose damage (a cut or corrupt file) is one DataError line."""

    def __init__(self, stream, name: str, kind: str):
        self.stream, self.name, self.kind = stream, name, kind
        self.errors = _decompression_errors()

    def _call(self, method, *args):
        try:
            return method(*args)
        except self.errors as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise DataError(
                f"{self.name}: its {self.kind} data is damaged or cut short ({reason}); "
                "fetch an intact copy (compare its checksum with the sender's)"
            ) from None

    def read(self, size: int = -1) -> bytes:
        return self._call(self.stream.read, size)

    def readline(self, size: int = -1) -> bytes:
        return self._call(self.stream.readline, size)

    def readlines(self, hint: int = -1) -> list[bytes]:
        return self._call(self.stream.readlines, hint)

    def peek(self, size: int = 0) -> bytes:
        return self._call(self.stream.peek, size)

    def close(self) -> None:
        self.stream.close()


def _decompressed(raw: BinaryIO, kind: str, name: str):
    stream: io.BufferedIOBase
    if kind == "gzip":
        import gzip

        stream = gzip.GzipFile(fileobj=raw, mode="rb")
    elif kind == "bz2":
        import bz2

        stream = bz2.BZ2File(raw, "rb")
    elif kind == "xz":
        import lzma

        stream = lzma.LZMAFile(raw, "rb")
    else:
        try:
            import zstandard
        except ImportError:
            raise DataError(
                f"{name} is zstd-compressed and the zstandard package is missing; "
                "`pip install zstandard`, or decompress it first (`unzstd`)"
            ) from None
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        stream = io.BufferedReader(reader, buffer_size=1 << 20)
    return _Guarded(stream, name, kind)


@dataclass
class Source:
    """The bytes of one input, decompressed, and what is known of where they came from."""

    name: str
    """How messages name it: the path, the address, or <stdin>."""
    handle: Any
    """A binary stream of the (decompressed) content: read, readline, readlines, peek."""
    compression: Optional[str] = None
    size: Optional[int] = None
    """Bytes as stored (compressed), when known: what progress counts towards."""
    path: Optional[Path] = None
    """A local regular file's path (uncompressed or not)."""
    identity: Optional[tuple[int, int, int]] = None
    """(device, inode, size) of a local regular file when it was opened, to tell if it changes."""
    _counter: Optional[_Counted] = None
    _closers: list = field(default_factory=list)
    _spooled: Optional[Path] = None

    @property
    def position(self) -> Optional[int]:
        """Bytes of the stored file read so far (None when it cannot be told)."""
        return self._counter.count if self._counter is not None else None

    def head(self, size: int = 8) -> bytes:
        """The first bytes of the content, left in place for the reader."""
        return self.handle.peek(size)[:size]

    def local_file(self) -> Path:
        """A path holding the content, for formats read by jumping about (Parquet, Excel):
        the file itself when it is local and plain, else a temporary copy on disk."""
        if self.path is not None and self.compression is None:
            return self.path
        if self._spooled is None:
            fd, tmp = tempfile.mkstemp(prefix="wineq-input-")
            self._spooled = Path(tmp)
            try:
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(self.handle, out, 1 << 20)
            except OSError as exc:  # reading fails as a DataError; this is the copy's disk
                raise DataError(
                    f"{self.name}: cannot keep a temporary copy in {tempfile.gettempdir()}: "
                    f"{why_not_written(exc)} (set TMPDIR)"
                ) from exc
            self.ensure_unchanged()
        return self._spooled

    def on_close(self, close) -> None:
        """Call `close` when this source closes (a handle opened on its content)."""
        self._closers.append(close)

    def ensure_unchanged(self) -> None:
        """A DataError when the content changed since it was opened (cut short, replaced...)."""
        change = self.changed_while_read()
        if change:
            raise DataError(
                f"{self.name} {change} while it was being read; its predictions are not "
                "kept — give it again once it is complete"
            )

    def changed_while_read(self) -> Optional[str]:
        """How the file changed since it was opened ('was deleted', ...), or None. Asked
        once the content has been read to its end."""
        if self.path is None and self.size is not None and self._counter is not None:
            if self._counter.count < self.size:  # a download that ended early
                return f"arrived cut short ({self._counter.count:,} of {self.size:,} bytes)"
        if self.identity is None or self.path is None:
            return None  # a stream or a pipe: nothing to compare with
        device, inode, size = self.identity
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return "was deleted"
        except OSError as exc:
            return f"could no longer be reached ({exc.strerror})"
        if (now.st_dev, now.st_ino) != (device, inode):
            return "was replaced by another file"
        if now.st_size < size:
            return f"shrank from {size:,} to {now.st_size:,} bytes"
        return None

    def close(self) -> None:
        for close in reversed(self._closers):
            close()
        self._closers.clear()
        if self._spooled is not None:
            self._spooled.unlink(missing_ok=True)
            self._spooled = None


def open_source(location: Union[str, Path, BinaryIO], *, s3: Optional[S3Opener] = None) -> Source:
    """Open a wine file's bytes: a local path, an s3:// or http(s):// address, or a binary
    stream (standard input, left open). Compressed bytes are decompressed, whatever the
    name says.

    Example: `source = open_source("s3://bucket/wines.csv.gz", s3=store.bucket_filesystem)`
    """
    path, identity, size = None, None, None
    if isinstance(location, Path):
        name, path = str(location), location
        raw, identity = _open_path(location)
        size = identity[2] if identity else None
    elif isinstance(location, str) and location.startswith("s3://"):
        name = location
        raw, size = _open_s3(location, s3)
    elif isinstance(location, str) and location.startswith(("http://", "https://")):
        name = location
        raw, size = _open_http(location)
    elif isinstance(location, str):
        return open_source(Path(location), s3=s3)
    else:
        name, raw = STDIN_NAME, location
    counter = _Counted(raw, close_raw=name != STDIN_NAME, name=name)
    try:
        magic = _read_some(counter, 6)
    except OSError as exc:
        counter.close()
        raise DataError(f"cannot read {name}: {exc.strerror or exc}") from None
    stored = io.BufferedReader(_Prefixed(magic, counter), buffer_size=1 << 16)
    kind = next((k for m, k in _MAGIC.items() if magic.startswith(m)), None)
    handle = _decompressed(stored, kind, name) if kind else stored
    source = Source(name, handle, kind, size, path, identity, counter)
    # a decompressor leaves the stream it reads open: both are closed, outermost first
    source._closers.extend([stored.close, handle.close] if kind else [stored.close])
    return source


def _read_some(stream, size: int) -> bytes:
    """Up to `size` bytes: a pipe may hand them over in pieces."""
    data = b""
    while len(data) < size:
        piece = stream.read(size - len(data))
        if not piece:
            break
        data += piece
    return data


def _open_path(source: Path) -> tuple[BinaryIO, Optional[tuple[int, int, int]]]:
    """The file opened for reading, and its identity if it is a regular file; a DataError
    that says what the path really is when it cannot be read as wines."""
    name = str(source)
    try:
        info = source.stat()
    except FileNotFoundError:
        raise DataError(f"{name} does not exist; give the path of a file of wines") from None
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
        handle: BinaryIO = open(source, "rb", buffering=0)
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


def _open_http(url: str) -> tuple[BinaryIO, Optional[int]]:
    import urllib.error
    import urllib.request

    try:
        response = urllib.request.urlopen(url, timeout=60)
    except urllib.error.HTTPError as exc:
        raise DataError(
            f"cannot download {url}: the server answered {exc.code} {exc.reason}; check the address"
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataError(
            f"cannot download {url}: {reason}; check the address and that the server is up"
        ) from None
    length = response.headers.get("Content-Length")
    return response, int(length) if length and length.isdigit() else None


def _s3_problem(url: str, exc: BaseException) -> DataError:
    text = str(exc)
    if isinstance(exc, FileNotFoundError):
        return DataError(f"{url} does not exist; check the bucket and key (`aws s3 ls {url}`)")
    if isinstance(exc, PermissionError) or "AccessDenied" in text or "Forbidden" in text:
        return DataError(
            f"cannot read {url}: access denied; check the credentials of the project's DVC S3 "
            "remote (`dvc remote modify --local ...`) or AWS_ACCESS_KEY_ID/AWS_PROFILE"
        )
    first = first_line(text, fallback=type(exc).__name__)
    return DataError(f"cannot read {url}: {first}; check the address, endpoint and credentials")


def _open_s3(url: str, s3: Optional[S3Opener]) -> tuple[BinaryIO, Optional[int]]:
    if s3 is None:
        raise UsageError(f"{url}: s3:// addresses need the project's settings; run it in a project")
    filesystem = s3(url)
    try:
        info = filesystem.info(url)
        if info.get("type") == "directory":
            raise DataError(f"{url} is a folder of objects, not one; give the key of a file")
        return filesystem.open(url, "rb", block_size=8 << 20), info.get("size")
    except DataError:
        raise
    except Exception as exc:  # botocore and aiohttp raise many kinds; each becomes one line
        raise _s3_problem(url, exc) from None


# ---------------------------------------------------------------- where output goes


@contextmanager
def open_sink(target: Union[str, Path], *, s3: Optional[S3Opener] = None) -> Iterator[BinaryIO]:
    """A binary handle whose bytes become `target` (a path or an s3:// address) only when
    the block ends without error; on an error nothing is left, and an older file stays.

    A name ending in .gz, .bz2, .xz or .zst is written compressed, as it streams.
    """
    name = str(target)
    _, kind = split_compression(name)
    if isinstance(target, str) and target.startswith("s3://"):
        stored = _s3_sink(target, s3)
    elif isinstance(target, str) and is_remote(target):
        raise UsageError(f"--output {target}: write to a file or an s3:// address, not the web")
    else:
        stored = atomic_file(Path(target))
    with stored as handle:
        if kind is None:
            yield handle
            return
        compressor = _compressor(handle, kind)
        try:
            yield compressor
        finally:
            # the compressor's trailer is written on close; on error the file is dropped anyway
            try:
                compressor.close()
            except OSError as exc:
                raise OutputError(f"cannot write {name}: {why_not_written(exc)}") from exc


def _compressor(handle: BinaryIO, kind: str):
    if kind == "gzip":
        import gzip

        # level 6, as the gzip command: level 9 takes three times as long for 1% less
        return gzip.GzipFile(fileobj=handle, mode="wb", compresslevel=6, mtime=0)
    if kind == "bz2":
        import bz2

        return bz2.BZ2File(handle, "wb")
    if kind == "xz":
        import lzma

        # preset 1: the xz command's default 6 writes several times slower for little gain
        return lzma.LZMAFile(handle, "wb", preset=1)
    import zstandard

    return zstandard.ZstdCompressor(level=3).stream_writer(handle, closefd=False)


@contextmanager
def _s3_sink(url: str, s3: Optional[S3Opener]) -> Iterator[Any]:
    """An S3 object written in parts; it appears only when complete (S3's multipart upload
    is atomic), and an interrupted upload is aborted."""
    if s3 is None:
        raise UsageError(f"{url}: s3:// addresses need the project's settings; run it in a project")
    filesystem = s3(url)
    try:
        handle = filesystem.open(url, "wb", block_size=16 << 20)
    except Exception as exc:
        raise _s3_write_problem(url, exc) from None
    try:
        yield _UploadGuard(handle, url)
    except BaseException:
        try:
            handle.discard()  # aborts the multipart upload: no object, no half of one
        except Exception:  # the connection that failed the upload may fail this too
            pass
        handle.closed = True  # and nothing is flushed when it is collected
        raise
    try:
        handle.close()
    except Exception as exc:
        raise _s3_write_problem(url, exc) from None


def _s3_write_problem(url: str, exc: BaseException) -> OutputError:
    return OutputError(str(_s3_problem(url, exc)).replace("cannot read", "cannot write"))


class _UploadGuard:
    """An S3 upload whose failures while parts are sent (a lost connection, a denied
    write) are one line, as a full disk is for a local file."""

    def __init__(self, handle, url: str):
        self._handle, self._url = handle, url

    def write(self, data) -> int:
        try:
            return self._handle.write(data)
        except Exception as exc:
            raise _s3_write_problem(self._url, exc) from None

    def flush(self) -> None:
        try:
            self._handle.flush()
        except Exception as exc:
            raise _s3_write_problem(self._url, exc) from None

    def __getattr__(self, name):
        return getattr(self._handle, name)
