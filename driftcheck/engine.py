"""The check itself: desired state + live source -> :class:`RunResult`."""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from driftcheck.baseline import Baseline, mark
from driftcheck.diff import compare
from driftcheck.digests import hash_declared
from driftcheck.ignore import IgnorePolicy, Tally
from driftcheck.live.records import Fetched, ListScope, LiveSource, NotFound, Outcome, Progress
from driftcheck.manifest import DesiredDeployment, DesiredState
from driftcheck.result import (
    Coverage,
    DeploymentResult,
    Difference,
    ErrorInfo,
    ErrorKind,
    FailOn,
    RunResult,
    SourceLocation,
    Status,
    UnmanagedDeployment,
    format_timestamp,
)
from driftcheck.sensitive import NO_POLICY, SensitivePolicy, collapsed, mask_run
from driftcheck.spec import InvalidResponse, parse_live


def check(
    desired: DesiredState,
    source: LiveSource,
    *,
    strict: bool = False,
    policy: IgnorePolicy | None = None,
    progress: Progress | None = None,
    fetch_mode: str = "auto",
    unmanaged: ListScope | None = None,
    baseline: Baseline | None = None,
    fail_on: FailOn = "any",
    version: str = "",
    live_from: str | None = None,
    declared: DesiredState | None = None,
    tally: Tally | None = None,
    sensitive: SensitivePolicy = NO_POLICY,
    reveal: bool = False,
) -> RunResult:
    """``baseline`` marks each finding new or persisting; ``version`` is the driftcheck
    version the reports name (passed in, so that nothing here reads package state);
    ``live_from`` names the snapshot the source reads, for the reports' wording;
    ``declared`` is the whole declared set when ``desired`` is a part of it; ``tally``
    (instead of ``policy``) counts across several checks of one run (``--wait``).

    Sensitive values are masked unless ``reveal`` (``--show-sensitive``: the caller then masks
    every output but the terminal's text report with ``mask_run``)."""
    started = dt.datetime.now(dt.timezone.utc)
    keys = [d.key for d in desired.deployments]
    collected = source.collect(keys, mode=fetch_mode, scope=unmanaged, progress=progress)
    everything = (declared or desired).deployments
    tally = tally or Tally(policy or IgnorePolicy(), desired.deployments, everything)
    results = tuple(
        judge(deployment, outcome, strict=strict, tally=tally, sensitive=sensitive)
        for deployment, outcome in zip(desired.deployments, collected.outcomes, strict=True)
    )
    found, coverage, listing_error = None, None, None
    if collected.listing is not None:
        listing = collected.listing
        if listing.error is not None:
            listing_error = replace(
                listing.error,
                message=f"could not list live deployments ({listing.scope.describe()}): "
                f"{listing.error.message}",
            )
        else:
            found, coverage = find_unmanaged(listing.items, desired)
    marks = None
    if baseline is not None:
        marks = mark(results, found, baseline, format_timestamp(started))
    result = RunResult(
        deployments=results,
        started_at=started,
        finished_at=dt.datetime.now(dt.timezone.utc),
        source=source.description,
        unmanaged=found,
        coverage=coverage,
        listing_error=listing_error,
        marks=marks,
        fail_on=fail_on,
        version=version,
        live_from=live_from,
        ignores=tally.report(results),
    )
    return result if reveal else mask_run(result, desired.deployments, sensitive)


