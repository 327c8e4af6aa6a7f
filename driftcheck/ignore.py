"""One ignore policy for every source: the manifest's top-level and per-deployment ``ignore``,
``--ignore`` on the command line, and ``.driftignore`` files.

Each rule remembers where it was written (file and line; none for ``--ignore``) and, when
given, why, who owns it and until when, so that a run can say which rule silenced what and
how often, and which rules expired, are about to, or silence nothing.

How the sources combine (unchanged from when they were separate channels):
- manifest and ``--ignore`` rules add up: any one that covers a path silences it;
- ``.driftignore`` rules are read in order and the last one that applies decides, so a ``!``
  rule re-includes only what earlier ``.driftignore`` rules ignored;
- an expired rule (its ``until`` day is over) takes no part in either.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Protocol

from driftcheck.paths import PathPattern, TreePath
from driftcheck.result import (
    DeploymentResult,
    Difference,
    IgnoreReport,
    IgnoreStatus,
    Status,
)

# An ignore whose until is at most this many days away is `expiring` (a warning, not yet news).
EXPIRING_DAYS = 14


class Source(str, Enum):
    MANIFEST = "manifest"  # a manifest's top-level ignore: that file's deployments
    DEPLOYMENT = "deployment"  # one deployment's ignore
    OPTION = "option"  # --ignore: every deployment
    FILE = "file"  # a .driftignore rule: the deployments its selector matches


@dataclass(frozen=True)
class IdGlob:
    """One side of a ``.driftignore`` selector: literal text and unescaped ``*`` wildcards."""

    text: str  # as written, for messages
    regex: re.Pattern[str]

    def matches(self, value: str) -> bool:
        return self.regex.fullmatch(value) is not None


@dataclass(frozen=True)
class Selector:
    model_instance_id: IdGlob
    deployment_id: IdGlob

    def matches(self, key: tuple[str, str]) -> bool:
        return self.model_instance_id.matches(key[0]) and self.deployment_id.matches(key[1])

    @property
    def text(self) -> str:
        return f"{self.model_instance_id.text}/{self.deployment_id.text}"


@dataclass(frozen=True)
class IgnoreRule:
    pattern: PathPattern
    source: Source
    file: str | None = None
    line: int | None = None
    selector: Selector | None = None  # .driftignore only
    negated: bool = False  # .driftignore '!': re-include
    reason: str | None = None
    owner: str | None = None
    until: dt.date | None = None  # silences through this UTC day

    @property
    def declaration(self) -> tuple[str, str | None, str | None, str | None]:
        """What the rule says, not where it is written: moving it is no change."""
        until = None if self.until is None else self.until.isoformat()
        return (self.pattern.text, self.reason, self.owner, until)

    @property
    def where(self) -> str:
        """``file:line``, or ``--ignore``."""
        return "--ignore" if self.file is None else f"{self.file}:{self.line}"

    def status_on(self, today: dt.date) -> IgnoreStatus:
        """What the calendar alone says: active, expiring or expired."""
        if self.until is None:
            return IgnoreStatus.ACTIVE
        days_left = (self.until - today).days
        if days_left < 0:
            return IgnoreStatus.EXPIRED
        return IgnoreStatus.EXPIRING if days_left <= EXPIRING_DAYS else IgnoreStatus.ACTIVE


class Declared(Protocol):
    """What the policy needs of a declared deployment (manifest.Declared)."""

    @property
    def key(self) -> tuple[str, str]: ...

    @property
    def ignore(self) -> tuple[IgnoreRule, ...]: ...


def parse_day(text: str) -> dt.date:
    """A ``YYYY-MM-DD`` UTC day; ValueError with a plain message otherwise."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise ValueError(f"invalid date {text!r}: expected YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"invalid date {text!r}: no such day") from None


@dataclass(frozen=True)
class Decision:
    """What the policy says about one path of one deployment."""

    silenced_by: tuple[IgnoreRule, ...] = ()
    expired: IgnoreRule | None = None  # would have silenced it, had it not expired

    @property
    def silenced(self) -> bool:
        return bool(self.silenced_by)


