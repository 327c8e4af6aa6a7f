"""A lean httpx transport: one HTTP/1.1 keep-alive connection over asyncio streams, parsed by h11.

httpx's default transport (httpcore on anyio) spends most of a small GET's CPU on its own
machinery: pool bookkeeping, anyio checkpoints and socket probes (benchmarks/README.md). A
drift check makes thousands of identical small GETs, each worker on its own connection, so it
needs none of that. This transport plugs into ``httpx.AsyncClient(transport=...)``, keeping
httpx's requests, responses, timeouts and exception types, and h11 (httpcore's own parser)
for HTTP/1.1 framing. Proxies are not spoken here: ``fetch`` uses httpx's own transport when
the environment configures one.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import sys
from collections.abc import Coroutine
from typing import Any

import h11
import httpx

_READ_SIZE = 64 * 1024
# A list page of 10,000 deployments is ~20 MB; nothing driftcheck asks for comes near this.
MAX_RESPONSE_BYTES = 256 * 1024 * 1024


async def _within(operation: Coroutine[Any, Any, bytes], seconds: float | None) -> bytes:
    """``operation`` with a deadline. ``asyncio.timeout`` (3.11+) cancels in place;
    ``wait_for`` wraps every read in a new task, a cost paid on each response."""
    if seconds is None:
        return await operation
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await operation
    return await asyncio.wait_for(operation, seconds)  # pragma: no cover - Python 3.10


class StreamTransport(httpx.AsyncBaseTransport):
    """Serves one request at a time on one reusable connection (a worker's connection)."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl_context = ssl_context
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._h11: h11.Connection | None = None
        self._origin: tuple[str, str, int] | None = None
        self._lock = asyncio.Lock()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        url = request.url
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        async with self._lock:
            if not self._usable(origin):
                await self._close()
                await self._connect(origin, timeouts.get("connect"))
            try:
                return await self._exchange(request, timeouts)
            except BaseException:
                await self._close()
                raise

    def _usable(self, origin: tuple[str, str, int]) -> bool:
        """An open connection to ``origin`` the server has not closed while it sat idle.

        A failure after the request went out is never retried here: only the caller's retry
        policy decides, so every attempt it counts is one request the server saw.
        """
        return (
            self._writer is not None
            and self._reader is not None
            and self._origin == origin
            and not self._writer.is_closing()
            and not self._reader.at_eof()
        )

    async def _connect(self, origin: tuple[str, str, int], timeout: float | None) -> None:
        scheme, host, port = origin
        context = self._ssl_context if scheme == "https" else None
        if scheme == "https" and context is None:
            context = ssl.create_default_context()
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(
                    host, port, ssl=context, server_hostname=host if context else None
                ),
                timeout,
            )
        except asyncio.TimeoutError:
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out") from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from None
        self._h11 = h11.Connection(h11.CLIENT)
        self._origin = origin

    async def _exchange(self, request: httpx.Request, timeouts: dict[str, Any]) -> httpx.Response:
        assert self._reader is not None and self._writer is not None and self._h11 is not None
        conn, reader, writer = self._h11, self._reader, self._writer
        try:
            head = h11.Request(
                method=request.method,
                target=request.url.raw_path,
                headers=list(request.headers.raw),
            )
            body = request.content
            data = conn.send(head) or b""
            if body:
                data += conn.send(h11.Data(data=body)) or b""
            data += conn.send(h11.EndOfMessage()) or b""
        except h11.LocalProtocolError as exc:
            raise httpx.LocalProtocolError(str(exc), request=request) from None
        try:
            writer.write(data)
            if writer.transport.get_write_buffer_size():  # a GET's few hundred bytes never wait
                await asyncio.wait_for(writer.drain(), timeouts.get("write"))
        except asyncio.TimeoutError:
            raise httpx.WriteTimeout("writing the request timed out", request=request) from None
        except OSError as exc:
            raise httpx.WriteError(str(exc), request=request) from None

        status, reason, headers, chunks = 0, b"", [], []
        size = 0
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc), request=request) from None
            if event is h11.NEED_DATA:
                try:
                    chunk = await _within(reader.read(_READ_SIZE), timeouts.get("read"))
                except asyncio.TimeoutError:
                    raise httpx.ReadTimeout(
                        "reading the response timed out", request=request
                    ) from None
                except OSError as exc:
                    raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from None
                conn.receive_data(chunk)
            elif isinstance(event, h11.InformationalResponse):
                continue
            elif isinstance(event, h11.Response):
                status, reason, headers = event.status_code, event.reason, list(event.headers)
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > MAX_RESPONSE_BYTES:
                    raise httpx.RemoteProtocolError(
                        f"response larger than {MAX_RESPONSE_BYTES} bytes", request=request
                    )
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a response.", request=request
                )
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
        else:
            await self._close()
        return httpx.Response(
            status,
            headers=headers,
            stream=httpx.ByteStream(b"".join(chunks)),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )

    async def _close(self) -> None:
        writer, self._writer, self._reader, self._h11 = self._writer, None, None, None
        self._origin = None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()

    async def aclose(self) -> None:
        await self._close()
