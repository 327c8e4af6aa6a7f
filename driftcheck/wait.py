"""``check --wait DURATION``: a release gate that waits for a rollout instead of flaking.

Right after a deploy step a deployment is still rolling out (``status`` not ready, old worker
counts). Deployments that are drifted, missing or errored after the first pass are checked
again with backoff (2 s, doubling to 30 s, jittered) until each is in sync, its live status is
a failure (nothing will change any more), or the deadline passes. The report is the last
observation of each deployment.

Time is injected (a :class:`Clock` with ``monotonic`` and ``sleep``, given by the caller for
one run; the command line takes it from click's ``obj``), so tests use a fake clock and never
sleep; the emulator advances a rollout per request instead.
"""

from __future__ import annotations

import dataclasses
import math
import random
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Protocol, runtime_checkable

from driftcheck.live.records import Collected, Fetched, ListScope, LiveSource, Outcome, Progress
from driftcheck.manifest import DesiredDeployment, DesiredState
from driftcheck.result import DeploymentResult, ErrorKind, RunResult, Status

Key = tuple[str, str]
#: One declared deployment of a run: the same ids may be declared in several environments
#: (they live in different accounts), so a key alone does not name a finding.
Slot = tuple[str | None, str, str]


def slot_of(item: DesiredDeployment | DeploymentResult) -> Slot:
    return (item.environment, item.model_instance_id, item.deployment_id)


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
    pos, total, last_unit = 0, 0.0, math.inf
    for match in _DURATION.finditer(spec):
        unit = _UNITS[match.group(2)]
        # each unit once, largest first (1h30m): "1h1h" or "30s1m" is a typo, not a plan
        if match.start() != pos or unit >= last_unit:
            break
        total += float(match.group(1)) * unit
        pos, last_unit = match.end(), unit
    if not spec or pos != len(spec):
        raise DurationError(f"{text!r} is not a duration; use e.g. 90s, 10m or 1m30s")
    if not math.isfinite(total) or total <= 0:
        raise DurationError(f"{text!r} must be longer than zero")
    if total > MAX_WAIT:
        raise DurationError(f"{text!r} is longer than 24h")
    return total


@runtime_checkable
class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class ObservingSource:
    """A source that remembers, per deployment, how often it was fetched and the last outcome.

    The wait loop needs the live ``status`` (a FAILED rollout ends the wait) and ``--changed-
    since`` judges the REF's declaration against the very same live body; neither is part of
    a :class:`DeploymentResult`, and neither must cost a second request.

    Outcomes are kept per :data:`Slot`. A key declared in several environments is answered
    by them in order of appearance (as the environments' source routes it), so a collect
    must ask for every copy of such a key, in declared order (``declared``).
    """

    def __init__(self, inner: LiveSource, declared: Sequence[DesiredDeployment] = ()) -> None:
        self.inner = inner
        self.description = inner.description
        self.checks: dict[Slot, int] = {}
        self.last: dict[Slot, Outcome] = {}
        self._homes: dict[Key, list[str | None]] = {}
        for deployment in declared:
            self._homes.setdefault(deployment.key, []).append(deployment.environment)

    def collect(
        self,
        keys: Sequence[Key],
        *,
        mode: str = "auto",
        scope: ListScope | None = None,
        progress: Progress | None = None,
    ) -> Collected:
        collected = self.inner.collect(keys, mode=mode, scope=scope, progress=progress)
        seen: dict[Key, int] = {}
        for key, outcome in zip(keys, collected.outcomes, strict=True):
            homes = self._homes.get(key) or [None]
            nth = seen[key] = seen.get(key, -1) + 1
            # a key of a loaded set names its environment (EnvironmentKey); else by order
            named = getattr(key, "environment", None)
            where = (named if named is not None else homes[min(nth, len(homes) - 1)], *key)
            self.checks[where] = self.checks.get(where, 0) + 1
            self.last[where] = outcome
        return collected

    def live_status(self, where: Slot) -> str | None:
        outcome = self.last.get(where)
        if isinstance(outcome, Fetched) and isinstance(outcome.body, dict):
            status = outcome.body.get("status")
            return status if isinstance(status, str) else None
        return None


class ReplaySource:
    """Answers from outcomes already observed: judging another declaration against the same
    live state costs no request."""

    def __init__(self, observed: ObservingSource, slots: Sequence[Slot]) -> None:
        """``slots``: what each key of the one :meth:`collect` call stands for, in order."""
        self.observed = observed
        self.slots = list(slots)
        self.description = observed.description

    def collect(
        self,
        keys: Sequence[Key],
        *,
        mode: str = "auto",
        scope: ListScope | None = None,
        progress: Progress | None = None,
    ) -> Collected:
        assert [where[1:] for where in self.slots] == list(keys), "slots and keys differ"
        return Collected([self.observed.last[where] for where in self.slots])


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
        current = {slot_of(d): d for d in first.deployments}
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
            # only what is pending: each key names its environment, so a copy in one
            # environment is routed there without its other environments' copies
            slots = {slot_of(d) for d in pending}
            subset = dataclasses.replace(
                desired, deployments=tuple(d for d in desired.deployments if slot_of(d) in slots)
            )
            again = recheck(subset, source)
            finished_at = again.finished_at
            for deployment in again.deployments:
                current[slot_of(deployment)] = deployment
        waited = round(self.clock.monotonic() - wait_began, 1)
        deployments = tuple(
            dataclasses.replace(current[slot_of(d)], checks=source.checks.get(slot_of(d), 0))
            for d in first.deployments
        )
        return dataclasses.replace(
            first, deployments=deployments, finished_at=finished_at, waited_s=waited
        )


def _worth_waiting(deployment: DeploymentResult, source: ObservingSource) -> bool:
    if deployment.status is Status.IN_SYNC:
        return False
    status = source.live_status(slot_of(deployment))
    return status is None or status.upper() not in FAILURE_STATUSES


def _describe(deployment: DeploymentResult, source: ObservingSource) -> str:
    live = source.live_status(slot_of(deployment))
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
