"""Bounded decoding of response bodies: every piece small, the total capped once decoded."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator

import brotli
import pytest

from driftcheck.live.decode import BodyError, read_limited


async def chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def read(data: bytes, encoding: list[str], limit: int = 1 << 20) -> bytes:
    return asyncio.run(read_limited(chunks(data), encoding, limit))


PAYLOAD = b'{"id": "dep_1", "items": [' + b'"x",' * 5000 + b'"y"]}'


@pytest.mark.parametrize(
    ("encoded", "header"),
    [
        (PAYLOAD, []),
        (PAYLOAD, ["identity"]),
        (gzip.compress(PAYLOAD), ["gzip"]),
        (gzip.compress(PAYLOAD), ["x-gzip"]),
        (zlib.compress(PAYLOAD), ["deflate"]),
        (gzip.compress(zlib.compress(PAYLOAD)), ["deflate, gzip"]),
        (gzip.compress(zlib.compress(PAYLOAD)), ["deflate", "gzip"]),
        (gzip.compress(PAYLOAD[:100]) + gzip.compress(PAYLOAD[100:]), ["gzip"]),
        (brotli.compress(PAYLOAD), ["br"]),
        (brotli.compress(gzip.compress(PAYLOAD)), ["gzip, br"]),
    ],
)
def test_decodes_what_it_accepts(encoded: bytes, header: list[str]) -> None:
    assert read(encoded, header) == PAYLOAD


def test_cap_counts_decoded_bytes() -> None:
    assert read(gzip.compress(bytes(1000)), ["gzip"], limit=1000) == bytes(1000)
    with pytest.raises(BodyError, match="larger than 1000 bytes once decoded"):
        read(gzip.compress(bytes(1001)), ["gzip"], limit=1000)


def test_cap_counts_raw_bytes_too() -> None:
    with pytest.raises(BodyError, match="larger than 1000 bytes"):
        read(bytes(1001), [], limit=1000)


def test_br_bomb_is_refused_at_the_decoded_cap() -> None:
    bomb = brotli.compress(bytes(200 << 20), quality=5)  # 200 MiB in a few hundred bytes
    assert len(bomb) < 2000
    with pytest.raises(BodyError, match="larger than 1 MiB once decoded"):
        read(bomb, ["br"], limit=1 << 20)
    assert read(brotli.compress(bytes(1 << 20)), ["br"], limit=1 << 20) == bytes(1 << 20)


def test_nested_bomb_is_refused_without_inflating_it() -> None:
    inner = gzip.compress(bytes(50 << 20))  # 50 MiB of zeros in ~50 KB
    with pytest.raises(BodyError, match="once decoded"):
        read(gzip.compress(inner), ["gzip, gzip"], limit=1 << 20)


@pytest.mark.parametrize(
    ("encoded", "header", "words"),
    [
        (b"\x00" * 10, ["br"], "the br body could not be decoded"),
        (brotli.compress(PAYLOAD)[:-4], ["br"], "the br body is truncated"),
        (b"\x00" * 10, ["zstd"], "content-encoding 'zstd'"),
        (b"not gzip at all", ["gzip"], "could not be decoded"),
        (PAYLOAD, ["gzip, gzip, gzip, gzip"], "encoded 4 times over"),
    ],
)
def test_undecodable_bodies_are_body_errors(encoded: bytes, header: list[str], words: str) -> None:
    with pytest.raises(BodyError, match=words):
        read(encoded, header)
