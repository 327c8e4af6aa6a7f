"""How every format words ignores (DESIGN "Accountable ignores"): the JSON record, the text
footer, GitHub annotations at the ignore's line, Markdown notes and ``driftcheck ignores``.

Only ignores that need a person's attention (expired, expiring, unused) are spoken of in the
human formats; JSON lists every ignore with its count.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from driftcheck.ignore import Declared, IgnorePolicy, describe
from driftcheck.reporters._words import printable
from driftcheck.result import IgnoreReport, IgnoreStatus, RunResult

ATTENTION = (IgnoreStatus.EXPIRED, IgnoreStatus.EXPIRING, IgnoreStatus.UNUSED)
_WHAT = {
    IgnoreStatus.EXPIRED: "silences nothing any more; its differences are reported again",
    IgnoreStatus.EXPIRING: "expires soon; renew it (with a reason) or fix the drift",
    IgnoreStatus.UNUSED: "silenced nothing in this run; remove it if it is no longer needed",
    IgnoreStatus.ACTIVE: "active",
}


def ignore_json(report: IgnoreReport) -> dict[str, Any]:
    return {
        "pattern": report.pattern,
        "file": report.file,
        "line": report.line,
        "reason": report.reason,
        "owner": report.owner,
        "until": None if report.until is None else report.until.isoformat(),
        "status": report.status.value,
        "silenced": report.silenced,
    }


def needing_attention(result: RunResult) -> list[IgnoreReport]:
    return [r for r in result.ignores if r.status in ATTENTION]


def counts_line(reports: Sequence[IgnoreReport]) -> str:
    """``Ignores: 1 expired, 2 expiring, 1 unused.``"""
    parts = [
        f"{sum(r.status is status for r in reports)} {status.value}"
        for status in ATTENTION
        if any(r.status is status for r in reports)
    ]
    return f"Ignores: {', '.join(parts)}."


def headline(report: IgnoreReport) -> str:
    """``expired 2026-11-20: deployment_metadata.x (prod.yaml:5, owner @ml)``."""
    status = report.status.value
    if report.until is not None and report.status is not IgnoreStatus.UNUSED:
        status += f" {report.until.isoformat()}"
    details = [report.where]
    if report.owner:
        details.append(f"owner {report.owner}")
    return f"{status}: {report.pattern} ({', '.join(details)})"


def message(report: IgnoreReport) -> str:
    """The headline, what it means, and the reason when one was given."""
    text = f"ignore {headline(report)} {_WHAT[report.status]}"
    return text + (f" (reason: {report.reason})" if report.reason else "")


def text_footer(result: RunResult) -> list[str]:
    """Lines after the summary, only when some ignore needs attention."""
    reports = needing_attention(result)
    if not reports:
        return []
    return [counts_line(reports), *(f"  {message(r)}" for r in reports)]


def github_level(report: IgnoreReport) -> str:
    return "notice" if report.status is IgnoreStatus.UNUSED else "warning"


def render_ignores(policy: IgnorePolicy, deployments: Sequence[Declared], fmt: str) -> str:
    """``driftcheck ignores``: every rule, offline (so never ``unused``: that needs a run)."""
    today = policy.today
    reports = [describe(r, r.status_on(today)) for r in policy.rules(deployments)]
    if fmt == "json":
        document = {"today": today.isoformat(), "ignores": [ignore_json(r) for r in reports]}
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    # patterns, owners and reasons are user text: no control character reaches the terminal
    lines = ignore_table(reports, today).split("\n")[:-1]  # not splitlines: it splits at \x1c
    return "".join(printable(line) + "\n" for line in lines)


def ignore_table(reports: Sequence[IgnoreReport], today: dt.date) -> str:
    """``driftcheck ignores``: one block per ignore, then the counts."""
    if not reports:
        return "No ignores.\n"
    lines = []
    for report in reports:
        until = report.until.isoformat() if report.until else "-"
        lines.append(f"{report.status.value:<8}  {report.pattern}")
        lines.append(f"    source: {report.where} ({report.scope})")
        lines.append(f"    owner: {report.owner or '-'}  until: {until}")
        lines.append(f"    reason: {report.reason or '-'}")
    counts = {status: sum(r.status is status for r in reports) for status in IgnoreStatus}
    summary = ", ".join(f"{n} {status.value}" for status, n in counts.items() if n)
    total = len(reports)
    lines.append("")
    lines.append(f"{total} ignore{'s' if total != 1 else ''} on {today.isoformat()}: {summary}.")
    return "\n".join(lines) + "\n"
