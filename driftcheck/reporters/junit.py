"""JUnit XML: each deployment is a test case (drift or missing = failure, error = error).

Kept to the attributes the common schema (Jenkins, GitLab, GitHub test reporters) knows.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from driftcheck.reporters._words import (
    difference_line,
    error_message,
    missing_message,
    plural,
    unmanaged_message,
)
from driftcheck.result import DeploymentResult, RunResult, Status

SUITE_NAME = "driftcheck"

# Characters XML 1.0 cannot carry at all, not even as character references.
_ILLEGAL_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    return _ILLEGAL_XML.sub("", text)


def xml_body(text: str) -> str:
    # XML parsers turn a raw CR into LF anyway; say so explicitly.
    return xml_text(text).replace("\r\n", "\n").replace("\r", "\n")


def render(result: RunResult, *, color: bool = False, verbose: bool = False) -> str:
    summary = result.summary
    unmanaged = result.unmanaged or ()
    listing_failed = result.listing_error is not None
    counts = {
        "tests": str(summary.total + len(unmanaged) + listing_failed),
        "failures": str(summary.drifted + summary.missing + len(unmanaged)),
        "errors": str(summary.error + listing_failed),
    }
    elapsed = _seconds(result.started_at, result.finished_at)
    root = ET.Element("testsuites", {"name": SUITE_NAME, **counts, "time": elapsed})
    groups: dict[str | None, list[DeploymentResult]] = {}
    for deployment in result.deployments:
        groups.setdefault(deployment.environment, []).append(deployment)
    named = list(groups.items()) if any(name is not None for name in groups) else []
    if not named:
        named = [(None, list(result.deployments))]
    for index, (environment, members) in enumerate(named):
        # with environments, one test suite per environment; the live listing goes last
        last = index == len(named) - 1
        suite_name = SUITE_NAME if environment is None else f"{SUITE_NAME} [{environment}]"
        stamp = _timestamp(result.started_at)
        _suite(
            root,
            suite_name,
            members,
            result if last else None,
            (elapsed, stamp),
            missing_message(result),
        )
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _suite(
    root: ET.Element,
    name: str,
    deployments: list[DeploymentResult],
    listing: RunResult | None,
    timing: tuple[str, str],
    missing: str,
) -> None:
    """One test suite; ``listing`` (the run) adds its unmanaged deployments and listing error."""
    unmanaged = (listing.unmanaged or ()) if listing is not None else ()
    listing_error = listing.listing_error if listing is not None else None
    failed = sum(d.status in (Status.DRIFTED, Status.MISSING) for d in deployments)
    errors = sum(d.status is Status.ERROR for d in deployments)
    counts = {
        "tests": str(len(deployments) + len(unmanaged) + (listing_error is not None)),
        "failures": str(failed + len(unmanaged)),
        "errors": str(errors + (listing_error is not None)),
    }
    elapsed, started = timing
    suite = ET.SubElement(
        root,
        "testsuite",
        {"name": name, **counts, "skipped": "0", "time": elapsed, "timestamp": started},
    )
    for deployment in deployments:
        _testcase(suite, deployment, missing)
    for entry in unmanaged:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": "unmanaged", "name": xml_text(entry.label), "time": "0"},
        )
        message = xml_text(unmanaged_message(entry))
        failure = ET.SubElement(case, "failure", {"message": message, "type": "unmanaged"})
        failure.text = xml_body(f"{entry.label} unmanaged: {message}")
    if listing_error is not None:
        case = ET.SubElement(
            suite, "testcase", {"classname": "unmanaged", "name": "live listing", "time": "0"}
        )
        message = xml_text(listing_error.message)
        kind = listing_error.kind.value
        ET.SubElement(case, "error", {"message": message, "type": kind}).text = message


def _testcase(suite: ET.Element, deployment: DeploymentResult, missing: str) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        {
            "classname": xml_text(deployment.location.file),
            "name": xml_text(deployment.label),
            "time": "0",
        },
    )
    if deployment.status is Status.DRIFTED:
        count = plural(len(deployment.differences), "difference")
        failure = ET.SubElement(
            case, "failure", {"message": f"drifted: {count}", "type": Status.DRIFTED.value}
        )
        failure.text = xml_body("\n".join(difference_line(d) for d in deployment.differences))
    elif deployment.status is Status.MISSING:
        failure = ET.SubElement(
            case,
            "failure",
            {"message": f"missing: {missing}", "type": Status.MISSING.value},
        )
        failure.text = xml_body(f"{deployment.label} missing: {missing}")
    elif deployment.status is Status.ERROR:
        message = xml_text(error_message(deployment))
        kind = deployment.error.kind.value if deployment.error is not None else "unknown"
        error = ET.SubElement(case, "error", {"message": message, "type": kind})
        error.text = xml_body(message) + _error_details(deployment)


def _error_details(deployment: DeploymentResult) -> str:
    info = deployment.error
    if info is None:
        return ""
    details = []
    if info.http_status is not None:
        details.append(f"HTTP status: {info.http_status}")
    if info.attempts is not None:
        details.append(f"attempts: {info.attempts}")
    return "".join(f"\n{line}" for line in details)


def _seconds(start: dt.datetime, end: dt.datetime) -> str:
    return f"{max((end - start).total_seconds(), 0.0):.3f}"


def _timestamp(moment: dt.datetime) -> str:
    # The JUnit schema's timestamp has no zone designator: write UTC without the "Z".
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
