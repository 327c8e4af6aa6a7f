"""The lean HTTP/1.1 transport against the real loopback emulator (plain and TLS)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

from driftcheck.transport import StreamTransport
from tests.emulator import Emulator, Reply, make_deployment

PATH = "/v4/models/mi/deployments/dep"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator([make_deployment("mi", "dep")]) as emu:
        yield emu


def get_all(url: str, count: int, **client: object) -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(**client) as http:  # type: ignore[arg-type]
            return [await http.get(url + PATH) for _ in range(count)]

    return asyncio.run(run())


def test_requests_reuse_one_keep_alive_connection(emulator: Emulator) -> None:
    responses = get_all(emulator.url, 3, transport=StreamTransport())
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert responses[0].json()["id"] == "dep"
    assert len({r.connection_id for r in emulator.requests}) == 1


def test_connection_close_opens_a_new_connection(emulator: Emulator) -> None:
    emulator.script("mi", "dep", Reply(headers={"connection": "close"}))
    responses = get_all(emulator.url, 2, transport=StreamTransport())
    assert [r.status_code for r in responses] == [200, 200]
    assert len({r.connection_id for r in emulator.requests}) == 2


def test_each_failed_attempt_is_one_request_the_server_saw(emulator: Emulator) -> None:
    """No hidden retry: a reset after the request arrived surfaces as an error."""
    emulator.script("mi", "dep", Reply(), Reply(reset=True))

    async def run() -> type[BaseException] | None:
        async with httpx.AsyncClient(transport=StreamTransport()) as http:
            await http.get(emulator.url + PATH)
            try:
                await http.get(emulator.url + PATH)
            except httpx.TransportError as exc:
                return type(exc)
            return None

    assert asyncio.run(run()) is httpx.ReadError
    assert len(emulator.requests) == 2


def test_truncated_body_is_a_remote_protocol_error(emulator: Emulator) -> None:
    emulator.script("mi", "dep", Reply(truncate=True))
    with pytest.raises(httpx.RemoteProtocolError, match="message body"):
        get_all(emulator.url, 1, transport=StreamTransport())


def test_read_timeout(emulator: Emulator) -> None:
    emulator.script("mi", "dep", Reply(delay=5))
    with pytest.raises(httpx.ReadTimeout):
        get_all(emulator.url, 1, transport=StreamTransport(), timeout=0.2)


def test_connect_error() -> None:
    with pytest.raises(httpx.ConnectError):
        get_all("http://127.0.0.1:9", 1, transport=StreamTransport())


def test_tls_with_a_private_ca(tmp_path: Path) -> None:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    with Emulator([make_deployment("mi", "dep")], ssl_context=server) as emu:
        assert emu.url.startswith("https://")
        client = ssl.create_default_context()
        ca.configure_trust(client)
        responses = get_all(emu.url, 2, transport=StreamTransport(client))
        assert [r.status_code for r in responses] == [200, 200]
        with pytest.raises(httpx.ConnectError):  # the system CAs do not know this one
            get_all(emu.url, 1, transport=StreamTransport())


def test_an_oversized_response_is_refused(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import driftcheck.transport

    monkeypatch.setattr(driftcheck.transport, "MAX_RESPONSE_BYTES", 100)
    with pytest.raises(httpx.RemoteProtocolError, match="larger than 100 bytes"):
        get_all(emulator.url, 1, transport=StreamTransport())
