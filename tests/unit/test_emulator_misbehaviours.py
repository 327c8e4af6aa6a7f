"""The emulator's hostile-server knobs (issue #16), checked with a plain httpx client."""

from __future__ import annotations

import gzip
import json
import socket
import zlib
from collections.abc import Iterator

import httpx
import pytest

from tests.emulator import Emulator, Reply, deflate_bomb, gzip_bomb, make_deployment

PATH = "/v4/models/mi_1/deployments/dep_1"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator([make_deployment("mi_1", "dep_1"), make_deployment("mi_1", "dep_2")]) as e:
        yield e
    assert e.errors == []


def test_encoding_compresses_the_stored_body_in_the_listed_order(emu: Emulator) -> None:
    emu.script("mi_1", "dep_1", Reply(encoding="gzip, deflate"))
    with httpx.stream("GET", emu.url + PATH) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip, deflate"
    # applied gzip first, then deflate: undone in reverse
    assert json.loads(gzip.decompress(zlib.decompress(raw))) == emu.get("mi_1", "dep_1")


def test_bombs_inflate_to_the_size_asked_for() -> None:
    assert len(gzip.decompress(gzip_bomb(3 * 2**20 + 5))) == 3 * 2**20 + 5
    assert len(zlib.decompress(deflate_bomb(2**20 + 7))) == 2**20 + 7
    assert len(gzip_bomb(100 * 2**20)) < 200_000


def test_drop_closes_without_a_byte(emu: Emulator) -> None:
    emu.script("mi_1", "dep_1", Reply(drop=True))
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        httpx.get(emu.url + PATH)


def test_close_after_ends_kept_alive_connections_unannounced() -> None:
    with Emulator([make_deployment("mi_1", "dep_1")], close_after=1) as emu:
        host, port = emu.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(f"GET {PATH} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            received = b""
            while chunk := sock.recv(65536):  # ends only because the server closes
                received += chunk
        head = received.split(b"\r\n\r\n", 1)[0].lower()
        assert head.startswith(b"http/1.1 200") and b"connection: keep-alive" in head


def test_echo_key_quotes_the_key_in_error_bodies() -> None:
    with Emulator(api_key="right-key-123", echo_key=True) as emu:
        response = httpx.get(emu.url + PATH, headers={"x-api-key": "wrong-key-456"})
        assert response.status_code == 401
        assert "wrong-key-456" in response.json()["detail"]


def test_unlist_hides_from_pages_not_from_gets(emu: Emulator) -> None:
    emu.unlist("mi_1", "dep_2")
    page = httpx.get(emu.url + "/v4/models/mi_1/deployments").json()
    assert [item["id"] for item in page["items"]] == ["dep_1"]
    assert page["total_item_count"] == 1
    assert httpx.get(emu.url + "/v4/models/mi_1/deployments/dep_2").status_code == 200


def test_start_times_are_monotonic_and_sorted(emu: Emulator) -> None:
    with httpx.Client() as c:
        for _ in range(3):
            c.get(emu.url + PATH)
    times = emu.start_times()
    assert len(times) == 3 and times == sorted(times)


def test_raw_sends_exactly_those_bytes_then_closes(emu: Emulator) -> None:
    emu.script("mi_1", "dep_1", Reply(raw=b"SSH-2.0-OpenSSH_9.6\r\n\r\n"))
    host, port = emu.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"GET {PATH} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        received = b""
        while chunk := sock.recv(65536):  # ends only because the server closes
            received += chunk
    assert received == b"SSH-2.0-OpenSSH_9.6\r\n\r\n"
