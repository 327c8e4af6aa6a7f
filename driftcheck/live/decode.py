"""Response bodies, decoded within a size limit while they stream in.

httpx's own decoders inflate each network chunk whole (a 64 KiB gzip chunk can become 64 MiB,
and ``Content-Encoding: gzip, gzip`` multiplies that), so driftcheck reads the raw stream and
inflates it here, never more than ``_STEP`` bytes at a time: a compression bomb is refused once
the *decoded* size passes the limit, and never held in memory.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence

# A list page of 10,000 deployments is ~20 MB; nothing driftcheck asks for comes near this.
MAX_BODY_BYTES = 64 * 1024 * 1024
# The encodings decoded here; a server must not use another one (HTTP content negotiation).
ACCEPT_ENCODING = "gzip, deflate, br"
_STEP = 64 * 1024
_MAX_ENCODINGS = 3
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class BodyError(Exception):
    """The body cannot be read: too large once decoded, or not decodable."""


class _Inflate:
    """One zlib stage (gzip or deflate), giving at most ``_STEP`` bytes per piece."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._wbits = _WBITS[name]
        self._obj = zlib.decompressobj(self._wbits)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            try:
                out = self._obj.decompress(data, _STEP)
            except zlib.error:
                if self.name == "deflate" and not self._started and self._wbits > 0:
                    # Some servers send raw deflate without the zlib wrapper (httpx does this too).
                    self._wbits = -zlib.MAX_WBITS
                    self._obj = zlib.decompressobj(self._wbits)
                    continue
                raise BodyError(f"the {self.name} body could not be decoded") from None
            self._started = True
            if out:
                yield out
            if self._obj.eof:
                data = self._obj.unused_data
                if not data or self._wbits < 16:
                    return  # deflate ends once; bytes after it are ignored, as httpx does
                # a gzip body may hold several members, each decoded in turn
                self._obj = zlib.decompressobj(self._wbits)
                continue
            data = self._obj.unconsumed_tail
            if not data and len(out) < _STEP:
                return

    def flush(self) -> Iterator[bytes]:
        yield from self.feed(b"")


class _Brotli:
    """One br stage. brotli's ``output_buffer_limit`` (1.2+) bounds each piece the same way
    ``max_length`` does for zlib, so a br bomb never inflates whole either."""

    name = "br"

    def __init__(self) -> None:
        import brotli

        self._error = brotli.error
        self._obj = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self._obj.process(data, output_buffer_limit=_STEP)
            while True:
                if out:
                    yield out
                if self._obj.can_accept_more_data():
                    return
                if not out:  # holding output back yet giving none: never loop on it
                    raise BodyError("the br body could not be decoded")
                out = self._obj.process(b"", output_buffer_limit=_STEP)
        except self._error:
            raise BodyError("the br body could not be decoded") from None

    def flush(self) -> Iterator[bytes]:
        # output the decoder still holds comes out only when asked with no more input
        while not self._obj.is_finished():
            try:
                out = self._obj.process(b"", output_buffer_limit=_STEP)
            except self._error:
                raise BodyError("the br body could not be decoded") from None
            if not out:
                raise BodyError("the br body is truncated")
            yield out


_Stage = _Inflate | _Brotli


def _chain(stages: Sequence[_Stage], data: bytes) -> Iterator[bytes]:
    if not stages:
        if data:
            yield data
        return
    first, rest = stages[0], stages[1:]
    for piece in first.feed(data):
        yield from _chain(rest, piece)


def _flush(stages: Sequence[_Stage]) -> Iterator[bytes]:
    for index, stage in enumerate(stages):
        for piece in stage.flush():
            yield from _chain(stages[index + 1 :], piece)


def _stages(content_encoding: Iterable[str]) -> list[_Stage]:
    names = [
        token.strip().lower()
        for header in content_encoding
        for token in header.split(",")
        if token.strip().lower() not in ("", "identity")
    ]
    if len(names) > _MAX_ENCODINGS:
        raise BodyError(f"the body is encoded {len(names)} times over")
    for name in names:
        if name not in _WBITS and name != "br":
            raise BodyError(
                f"the body uses content-encoding {name!r}, which was not asked for "
                f"(driftcheck accepts {ACCEPT_ENCODING})"
            )
    # the encoding applied last is listed last, and is undone first
    return [_Brotli() if name == "br" else _Inflate(name) for name in reversed(names)]


async def read_limited(
    raw: AsyncIterator[bytes], content_encoding: Iterable[str], limit: int = MAX_BODY_BYTES
) -> bytes:
    """The decoded body from the ``raw`` byte stream; :class:`BodyError` once more than
    ``limit`` bytes came in or would come out."""
    stages = _stages(content_encoding)
    parts: list[bytes] = []
    received = size = 0

    def take(pieces: Iterator[bytes]) -> None:
        nonlocal size
        for piece in pieces:
            size += len(piece)
            if size > limit:
                raise BodyError(f"the body is larger than {_mib(limit)} once decoded")
            parts.append(piece)

    async for chunk in raw:
        received += len(chunk)
        if received > limit:
            raise BodyError(f"the body is larger than {_mib(limit)}")
        take(_chain(stages, chunk))
    take(_flush(stages))
    return b"".join(parts)


def _mib(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"
