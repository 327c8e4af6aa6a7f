"""The release gate and the reviewer check around one run: ``--wait`` and ``--changed-since``.

``run`` wraps the engine's check: it narrows the declared set to what changed since REF,
waits for rollouts, then marks each finding's origin. Everything local (git, the manifests at
REF) is read by :func:`driftcheck.changes.load_ref_state` before the first request.
"""

from __future__ import annotations

import dataclasses
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from driftcheck.baseline import Baseline, mark
from driftcheck.changes import RefState, load_ref_state, mark_origins
from driftcheck.ignore import IgnorePolicy, Tally
from driftcheck.live.records import ListScope, LiveSource, Progress
from driftcheck.manifest import DesiredState, load_manifests
from driftcheck.result import FailOn, RunResult, format_timestamp
from driftcheck.sensitive import NO_POLICY, SensitivePolicy
from driftcheck.wait import (
    Clock,
    DurationError,
    ObservingSource,
    SystemClock,
    Waiter,
    WaitLine,
    WaitProgress,
    parse_duration,
)


class CheckSettings(Protocol):
    """What the gate reads of the run's options (app's CheckOptions): a protocol, so that the
    gate sits below app.py instead of importing it back."""

    @property
    def strict(self) -> bool: ...
    @property
    def progress(self) -> Progress | None: ...
    @property
    def fetch(self) -> str: ...
    @property
    def unmanaged(self) -> ListScope | None: ...
    @property
    def fail_on(self) -> FailOn: ...
    @property
    def live_from(self) -> str | None: ...
    @property
    def show_sensitive(self) -> bool: ...


#: Which check of a run: the first pass (progress, listing for --unmanaged, the chosen fetch
#: mode), a re-check of --wait (GET only), or REF's declarations judged for --changed-since
#: (replayed; its ignores are REF's, so it must not count towards the run's ignores).
Pass = Literal["first", "again", "ref"]
#: ``check(desired, source, which)`` with the run's comparison options.
CheckFn = Callable[[DesiredState, LiveSource, Pass], RunResult]


class GateUsageError(ValueError):
    pass


@dataclass(frozen=True)
class GateRequest:
    """The gate options as given on the command line, checked for sense before any work."""

    wait: float | None
    changed_since: str | None
    check_all: bool

    @classmethod
    def parse(
        cls,
        wait: str | None,
        changed_since: str | None,
        check_all: bool,
        live_from: str | None,
        unmanaged: bool,
    ) -> GateRequest | None:
        seconds = None
        if wait is not None:
            try:
                seconds = parse_duration(wait)
            except DurationError as exc:
                raise GateUsageError(f"Invalid value for '--wait': {exc}") from None
            if live_from:
                raise GateUsageError(
                    "--wait re-reads the live API; a --live-from snapshot never changes"
                )
        if check_all and changed_since is None:
            raise GateUsageError("--all widens --changed-since; add --changed-since REF")
        if changed_since is not None and unmanaged and not check_all:
            # unmanaged means "no manifest declares it": that needs every declaration checked
            raise GateUsageError("--unmanaged with --changed-since needs --all")
        if seconds is None and changed_since is None:
            return None
        return cls(seconds, changed_since, check_all)

    def prepare(
        self,
        paths: Sequence[str],
        show_progress: bool,
        load: Callable[[list[str]], DesiredState] = load_manifests,
        clock: Clock | None = None,
    ) -> GateOptions:
        """Read what is local (git, the manifests at REF, loaded with ``load``); raises
        ChangesError. ``clock``: the run's time (a fresh system clock unless injected)."""
        changes = None
        if self.changed_since is not None:
            changes = load_ref_state(self.changed_since, paths, load)
        return GateOptions(
            wait=self.wait,
            clock=clock or SystemClock(),
            changes=changes,
            check_all=self.check_all,
            wait_progress=WaitLine(sys.stderr) if show_progress else None,
        )


@dataclass(frozen=True)
class GateOptions:
    wait: float | None = None  # seconds
    changes: RefState | None = None
    check_all: bool = False
    clock: Clock = field(default_factory=SystemClock)
    rng: random.Random = field(default_factory=random.Random)
    wait_progress: WaitProgress | None = None


def run(
    desired: DesiredState,
    source: LiveSource,
    policy: IgnorePolicy,
    check_options: CheckSettings,
    options: GateOptions,
    baseline: Baseline | None,
    sensitive: SensitivePolicy = NO_POLICY,
) -> RunResult:
    """The engine's check with the run's options, through the gate; baseline marks last, on
    the final observation (a mark made on the first pass would describe a stale state)."""
    from driftcheck import __version__, engine

    # One tally for the run's own passes: a re-check replaces its deployment's counts, so the
    # ignores' counts and statuses describe the last observation, as the deployments do.
    tally = Tally(policy, desired.deployments)

    def check(state: DesiredState, live: LiveSource, which: Pass) -> RunResult:
        first = which == "first"
        return engine.check(
            state,
            live,
            strict=check_options.strict,
            policy=policy,
            progress=check_options.progress if first else None,
            fetch_mode=check_options.fetch if first else "get",
            unmanaged=check_options.unmanaged if first else None,
            fail_on=check_options.fail_on,
            version=__version__,
            live_from=check_options.live_from,
            declared=desired,  # a subset is checked: ignores of the rest are not "unused"
            tally=None if which == "ref" else tally,
            sensitive=sensitive,
            reveal=check_options.show_sensitive,
        )

    result = run_with(desired, source, check, options)
    result = dataclasses.replace(result, ignores=tally.report(result.deployments))
    if baseline is not None:
        now = format_timestamp(result.started_at)
        marks = mark(result.deployments, result.unmanaged, baseline, now)
        result = dataclasses.replace(result, marks=marks)
    return result


def run_with(
    desired: DesiredState, source: LiveSource, check: CheckFn, options: GateOptions
) -> RunResult:
    def again(subset: DesiredState, live: LiveSource) -> RunResult:
        return check(subset, live, "again")

    def at_ref(before: DesiredState, live: LiveSource) -> RunResult:
        return check(before, live, "ref")

    observed = ObservingSource(source, desired.deployments)
    selected, unchanged = desired, 0
    if options.changes is not None:
        selected, unchanged = options.changes.select(desired, check_all=options.check_all)
    # the deadline counts from before the first request: --wait 10m bounds the whole gate
    waiter = (
        Waiter(options.wait, options.clock, options.rng, options.wait_progress)
        if options.wait is not None
        else None
    )
    result = check(selected, observed, "first")
    if waiter is not None:
        result = waiter.settle(result, selected, observed, again)
        if isinstance(options.wait_progress, WaitLine):
            options.wait_progress.done()
    if options.changes is not None:
        result = mark_origins(
            result,
            options.changes,
            desired,
            observed,
            at_ref,
            unchanged=unchanged,
            check_all=options.check_all,
        )
    return result
