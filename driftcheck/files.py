"""Reading a user's file within a size bound, in one place: a wrong path (/dev/zero, a log, a
disk image) must fail fast with a clear message instead of hanging or filling memory. Each
caller words the two failures for its own file."""

from __future__ import annotations


class TooLarge(Exception):
    """The file holds more than ``limit`` bytes; only ``limit + 1`` were read, and a truncated
    file is never decoded or parsed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"over {limit} bytes")
        self.limit = limit


def read_bounded(path: str, limit: int) -> bytes:
    """The bytes of ``path``, at most ``limit``; OSError when it cannot be read, TooLarge when
    it holds more."""
    with open(path, "rb") as handle:
        raw = handle.read(limit + 1)
    if len(raw) > limit:
        raise TooLarge(limit)
    return raw
