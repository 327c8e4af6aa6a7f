"""Concurrency: a bounded pool of keep-alive connections, and a bounded job runner."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from driftcheck.live.records import Progress

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


def proxy_configured() -> bool:
    names = ("https_proxy", "http_proxy", "all_proxy")
    return any(os.environ.get(name) or os.environ.get(name.upper()) for name in names)


class ClientPool:
    """Up to ``size`` keep-alive connections, one per httpx client, behind one ``get``.

    httpcore's pool walks every connection (probing each idle socket) twice per request: at 32
    connections that cost 3-6 ms of CPU per request, more than the request itself (see
    benchmarks/README.md). One connection per client keeps that walk O(1). A request takes a
    connection with nothing in flight, so there are still at most ``size`` connections, each
    reused, with the same headers, timeouts and TLS settings.
    """

    def __init__(self, make: Callable[[], Any], size: int) -> None:
        self._make = make
        self._size = max(1, size)
        self._clients: list[Any] = []
        self._load: list[int] = []

    async def get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        index = min(range(len(self._load)), key=self._load.__getitem__, default=-1)
        if index < 0 or (self._load[index] and len(self._clients) < self._size):
            self._clients.append(self._make())
            self._load.append(0)
            index = len(self._clients) - 1
        self._load[index] += 1
        try:
            return await self._clients[index].get(url, params=params)
        finally:
            self._load[index] -= 1

    async def __aenter__(self) -> ClientPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients))
