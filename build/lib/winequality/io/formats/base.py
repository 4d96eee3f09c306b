"""What every format's reader shares."""

from __future__ import annotations


class OpenFile:
    """A reader holding open resources (`closing`, closed in order): a context manager."""

    closing: tuple = ()

    def close(self) -> None:
        for resource in self.closing:
            resource.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
