"""Concurrency: a bounded pool of keep-alive connections, and a bounded job runner."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from driftcheck.live.pace import Pacer
from driftcheck.live.records import Progress

if TYPE_CHECKING:  # httpx takes ~90 ms to import: only a run that uses the API pays for it
    import httpx

T = TypeVar("T")


async def bounded_map(
    jobs: Sequence[Callable[[], Awaitable[T]]], workers: int, progress: Progress | None = None
) -> list[T]:
    """Run ``jobs`` with at most ``workers`` in flight; results keep the jobs' order."""
    results: list[Any] = [None] * len(jobs)
    next_index = 0
    done = 0

    async def worker() -> None:
        nonlocal next_index, done
        while next_index < len(jobs):
            index = next_index
            next_index += 1
            results[index] = await jobs[index]()
            done += 1
            if progress is not None:
                progress(done, len(jobs))

    await asyncio.gather(*(worker() for _ in range(max(1, workers))))
    return results


class ClientPool:
    """Up to ``size`` keep-alive connections, one per httpx client, behind one ``send``.

    httpcore's pool walks every connection (probing each idle socket) twice per request: at 32
    connections that cost 3-6 ms of CPU per request, more than the request itself (see
    benchmarks/README.md). One connection per client keeps that walk O(1). A request takes a
    connection with nothing in flight, so there are still at most ``size`` connections, each
    reused, with the same headers, timeouts and TLS settings.
    """

    def __init__(self, make: Callable[[], httpx.AsyncClient], size: int, pacer: Pacer) -> None:
        self._make = make
        self._size = max(1, size)
        self._pacer = pacer
        self._clients: list[httpx.AsyncClient] = []
        self._load: list[int] = []
        # whether the client's connection served a response and was kept open since
        self._warm: list[bool] = []

    async def send(
        self,
        url: str,
        params: dict[str, Any] | None,
        read: Callable[[httpx.Response], Awaitable[T]],
        timeout: float,
    ) -> T:
        """GET ``url`` and return what ``read`` makes of the streamed response, all within
        ``timeout`` seconds (connect to last body byte: a server that trickles bytes cannot
        hold a run); waiting for the pacer does not count.

        A kept-alive connection the server closed before answering is reopened once without
        bothering the caller: httpcore notices a close that already arrived, this catches the
        one that races with the request (the server's FIN, or its RST to a request on a socket
        it closed, arrives after httpcore's check). Anything else is the caller's retry
        decision.
        """
        index = min(range(len(self._load)), key=self._load.__getitem__, default=-1)
        if index < 0 or (self._load[index] and len(self._clients) < self._size):
            self._clients.append(self._make())
            self._load.append(0)
            self._warm.append(False)
            index = len(self._clients) - 1
        import httpx

        client = self._clients[index]
        self._load[index] += 1
        try:
            while True:
                reused, self._warm[index] = self._warm[index], False
                answered = False

                async def exchange() -> tuple[T, bool]:
                    nonlocal answered
                    async with client.stream("GET", url, params=params) as response:
                        answered = True
                        connection = response.headers.get("connection", "")
                        return await read(response), "close" not in connection.lower()

                await self._pacer.start()
                try:
                    result, keep = await _within(timeout, exchange())
                except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                    # Closed before any response byte: h11's words for an orderly close, or a
                    # reset (the server's kernel answers a request on a socket it closed with
                    # one). On a fresh connection that is a fault the caller counts.
                    unanswered = not isinstance(exc, httpx.RemoteProtocolError) or (
                        "without sending a response" in str(exc)
                    )
                    if answered or not reused or not unanswered:
                        raise
                    continue
                self._warm[index] = keep
                return result
        finally:
            self._load[index] -= 1

    async def __aenter__(self) -> ClientPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients))


async def _within(seconds: float, operation: Awaitable[T]) -> T:
    """``operation`` under one deadline. ``asyncio.timeout`` (3.11+) cancels in place;
    ``wait_for`` wraps the operation in a task of its own, a cost paid on each request."""
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await operation
    return await asyncio.wait_for(operation, seconds)  # pragma: no cover - Python 3.10
