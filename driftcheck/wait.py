"""``check --wait DURATION``: a release gate that waits for a rollout instead of flaking.

Right after a deploy step a deployment is still rolling out (``status`` not ready, old worker
counts). Deployments that are drifted, missing or errored after the first pass are checked
again with backoff (2 s, doubling to 30 s, jittered) until each is in sync, its live status is
a failure (nothing will change any more), or the deadline passes. The report is the last
observation of each deployment.

Time is injected (a :class:`Clock` with ``monotonic`` and ``sleep``), so tests use a fake
clock and never sleep; the emulator advances a rollout per request instead.
"""

from __future__ import annotations

import dataclasses
import math
import random
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Protocol

from driftcheck.live.records import Collected, Fetched, ListScope, LiveSource, Outcome, Progress
from driftcheck.manifest import DesiredState
from driftcheck.result import DeploymentResult, ErrorKind, RunResult, Status

Key = tuple[str, str]

FIRST_DELAY = 2.0
MAX_DELAY = 30.0
MAX_WAIT = 24 * 3600.0  # a gate that waits longer than a day is a typo, not a plan
# A live status after which a rollout will not become ready by itself (compared upper-case).
FAILURE_STATUSES = frozenset({"FAILED", "ERROR", "DEPLOYMENT_TIMEOUT"})
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


class DurationError(ValueError):
    pass


def parse_duration(text: str) -> float:
    """``90s``, ``10m``, ``1m30s``, ``1.5h`` -> seconds. A unit is required: ``--wait 10``
    could mean seconds or minutes, and a gate must not guess."""
    spec = text.strip().lower()
    pos, total = 0, 0.0
    for match in _DURATION.finditer(spec):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not spec or pos != len(spec):
        raise DurationError(f"{text!r} is not a duration; use e.g. 90s, 10m or 1m30s")
    if not math.isfinite(total) or total <= 0:
        raise DurationError(f"{text!r} must be longer than zero")
    if total > MAX_WAIT:
        raise DurationError(f"{text!r} is longer than 24h")
    return total


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


#: The clock a run uses unless given one; read when a run starts, so a test can replace it.
CLOCK: Clock = SystemClock()


class ObservingSource:
    """A source that remembers, per deployment, how often it was fetched and the last outcome.

    The wait loop needs the live ``status`` (a FAILED rollout ends the wait) and ``--changed-
    since`` judges the REF's declaration against the very same live body; neither is part of
    a :class:`DeploymentResult`, and neither must cost a second request.
    """

    def __init__(self, inner: LiveSource) -> None:
        self.inner = inner
        self.description = inner.description
        self.checks: dict[Key, int] = {}
        self.last: dict[Key, Outcome] = {}

    def collect(
        self,
        keys: Sequence[Key],
        *,
        mode: str = "auto",
        scope: ListScope | None = None,
        progress: Progress | None = None,
    ) -> Collected:
        collected = self.inner.collect(keys, mode=mode, scope=scope, progress=progress)
        for key, outcome in zip(keys, collected.outcomes, strict=True):
            self.checks[key] = self.checks.get(key, 0) + 1
            self.last[key] = outcome
        return collected

    def live_status(self, key: Key) -> str | None:
        outcome = self.last.get(key)
        if isinstance(outcome, Fetched) and isinstance(outcome.body, dict):
            status = outcome.body.get("status")
            return status if isinstance(status, str) else None
        return None


class ReplaySource:
    """Answers from outcomes already observed: judging another declaration against the same
    live state costs no request."""

    def __init__(self, observed: ObservingSource) -> None:
        self.observed = observed
        self.description = observed.description

    def collect(
        self,
        keys: Sequence[Key],
        *,
        mode: str = "auto",
        scope: ListScope | None = None,
        progress: Progress | None = None,
    ) -> Collected:
        return Collected([self.observed.last[key] for key in keys])