def find_unmanaged(
    items: Iterable[dict[str, Any]], desired: DesiredState
) -> tuple[tuple[UnmanagedDeployment, ...], Coverage]:
    """Live deployments no manifest declares, less those ``unmanaged-ignore`` silences."""
    declared = {d.key for d in desired.deployments}
    declared_ids = {d.deployment_id for d in desired.deployments}
    # listed per environment (several accounts): declared there, not merely somewhere
    scoped = {(d.environment, *d.key) for d in desired.deployments}
    scoped_ids = {(d.environment, d.deployment_id) for d in desired.deployments}
    unmanaged: list[UnmanagedDeployment] = []
    live = 0
    declared_live = 0
    for item in items:
        live += 1
        mi, dep = item.get("model_instance_id"), item["id"]
        environment = getattr(item, "environment", None)
        if environment is None:
            # a list item without its model instance can still be matched by its id
            known = (mi, dep) in declared or (mi is None and dep in declared_ids)
        else:
            known = (environment, mi, dep) in scoped or (
                mi is None and (environment, dep) in scoped_ids
            )
        if known:
            declared_live += 1
            continue
        name = item.get("name")
        entry = UnmanagedDeployment(
            model_instance_id=mi if isinstance(mi, str) else None,
            deployment_id=dep,
            name=name if isinstance(name, str) else None,
            created_at=_text(item.get("created_at")),
            created_by=_text(item.get("created_by_user_id")),
            environment=environment,
        )
        if not _silenced(entry, desired.unmanaged_ignore):
            unmanaged.append(entry)
    return tuple(unmanaged), Coverage(declared_live=declared_live, live=live)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _silenced(entry: UnmanagedDeployment, patterns: tuple[str, ...]) -> bool:
    candidates = [entry.deployment_id, entry.key]
    if entry.name:
        candidates.append(entry.name)
    return any(fnmatch.fnmatchcase(c, p) for p in patterns for c in candidates)


def judge(
    deployment: DesiredDeployment,
    outcome: Outcome,
    *,
    strict: bool = False,
    tally: Tally | None = None,
    sensitive: SensitivePolicy = NO_POLICY,
) -> DeploymentResult:
    """Exactly one status for one declared deployment."""
    if isinstance(outcome, NotFound):
        return _result(deployment, Status.MISSING)
    if not isinstance(outcome, Fetched):
        return _result(deployment, Status.ERROR, error=outcome.error)
    try:
        live = parse_live(outcome.body, deployment.model_instance_id, deployment.deployment_id)
    except InvalidResponse as exc:
        error = ErrorInfo(
            ErrorKind.INVALID_RESPONSE,
            f"response is not the requested deployment: {exc}",
            http_status=outcome.http_status,
            attempts=outcome.attempts or None,
        )
        return _result(deployment, Status.ERROR, error=error)
    rule, compared, compared_live = sensitive.rule_for(deployment), deployment, live
    if sensitive.salt is not None:
        # a snapshot holds sensitive values as digests: compare the declared ones as digests
        compared, compared_live, hashed = hash_declared(deployment, live, sensitive.salt)
        if hashed:
            rule = replace(rule, paths=rule.paths | hashed, declared=deployment.fields)
    found = compare(compared, compared_live, strict=strict)
    tally = tally or Tally(IgnorePolicy(), (deployment,))
    # every difference is flagged here, the one way in: a secret is never left unflagged
    differences = collapsed(rule.flag(d.segments, d) for d in tally.filter(deployment, found))
    live_name = live.get("name")
    return _result(
        deployment,
        Status.DRIFTED if differences else Status.IN_SYNC,
        differences=differences,
        name=live_name if isinstance(live_name, str) else None,
    )


def _result(
    deployment: DesiredDeployment,
    status: Status,
    *,
    differences: tuple[Difference, ...] = (),
    error: ErrorInfo | None = None,
    name: str | None = None,
) -> DeploymentResult:
    """The declared name wins; the live one only labels a deployment that declares none."""
    declared = deployment.fields.get("vendor_configuration")
    return DeploymentResult(
        declared_vendor=declared.get("vendor") if isinstance(declared, dict) else None,
        model_instance_id=deployment.model_instance_id,
        deployment_id=deployment.deployment_id,
        name=deployment.name or name,
        location=SourceLocation(deployment.file, deployment.line),
        status=status,
        differences=differences,
        error=error,
        environment=deployment.environment,
    )
