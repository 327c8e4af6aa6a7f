"""--max-rps and the shared pause after a 429, checked on the emulator's own clock: the
request start times it recorded, never the wall clock of the test."""

from __future__ import annotations

from typing import Any

from tests.acceptance.conftest import declare_many
from tests.emulator import Emulator, Reply, make_deployment


def most_in_one_second(starts: list[float]) -> int:
    """The largest number of starts in any window [t, t + 1 s)."""
    return max(sum(1 for other in starts if start <= other < start + 1.0) for start in starts)


def test_max_rps_never_starts_more_than_n_in_any_second(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    for i in range(8):
        emulator.put(make_deployment("mi", f"d{i}"))
    args = ("--max-rps", "5", "--concurrency", "16", "--fetch", "get")
    result = run_check(declare_many(manifest, 8), *args)
    assert result.code == 0, result.stdout
    starts = emulator.start_times()
    assert len(starts) == 8  # 16 workers would start all 8 at once
    assert most_in_one_second(starts) <= 5


def test_max_rps_counts_retries_too(emulator: Emulator, run_check: Any, manifest: Any) -> None:
    for i in range(3):
        emulator.put(make_deployment("mi", f"d{i}"))
        emulator.script("mi", f"d{i}", Reply(status=503))
    result = run_check(declare_many(manifest, 3), "--max-rps", "4", "--fetch", "get")
    assert result.code == 0, result.stdout
    starts = emulator.start_times()
    assert len(starts) == 6
    assert most_in_one_second(starts) <= 4


def test_a_429_with_retry_after_pauses_every_worker(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    for i in range(40):
        emulator.put(make_deployment("mi", f"d{i}"))
    emulator.script("mi", "d0", Reply(status=429, headers={"retry-after": "1"}))
    result = run_check(declare_many(manifest, 40), "--concurrency", "4", "--fetch", "get")
    assert result.code == 0, result.stdout
    throttled = emulator.requests_for("mi", "d0")[0].time
    during = [r for r in emulator.requests if throttled < r.time < throttled + 0.9]
    # only requests the other 3 workers had already sent when the 429 arrived may start; without
    # the shared pause they would have fetched all 39 others within that second
    assert len(during) <= 3
    assert len(emulator.requests) == 41


def test_max_rps_holds_across_the_passes_of_wait(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    # --wait's clock is fake, so its passes follow each other at once: only the rate limit
    # spaces the re-checks, and it must hold across passes, not per pass
    for i in range(2):
        emulator.put(make_deployment("mi", f"d{i}"))
        emulator.rollout("mi", f"d{i}", "DEPLOYING", "DEPLOYING", "READY")
    path = manifest(
        "version: 1\ndeployments:\n"
        + "".join(
            f"  - model_instance_id: mi\n    deployment_id: d{i}\n    status: READY\n"
            for i in range(2)
        )
    )
    result = run_check(path, "--max-rps", "4", "--wait", "5m", "--fetch", "get")
    assert result.code == 0, result.stdout
    starts = emulator.start_times()
    assert len(starts) == 6
    assert most_in_one_second(starts) <= 4