@dataclass(frozen=True)
class IgnorePolicy:
    """Every ignore rule of a run, and the day it is judged on."""

    options: tuple[IgnoreRule, ...] = ()  # --ignore
    files: tuple[IgnoreRule, ...] = ()  # .driftignore rules, in file order
    today: dt.date = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).date())

    def decide(self, deployment: Declared, path: TreePath) -> Decision:
        union = [r for r in (*deployment.ignore, *self.options) if r.pattern.covers(path)]
        live = [r for r in union if not self._expired(r)]
        expired = [r for r in union if self._expired(r)]
        applying = [
            r
            for r in self.files
            if r.selector is not None and r.selector.matches(deployment.key)
            if r.pattern.covers(path)
        ]
        # the last applying rule decides; an expired one no longer takes part
        decider = next((r for r in reversed(applying) if not self._expired(r)), None)
        if decider is not None and not decider.negated:
            live.append(decider)
        would = applying[-1] if applying else None
        if would is not None and not would.negated and self._expired(would):
            expired.append(would)
        return Decision(tuple(live), None if live or not expired else expired[0])

    def _expired(self, rule: IgnoreRule) -> bool:
        return rule.status_on(self.today) is IgnoreStatus.EXPIRED

    def scopes(self, deployments: Sequence[Declared]) -> dict[IgnoreRule, list[tuple[str, str]]]:
        """Every rule (in :meth:`rules` order) with the deployments it may apply to; one pass
        over the deployments, since a large manifest has a rule per deployment."""
        carried: dict[IgnoreRule, list[tuple[str, str]]] = {}
        for deployment in deployments:
            for rule in deployment.ignore:
                carried.setdefault(rule, []).append(deployment.key)
        everyone = [d.key for d in deployments]
        found: dict[IgnoreRule, list[tuple[str, str]]] = {}
        for rule in self.rules(deployments):
            if rule.source is Source.OPTION:
                found[rule] = everyone
            elif rule.selector is not None:
                found[rule] = [key for key in everyone if rule.selector.matches(key)]
            else:
                found[rule] = carried.get(rule, [])
        return found

    def rules(self, deployments: Iterable[Declared]) -> list[IgnoreRule]:
        """Every rule once, manifest rules first (as their deployments come), then the rest."""
        seen: dict[IgnoreRule, None] = {}
        for deployment in deployments:
            seen.update(dict.fromkeys(deployment.ignore))
        seen.update(dict.fromkeys(self.options))
        seen.update(dict.fromkeys(self.files))
        return list(seen)


def expired_note(rule: IgnoreRule) -> str:
    return f"ignore expired {rule.until} ({rule.where})"


class Tally:
    """Applies a policy during one run and counts what each rule silenced.

    Counts are kept per deployment and replaced when a deployment is judged again (a run that
    re-checks), so they always describe the last observation.
    """

    def __init__(
        self,
        policy: IgnorePolicy,
        deployments: Sequence[Declared],
        declared: Sequence[Declared] | None = None,
    ) -> None:
        """``deployments`` are judged in this run; ``declared`` is every declared one when
        the run checks only some (--changed-since): a rule of the others is listed, and never
        ``unused``, since it was not tried."""
        self.policy = policy
        self.deployments = tuple(deployments if declared is None else declared)
        self._counts: dict[tuple[str | None, str, str], dict[IgnoreRule, int]] = {}

    def filter(
        self, deployment: Declared, differences: Iterable[Difference]
    ) -> tuple[Difference, ...]:
        """The differences the policy lets through, noting those an expired rule let go."""
        counts: dict[IgnoreRule, int] = {}
        kept: list[Difference] = []
        for diff in differences:
            decision = self.policy.decide(deployment, diff.segments)
            for rule in decision.silenced_by:
                counts[rule] = counts.get(rule, 0) + 1
            if decision.silenced:
                continue
            if decision.expired is not None:
                diff = replace(diff, note=expired_note(decision.expired))
            kept.append(diff)
        # per environment too: the same ids may be declared in several (different accounts)
        where = (getattr(deployment, "environment", None), *deployment.key)
        self._counts[where] = counts
        return tuple(kept)

    def report(self, results: Sequence[DeploymentResult]) -> tuple[IgnoreReport, ...]:
        """Each rule with its status and count. ``unused``: silenced nothing although every
        deployment it could apply to was compared (an error or a 404 leaves that open)."""
        compared = {
            (r.model_instance_id, r.deployment_id)
            for r in results
            if r.status in (Status.IN_SYNC, Status.DRIFTED)
        }
        # one pass each over deployments and counts: a large manifest has a rule per deployment
        totals: dict[IgnoreRule, int] = {}
        for counts in self._counts.values():
            for rule, count in counts.items():
                totals[rule] = totals.get(rule, 0) + count
        out: list[IgnoreReport] = []
        for rule, scope in self.policy.scopes(self.deployments).items():
            silenced = totals.get(rule, 0)
            status = rule.status_on(self.policy.today)
            if (
                status is not IgnoreStatus.EXPIRED
                and not rule.negated
                and silenced == 0
                and all(key in compared for key in scope)
            ):
                status = IgnoreStatus.UNUSED
            out.append(describe(rule, status, silenced, scope))
        return tuple(out)


