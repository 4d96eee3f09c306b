"""Where wines come from (io/locations.py): a stream's compression told by its bytes."""

from __future__ import annotations

import gzip
import io

from winequality.io.locations import open_source
from winequality.schema import FEATURES

HEADER = ";".join(f'"{name}"' for name in FEATURES)
ROW = ";".join(["7.4"] * len(FEATURES))


class Trickle(io.RawIOBase):
    """A pipe that hands over one byte at a time."""

    def __init__(self, data: bytes):
        self.data = data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self.data:
            return 0
        buffer[0] = self.data[0]
        self.data = self.data[1:]
        return 1


def test_a_stream_is_told_compressed_by_its_bytes_even_in_small_pieces():
    content = (HEADER + ';"color"\n' + ROW + ";red\n").encode()
    source = open_source(Trickle(gzip.compress(content)))
    assert source.compression == "gzip" and source.handle.read() == content
    plain = open_source(io.BytesIO(content))
    assert plain.compression is None and plain.head(4) == content[:4]
    assert plain.handle.read() == content
