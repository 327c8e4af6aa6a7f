"""The one ignore policy: how sources combine, dates, counts and statuses."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from driftcheck.ignore import (
    IgnorePolicy,
    IgnoreRule,
    Source,
    Tally,
    parse_day,
    rule_from_entry,
    unaccountable,
)
from driftcheck.ignorefile import IgnoreFileError, parse_ignore_text
from driftcheck.paths import parse_pattern
from driftcheck.result import (
    DeploymentResult,
    Difference,
    DiffKind,
    IgnoreStatus,
    SourceLocation,
    Status,
)

TODAY = dt.date(2026, 11, 27)


@dataclass(frozen=True)
class Declared:
    key: tuple[str, str]
    ignore: tuple[IgnoreRule, ...] = ()


def rule(pattern: str, until: str | None = None, source: Source = Source.MANIFEST) -> IgnoreRule:
    day = parse_day(until) if until else None
    return IgnoreRule(parse_pattern(pattern), source, file="m.yaml", line=3, until=day)


def change(path: str) -> Difference:
    return Difference(path, DiffKind.CHANGED, 1, 2, 5)


def result(key: tuple[str, str], status: Status) -> DeploymentResult:
    return DeploymentResult(key[0], key[1], None, SourceLocation("m.yaml", 1), status)


@pytest.mark.parametrize(
    ("until", "status"),
    [
        ("2026-11-26", IgnoreStatus.EXPIRED),
        ("2026-11-27", IgnoreStatus.EXPIRING),  # silences through its own day
        ("2026-12-11", IgnoreStatus.EXPIRING),  # 14 days away
        ("2026-12-12", IgnoreStatus.ACTIVE),
        (None, IgnoreStatus.ACTIVE),
    ],
)
def test_status_by_the_calendar(until: str | None, status: IgnoreStatus) -> None:
    assert rule("name", until).status_on(TODAY) is status


def test_an_expired_rule_silences_nothing_and_is_named_in_the_note() -> None:
    expired = rule("name", "2026-11-01")
    deployment = Declared(("mi", "dep"), (expired,))
    tally = Tally(IgnorePolicy(today=TODAY), (deployment,))
    (kept,) = tally.filter(deployment, [change("name")])
    assert kept.note == "ignore expired 2026-11-01 (m.yaml:3)"


def test_an_active_rule_beside_an_expired_one_still_silences() -> None:
    active = rule("name", source=Source.OPTION)
    deployment = Declared(("mi", "dep"), (rule("name", "2026-11-01"),))
    tally = Tally(IgnorePolicy(options=(active,), today=TODAY), (deployment,))
    assert tally.filter(deployment, [change("name")]) == ()
    reports = tally.report([result(deployment.key, Status.IN_SYNC)])
    assert [(r.status, r.silenced) for r in reports] == [
        (IgnoreStatus.EXPIRED, 0),
        (IgnoreStatus.ACTIVE, 1),
    ]


def test_driftignore_negation_and_expiry() -> None:
    # an expired '!' would let the earlier rule silence again: a '!' line cannot be dated
    with pytest.raises(IgnoreFileError) as caught:
        parse_ignore_text(
            "*/* deployment_metadata\n!*/* deployment_metadata.owner until=2026-11-01\n", "f"
        )
    assert caught.value.problems[0].startswith("f:2: until= cannot date a '!' line")
    rules = parse_ignore_text("*/* deployment_metadata\n!*/* deployment_metadata.owner\n", "f")
    deployment = Declared(("mi", "dep"))
    policy = IgnorePolicy(files=rules, today=TODAY)
    assert not policy.decide(deployment, ("deployment_metadata", "owner")).silenced
    expired_only = parse_ignore_text("*/* name until=2026-11-01\n", "f")
    decision = IgnorePolicy(files=expired_only, today=TODAY).decide(deployment, ("name",))
    assert not decision.silenced and decision.expired == expired_only[0]


def test_counts_are_per_rule_and_replaced_when_a_deployment_is_judged_again() -> None:
    top = rule("deployment_metadata")
    deployment = Declared(("mi", "dep"), (top,))
    tally = Tally(IgnorePolicy(today=TODAY), (deployment,))
    tally.filter(deployment, [change("deployment_metadata.a"), change("deployment_metadata.b")])
    tally.filter(deployment, [change("deployment_metadata.a")])  # a re-check sees less
    (report,) = tally.report([result(deployment.key, Status.IN_SYNC)])
    assert (report.status, report.silenced) == (IgnoreStatus.ACTIVE, 1)


@pytest.mark.parametrize(
    ("status", "unused"),
    [
        (Status.IN_SYNC, True),
        (Status.DRIFTED, True),
        (Status.ERROR, False),
        (Status.MISSING, False),
    ],
)
def test_unused_only_when_every_deployment_it_applies_to_was_compared(
    status: Status, unused: bool
) -> None:
    deployment = Declared(("mi", "dep"), (rule("name"),))
    other = Declared(("mi", "other"))
    tally = Tally(IgnorePolicy(today=TODAY), (deployment, other))
    tally.filter(deployment, [])
    reports = tally.report([result(deployment.key, status), result(other.key, Status.ERROR)])
    # `other` errored, but the rule never applied to it
    assert (reports[0].status is IgnoreStatus.UNUSED) is unused


def test_map_entries_and_their_problems() -> None:
    made, problems = rule_from_entry(
        {"path": "a.b", "reason": "why", "owner": "@x", "until": "2026-12-31"},
        Source.DEPLOYMENT,
        "m.yaml",
        7,
    )
    assert problems == []
    assert made is not None
    assert (made.reason, made.owner, made.until, made.line) == (
        "why",
        "@x",
        dt.date(2026, 12, 31),
        7,
    )
    _, problems = rule_from_entry(
        {"reason": "", "until": "2026-2-1", "extra": 1}, Source.MANIFEST, "m.yaml", 1
    )
    assert problems == [
        (("extra",), "unknown key 'extra' in an ignore: allowed path, reason, owner, until"),
        (("reason",), "reason: expected a non-empty string"),
        ((), "an ignore mapping needs 'path' (the pattern to ignore)"),
        (("until",), "invalid date '2026-2-1': expected YYYY-MM-DD"),
    ]


def test_unaccountable_names_what_is_lacking() -> None:
    dated = rule("a", "2026-12-31")
    plain = rule("b")
    option = IgnoreRule(parse_pattern("c"), Source.OPTION)
    assert unaccountable([dated, plain, option]) == [
        "m.yaml:3: ignore 'a' has no reason (--require-ignore-reason)",
        "m.yaml:3: ignore 'b' has no reason and no until (--require-ignore-reason)",
    ]


def test_an_unquoted_number_for_until_asks_for_a_day() -> None:
    rule, problems = rule_from_entry(
        {"path": "name", "until": 20261231}, Source.MANIFEST, "m.yaml", 3
    )
    assert rule is None
    assert problems == [(("until",), "until: expected a YYYY-MM-DD day, got 20261231")]