def describe(
    rule: IgnoreRule,
    status: IgnoreStatus,
    silenced: int = 0,
    scope: Sequence[tuple[str, str]] = (),
) -> IgnoreReport:
    """The report record of ``rule``; ``scope``, the deployments it applies to, names a
    deployment's own rule's deployment."""
    if rule.source is Source.DEPLOYMENT and scope:
        where = ", ".join(f"{mi}/{dep}" for mi, dep in dict.fromkeys(scope))
    else:
        where = {
            Source.MANIFEST: "deployments of this manifest",
            Source.DEPLOYMENT: "this deployment",
            Source.OPTION: "every deployment",
        }.get(rule.source, rule.selector.text if rule.selector else "")
    return IgnoreReport(
        pattern=("!" if rule.negated else "") + rule.pattern.text,
        file=rule.file,
        line=rule.line,
        reason=rule.reason,
        owner=rule.owner,
        until=rule.until,
        status=status,
        silenced=silenced,
        scope=where,
    )


def unaccountable(rules: Iterable[IgnoreRule]) -> list[str]:
    """``--require-ignore-reason``: one ``file:line: message`` per rule without a reason or
    an until day (``--ignore`` is refused as a whole by the command line; ``!`` lines silence
    nothing, so they need neither)."""
    problems = []
    for rule in rules:
        if rule.negated:  # a '!' line re-includes: it stops no one from looking
            continue
        lacking = [name for name in ("reason", "until") if getattr(rule, name) is None]
        if lacking and rule.file is not None:
            problems.append(
                f"{rule.where}: ignore {rule.pattern.text!r} has no {' and no '.join(lacking)} "
                "(--require-ignore-reason)"
            )
    return problems


ENTRY_KEYS = ("path", "reason", "owner", "until")
EntryProblem = tuple[tuple[str, ...], str]  # (key inside the entry, or () for the entry; message)


def rule_from_entry(
    value: object, source: Source, file: str, line: int
) -> tuple[IgnoreRule | None, list[EntryProblem]]:
    """A manifest ``ignore`` item: a plain pattern, or a map with ``path`` and optionally
    ``reason``, ``owner`` and ``until``. Returns the rule, or None and every problem found."""
    from driftcheck.paths import PatternError, parse_pattern

    if isinstance(value, str):
        entry: dict[object, object] = {"path": value}
    elif isinstance(value, dict):
        entry = value
    else:
        return None, [((), "expected an ignore pattern (a string) or a mapping with 'path'")]
    problems: list[EntryProblem] = []
    for key in entry:
        if key not in ENTRY_KEYS:
            allowed = ", ".join(ENTRY_KEYS)
            problems.append(((str(key),), f"unknown key {key!r} in an ignore: allowed {allowed}"))
    texts: dict[str, str] = {}
    for key in ENTRY_KEYS:
        item = entry.get(key)
        if item is None and key in entry:
            problems.append(((key,), f"{key}: must not be null"))
        elif key == "until" and item is not None and not isinstance(item, str):
            problems.append(((key,), f"until: expected a YYYY-MM-DD day, got {item!r}"))
        elif item is not None and not (isinstance(item, str) and item.strip()):
            problems.append(((key,), f"{key}: expected a non-empty string"))
        elif isinstance(item, str):
            texts[key] = item
    pattern_text = texts.get("path")
    if pattern_text is None and "path" not in entry:
        problems.append(((), "an ignore mapping needs 'path' (the pattern to ignore)"))
    where = () if isinstance(value, str) else ("path",)
    pattern = None
    if pattern_text is not None:
        try:
            pattern = parse_pattern(pattern_text)
        except PatternError as exc:
            problems.append((where, f"invalid ignore pattern {pattern_text!r}: {exc}"))
    until = None
    if "until" in texts:
        try:
            until = parse_day(texts["until"])
        except ValueError as exc:
            problems.append((("until",), str(exc)))
    if problems or pattern is None:
        return None, problems
    rule = IgnoreRule(
        pattern,
        source,
        file=file,
        line=line,
        reason=texts.get("reason"),
        owner=texts.get("owner"),
        until=until,
    )
    return rule, []
