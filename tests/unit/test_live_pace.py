"""The Pacer with a fake clock: --max-rps windows and the shared pause, deterministic."""

from __future__ import annotations

import asyncio

from driftcheck.live.pace import WINDOW, Pacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # let the other workers queue up on the pacer, as in a run


def run_starts(pacer: Pacer, time: FakeTime, count: int, workers: int) -> list[float]:
    starts: list[float] = []

    async def worker(jobs: list[int]) -> None:
        while jobs:
            jobs.pop()
            await pacer.start()
            starts.append(time.now)

    async def main() -> None:
        jobs = list(range(count))
        await asyncio.gather(*(worker(jobs) for _ in range(workers)))

    asyncio.run(main())
    return starts


def test_no_window_holds_more_than_the_rate() -> None:
    time = FakeTime()
    starts = run_starts(Pacer(3, clock=time.clock, sleep=time.sleep), time, 10, 8)
    assert len(starts) == 10
    for start in starts:
        assert sum(1 for s in starts if start <= s < start + WINDOW) <= 3
    # no burst beyond the rate, and no needless wait either: 3 at once, then each window
    assert starts[:3] == [100.0] * 3 and starts[3] == 100.0 + WINDOW


def test_without_a_rate_nothing_waits() -> None:
    time = FakeTime()
    starts = run_starts(Pacer(None, clock=time.clock, sleep=time.sleep), time, 50, 8)
    assert starts == [100.0] * 50 and time.slept == []


def test_a_pause_holds_every_start_until_it_ends() -> None:
    time = FakeTime()
    pacer = Pacer(None, clock=time.clock, sleep=time.sleep)
    pacer.pause(2.5)
    pacer.pause(1.0)  # a shorter pause never shortens a longer one
    starts = run_starts(pacer, time, 3, 3)
    assert starts == [102.5] * 3


def test_one_pacer_serves_several_event_loops() -> None:
    # --wait collects again in a new asyncio.run; the window carries over, the lock must not
    time = FakeTime()
    pacer = Pacer(2, clock=time.clock, sleep=time.sleep)
    first = run_starts(pacer, time, 6, 3)
    second = run_starts(pacer, time, 6, 3)
    starts = first + second
    assert len(starts) == 12
    for start in starts:
        assert sum(1 for s in starts if start <= s < start + WINDOW) <= 2