#: ``check(desired, source)`` with the run's comparison options; fetches by GET, no listing.
Recheck = Callable[[DesiredState, LiveSource], RunResult]
#: Called before each wait: what is still waited for (``label (live status)``), seconds left.
WaitProgress = Callable[[Sequence[str], float], None]


@dataclasses.dataclass
class Waiter:
    """One ``--wait``: starts its deadline when created (before the first pass)."""

    timeout: float
    clock: Clock = dataclasses.field(default_factory=SystemClock)
    rng: random.Random = dataclasses.field(default_factory=random.Random)
    progress: WaitProgress | None = None
    started: float = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.started = self.clock.monotonic()

    def settle(
        self, first: RunResult, desired: DesiredState, source: ObservingSource, recheck: Recheck
    ) -> RunResult:
        """Re-check what is not settled until it is, or the deadline; the last observation of
        each deployment wins. ``first`` must have been fetched through ``source``."""
        current = {(d.model_instance_id, d.deployment_id): d for d in first.deployments}
        wait_began = self.clock.monotonic()
        finished_at = first.finished_at
        delay = FIRST_DELAY
        while True:
            pending = [d for d in current.values() if _worth_waiting(d, source)]
            if not pending or _auth_failed(current.values()):
                break
            left = self.started + self.timeout - self.clock.monotonic()
            if left <= 0:
                break
            if self.progress is not None:
                self.progress([_describe(d, source) for d in pending], left)
            # Jitter keeps many gates started by one deploy from polling the API in lockstep.
            jittered = min(delay * (0.75 + 0.5 * self.rng.random()), MAX_DELAY)
            self.clock.sleep(min(jittered, left))
            delay = min(delay * 2, MAX_DELAY)
            keys = {(d.model_instance_id, d.deployment_id) for d in pending}
            subset = dataclasses.replace(
                desired, deployments=tuple(d for d in desired.deployments if d.key in keys)
            )
            again = recheck(subset, source)
            finished_at = again.finished_at
            for deployment in again.deployments:
                current[(deployment.model_instance_id, deployment.deployment_id)] = deployment
        waited = round(self.clock.monotonic() - wait_began, 1)
        deployments = tuple(
            dataclasses.replace(
                current[(d.model_instance_id, d.deployment_id)],
                checks=source.checks.get((d.model_instance_id, d.deployment_id), 0),
            )
            for d in first.deployments
        )
        return dataclasses.replace(
            first, deployments=deployments, finished_at=finished_at, waited_s=waited
        )


def _worth_waiting(deployment: DeploymentResult, source: ObservingSource) -> bool:
    if deployment.status is Status.IN_SYNC:
        return False
    status = source.live_status((deployment.model_instance_id, deployment.deployment_id))
    return status is None or status.upper() not in FAILURE_STATUSES


def _describe(deployment: DeploymentResult, source: ObservingSource) -> str:
    live = source.live_status((deployment.model_instance_id, deployment.deployment_id))
    return f"{deployment.label} ({live or deployment.status.value})"


def _auth_failed(deployments: Iterable[DeploymentResult]) -> bool:
    """A refused key will not be accepted on the next try: stop at once."""
    return any(d.error is not None and d.error.kind is ErrorKind.AUTH for d in deployments)


class WaitLine:
    """``waiting (up to 42s) for 2 deployments: llama (DEPLOYING), …`` on a terminal."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.used = False

    def __call__(self, pending: Sequence[str], left: float) -> None:
        names = ", ".join(pending[:3])
        more = f" and {len(pending) - 3} more" if len(pending) > 3 else ""
        count = f"{len(pending)} deployment{'s' if len(pending) != 1 else ''}"
        line = f"driftcheck: waiting (up to {math.ceil(left)}s) for {count}: {names}{more}"
        self.stream.write("\r\x1b[K" + _printable(line))
        self.stream.flush()
        self.used = True

    def done(self) -> None:
        if self.used:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _printable(text: str) -> str:
    """A deployment name from the API must not move the cursor or recolour a terminal."""
    return "".join(c if c.isprintable() else "?" for c in text)
