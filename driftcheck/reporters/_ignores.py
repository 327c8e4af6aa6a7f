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
    reports = [
        describe(rule, rule.status_on(today), scope=scope)
        for rule, scope in policy.scopes(deployments).items()
    ]
    if fmt == "json":
        document = {"today": today.isoformat(), "ignores": [ignore_json(r) for r in reports]}
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    # patterns, owners and reasons are user text: no control character reaches the terminal
    lines = ignore_table(reports, today).split("\n")[:-1]  # not splitlines: it splits at \x1c
    return "".join(printable(line) + "\n" for line in lines)


def ignore_table(reports: Sequence[IgnoreReport], today: dt.date) -> str:
    """``driftcheck ignores``: one line per ignore (easy to grep), columns aligned, the reason
    last; then the counts."""
    if not reports:
        return f"No ignores on {today.isoformat()}.\n"
    header = ("STATUS", "UNTIL", "OWNER", "SOURCE", "APPLIES TO", "PATTERN")
    rows = [
        (
            r.status.value,
            r.until.isoformat() if r.until else "-",
            r.owner or "-",
            r.where,
            r.scope,
            r.pattern,
        )
        for r in reports
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    lines = []
    for row, reason in ((header, None), *zip(rows, (r.reason for r in reports), strict=True)):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        line = "  ".join([*cells, row[-1]])
        lines.append(line + (f"  # {reason}" if reason else ""))
    counts = {status: sum(r.status is status for r in reports) for status in IgnoreStatus}
    summary = ", ".join(f"{n} {status.value}" for status, n in counts.items() if n)
    total = len(reports)
    lines.append("")
    lines.append(f"{total} ignore{'s' if total != 1 else ''} on {today.isoformat()}: {summary}.")
    return "\n".join(lines) + "\n"
