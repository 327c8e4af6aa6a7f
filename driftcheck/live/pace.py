"""When a request may start: ``--max-rps`` and the shared pause after a 429.

The API also serves production traffic; a drift audit must never be what throttles it. Every
request start (first attempts, retries, redirects, reopened connections) passes here.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

# More than one second: the server sees starts later and unevenly (a new connection's
# handshake, or a busy CI machine, delays one start and not the next), and must still count
# at most N in any second of its own clock. A quarter second of margin costs a rate limit a
# fifth of its throughput; a limit the server sees broken would cost far more.
WINDOW = 1.25


class Pacer:
    """At most ``rate`` request starts in any ``WINDOW`` (no burst beyond it), and none while
    a server-requested pause lasts. One per run, shared by every worker."""

    def __init__(
        self,
        rate: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._rate = rate
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque(maxlen=rate or 1)
        self._paused_until = float("-inf")
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        """Wait until a request may start, and count it as started."""
        if self._rate is None and self._clock() >= self._paused_until:
            return  # the common case costs no lock
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            # a lock belongs to one event loop; a run may collect more than once (--wait)
            self._lock, self._loop = asyncio.Lock(), loop
        async with self._lock:  # starts leave in order: no worker overtakes a waiting one
            while True:
                now = self._clock()
                wait = self._paused_until - now
                if self._rate is not None and len(self._starts) == self._rate:
                    wait = max(wait, self._starts[0] + WINDOW - now)
                if wait <= 0:
                    break
                await self._sleep(wait)
            if self._rate is not None:
                self._starts.append(now)

    def pause(self, seconds: float) -> None:
        """No request starts for ``seconds`` (a 429's retry-after): every worker waits."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
