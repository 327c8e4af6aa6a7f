"""--wait: duration parsing and the wait loop, with a fake clock (nothing sleeps for real)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

import pytest

from driftcheck.live.records import Collected, Failed, Fetched, ListScope, NotFound, Outcome
from driftcheck.manifest import DesiredDeployment, DesiredState
from driftcheck.result import (
    DeploymentResult,
    ErrorInfo,
    ErrorKind,
    RunResult,
    SourceLocation,
    Status,
)
from driftcheck.wait import (
    MAX_DELAY,
    DurationError,
    ObservingSource,
    Waiter,
    WaitLine,
    parse_duration,
)

T0 = dt.datetime(2026, 11, 27, 4, 0, tzinfo=dt.timezone.utc)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("10m", 600),
        ("1m30s", 90),
        ("1.5h", 5400),
        ("500ms", 0.5),
        (" 2M ", 120),
        ("1h2m3s", 3723),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text",
    ["", "10", "s", "-5s", "0s", "1x", "5s10", "nan", "inf", "25h", "1h1h", "30s1m", "1m1m"],
)
def test_bad_durations(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


class ScriptedSource:
    """Answers each key from a list of outcomes, one per collect, the last repeating."""

    description = "scripted"

    def __init__(self, script: dict[tuple[str, str], list[Outcome]]) -> None:
        self.script = script
        self.calls: list[list[tuple[str, str]]] = []

    def collect(
        self,
        keys: Sequence[tuple[str, str]],
        *,
        mode: str = "auto",
        scope: ListScope | None = None,
        progress: Any = None,
    ) -> Collected:
        self.calls.append(list(keys))
        outcomes = []
        for key in keys:
            steps = self.script[key]
            outcomes.append(steps.pop(0) if len(steps) > 1 else steps[0])
        return Collected(outcomes)


def declared(dep: str) -> DesiredDeployment:
    return DesiredDeployment("mi", dep, {"status": "READY"}, "m.yaml", 3, {})


def judge_status(desired: DesiredState, source: Any) -> RunResult:
    """A tiny stand-in for engine.check: in sync when live status is READY."""
    keys = [d.key for d in desired.deployments]
    outcomes = source.collect(keys, mode="get").outcomes
    results = []
    for (mi, dep), outcome in zip(keys, outcomes, strict=True):
        if isinstance(outcome, Fetched):
            status = Status.IN_SYNC if outcome.body["status"] == "READY" else Status.DRIFTED
            error = None
        elif isinstance(outcome, NotFound):
            status, error = Status.MISSING, None
        else:
            status, error = Status.ERROR, outcome.error
        location = SourceLocation("m.yaml", 3)
        results.append(DeploymentResult(mi, dep, None, location, status, error=error))
    return RunResult(tuple(results), T0, T0)


def live(status: str) -> Fetched:
    return Fetched({"status": status})


def run(script: dict[tuple[str, str], list[Outcome]], timeout: float = 600) -> Any:
    clock = FakeClock()
    source = ObservingSource(ScriptedSource(script))
    desired = DesiredState(tuple(declared(dep) for _, dep in script))
    seen: list[tuple[list[str], float]] = []
    waiter = Waiter(
        timeout, clock, random.Random(7), lambda pending, left: seen.append((list(pending), left))
    )
    first = judge_status(desired, source)
    result = waiter.settle(first, desired, source, judge_status)
    return result, clock, source, seen


def test_a_rollout_is_waited_for_until_ready() -> None:
    result, clock, _, seen = run(
        {("mi", "a"): [live("DEPLOYING"), live("DEPLOYING"), live("READY")]}
    )
    assert [d.status for d in result.deployments] == [Status.IN_SYNC]
    assert result.deployments[0].checks == 3
    assert len(clock.sleeps) == 2
    assert result.waited_s == round(sum(clock.sleeps), 1)
    assert seen[0][0] == ["mi/a (DEPLOYING)"]
    assert result.exit_code == 0


def test_only_unsettled_deployments_are_fetched_again() -> None:
    result, _, source, _ = run(
        {("mi", "a"): [live("READY")], ("mi", "b"): [live("DEPLOYING"), live("READY")]}
    )
    assert source.inner.calls == [[("mi", "a"), ("mi", "b")], [("mi", "b")]]
    assert [d.checks for d in result.deployments] == [1, 2]
    assert [d.deployment_id for d in result.deployments] == ["a", "b"]  # report order kept


@pytest.mark.parametrize("status", ["FAILED", "error", "Deployment_Timeout"])
def test_a_failed_rollout_stops_the_wait_for_it(status: str) -> None:
    result, clock, _, _ = run({("mi", "a"): [live("DEPLOYING"), live(status), live("READY")]})
    assert result.deployments[0].status is Status.DRIFTED  # the last observation
    assert result.deployments[0].checks == 2
    assert len(clock.sleeps) == 1
    assert result.exit_code == 2


def test_the_deadline_ends_the_wait_with_the_last_observation() -> None:
    result, clock, _, _ = run({("mi", "a"): [live("DEPLOYING")]}, timeout=90)
    assert result.deployments[0].status is Status.DRIFTED
    assert clock.now - 100.0 == pytest.approx(90)  # never sleeps past the deadline
    # backoff doubles from about 2 s (±25 % jitter) and never exceeds 30 s
    assert 1.5 <= clock.sleeps[0] <= 2.5
    assert clock.sleeps[1] > clock.sleeps[0]
    assert max(clock.sleeps) <= MAX_DELAY
    assert result.deployments[0].checks == len(clock.sleeps) + 1


def test_missing_and_errors_are_waited_for_too() -> None:
    error = Failed(ErrorInfo(ErrorKind.HTTP, "HTTP 503", 503))
    result, _, _, _ = run(
        {
            ("mi", "a"): [NotFound({"detail": "Not Found"}), live("READY")],
            ("mi", "b"): [error, error, live("READY")],
        }
    )
    assert [d.status for d in result.deployments] == [Status.IN_SYNC, Status.IN_SYNC]
    assert [d.checks for d in result.deployments] == [2, 3]


def test_an_auth_error_stops_at_once() -> None:
    refused = Failed(ErrorInfo(ErrorKind.AUTH, "HTTP 401", 401))
    result, clock, _, _ = run(
        {("mi", "a"): [live("DEPLOYING"), live("READY")], ("mi", "b"): [refused, live("READY")]}
    )
    assert clock.sleeps == []
    assert [d.checks for d in result.deployments] == [1, 1]
    assert result.exit_code == 1


def test_nothing_to_wait_for_waits_zero() -> None:
    result, clock, _, seen = run({("mi", "a"): [live("READY")]})
    assert clock.sleeps == [] and seen == []
    assert result.waited_s == 0.0
    assert result.deployments[0].checks == 1


def test_wait_line_names_what_is_pending() -> None:
    import io

    stream = io.StringIO()
    line = WaitLine(stream)
    line(["a (DEPLOYING)", "b (missing)", "c\x1b[31m (error)", "d (drifted)"], 41.2)
    line.done()
    text = stream.getvalue()
    assert "waiting (up to 42s) for 4 deployments: a (DEPLOYING), b (missing), c?[31m" in text
    assert "and 1 more" in text and "\x1b[31m" not in text
    assert text.endswith("\r\x1b[K")
