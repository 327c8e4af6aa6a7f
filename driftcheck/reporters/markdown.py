"""Markdown for a pull-request comment or a GitHub job summary."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from driftcheck.reporters._ignores import counts_line, message, needing_attention
from driftcheck.reporters._words import (
    coverage_line,
    difference_sides,
    entry_description,
    environment_heading,
    error_message,
    missing_message,
    plural,
    summary_line,
    unmanaged_message,
)
from driftcheck.result import (
    EXIT_DRIFT,
    EXIT_ERROR,
    DeploymentResult,
    DiffKind,
    RunResult,
    Status,
)

if TYPE_CHECKING:
    from driftcheck.result import Mark, Marks

VERDICTS = {EXIT_ERROR: "errors", EXIT_DRIFT: "drift detected"}
STATUS_WORDS = {
    Status.IN_SYNC: "in sync",
    Status.DRIFTED: "drifted",
    Status.MISSING: "missing",
    Status.ERROR: "error",
}

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NEWLINES = re.compile("\r\n|\r|\n|\u2028|\u2029")
# Inline Markdown syntax, table delimiters and raw HTML; ``@`` and ``#`` are escaped so that a
# deployment name cannot mention a team or link an issue from a PR comment.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&@#!])")


def text_cell(text: str) -> str:
    """Plain text safe inside a table cell: no formatting, HTML or cell breaks."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", _CONTROL.sub("", text))
    return _NEWLINES.sub("<br>", escaped)


def html_text(text: str) -> str:
    """Plain text safe inside an HTML element such as ``<summary>``."""
    return _NEWLINES.sub(" ", html.escape(_CONTROL.sub("", text), quote=False))


def code_cell(text: str) -> str:
    """*text* as an inline code span inside a table cell."""
    text = _NEWLINES.sub(" ", _CONTROL.sub("", text))
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    # A space keeps a fence from merging with a backtick at the edge; Markdown strips it again.
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    # GFM splits table cells before parsing code spans, so `|` needs escaping even in code.
    return f"{fence}{padded}{fence}".replace("|", "\\|")


def render(result: RunResult, *, color: bool = False, verbose: bool = False) -> str:
    summary = result.summary
    verdict = VERDICTS.get(result.exit_code, "in sync")
    parts = [f"### driftcheck: {verdict}"]
    if result.changed_since is not None:
        # --changed-since: what this change does leads, before what was drifted already
        from driftcheck.reporters._review import review_sections

        parts.extend(review_sections(result, code_cell, text_cell))

    listed = [d for d in result.deployments if verbose or d.status is not Status.IN_SYNC]
    unmanaged = result.unmanaged or ()
    coverage = [coverage_line(result.coverage)] if result.coverage is not None else []
    if not listed and not unmanaged and result.listing_error is None:
        parts.append(_all_in_sync(summary.total))
        parts.extend(coverage)
        parts.extend(_ignore_notes(result))
        return "\n\n".join(parts) + "\n"

    parts.append(" ".join([summary_line(summary), *coverage]))
    marks = result.marks
    if marks is not None:
        # --baseline: new findings first, the known ones after them
        listed.sort(key=lambda d: not _has_new(d, marks))
        counts = marks.counts
        parts.append(
            f"Since the baseline: **{counts['new']} new**, {counts['persisting']} persisting, "
            f"{counts['resolved']} resolved."
        )
    groups = _by_environment(listed)
    for index, (environment, members) in enumerate(groups):
        if environment is not None:
            # with environments: each one's table and differences under its own heading
            parts.append(f"#### {text_cell(environment_heading(environment).rstrip(':'))}")
        rows = ["| Deployment | Status | Details |", "| --- | --- | --- |"]
        rows.extend(
            f"| {text_cell(d.label)} | {STATUS_WORDS[d.status]}{_state(d, marks)} "
            f"| {_details(d, result)} |"
            for d in members
        )
        if index == len(groups) - 1:
            rows.extend(
                f"| {text_cell(u.label)} | unmanaged | {text_cell(unmanaged_message(u))} |"
                for u in unmanaged
            )
            if result.listing_error is not None:
                message = text_cell(result.listing_error.message)
                rows.append(f"| live listing | error | {message} |")
        parts.append("\n".join(rows))
        parts.extend(_differences(d) for d in members if d.status is Status.DRIFTED)
    if marks is not None and marks.resolved:
        items = "\n".join(f"- {text_cell(entry_description(e))}" for e in marks.resolved)
        parts.append(
            f"<details><summary>Resolved since the baseline</summary>\n\n{items}\n\n</details>"
        )
    parts.extend(_ignore_notes(result))
    return "\n\n".join(parts) + "\n"


def _by_environment(
    listed: list[DeploymentResult],
) -> list[tuple[str | None, list[DeploymentResult]]]:
    """The listed deployments by environment, in the order environments first appear (one
    group without a name when the set has no environments)."""
    groups: dict[str | None, list[DeploymentResult]] = {}
    for deployment in listed:
        groups.setdefault(deployment.environment, []).append(deployment)
    return list(groups.items()) or [(None, [])]


def _ignore_notes(result: RunResult) -> list[str]:
    """Ignores that expired, expire soon or silenced nothing, as a list after the report."""
    reports = needing_attention(result)
    if not reports:
        return []
    items = "\n".join(f"- {text_cell(message(r))}" for r in reports)
    return [f"**{counts_line(reports)}**\n\n{items}"]


def _deployment_marks(deployment: DeploymentResult, marks: Marks) -> list[Mark]:
    found = [marks.of_difference(deployment, diff) for diff in deployment.differences]
    found.append(marks.of_deployment(deployment))
    return [m for m in found if m is not None]


def _has_new(deployment: DeploymentResult, marks: Marks) -> bool:
    return any(m.is_new for m in _deployment_marks(deployment, marks))


def _state(deployment: DeploymentResult, marks: Marks | None) -> str:
    """`` (new)``, `` (persisting)`` or `` (new and persisting)`` with --baseline."""
    if marks is None:
        return ""
    states = {"new" if m.is_new else "persisting" for m in _deployment_marks(deployment, marks)}
    return f" ({' and '.join(sorted(states))})" if states else ""


def _all_in_sync(total: int) -> str:
    if total == 0:
        return "No deployments to check."
    if total == 1:
        return "The 1 deployment is in sync."
    return f"All {total} deployments in sync."


def _details(deployment: DeploymentResult, result: RunResult) -> str:
    if deployment.status is Status.DRIFTED:
        return plural(len(deployment.differences), "difference")
    if deployment.status is Status.MISSING:
        return missing_message(result)
    if deployment.status is Status.ERROR:
        return text_cell(error_message(deployment))
    return ""


def _differences(deployment: DeploymentResult) -> str:
    count = plural(len(deployment.differences), "difference")
    rows = [
        f"<details><summary>{html_text(deployment.label)} — {count}</summary>",
        "",
        "| Path | Desired | Live |",
        "| --- | --- | --- |",
    ]
    for diff in deployment.differences:
        desired, live = difference_sides(diff)
        desired_cell = "_(undeclared)_" if diff.kind is DiffKind.EXTRA_LIVE else code_cell(desired)
        live_cell = "_(absent)_" if diff.kind is DiffKind.MISSING_LIVE else code_cell(live)
        path_cell = code_cell(diff.path)
        if diff.note:
            path_cell += f"<br>{text_cell(diff.note)}"
        rows.append(f"| {path_cell} | {desired_cell} | {live_cell} |")
    rows.extend(["", "</details>"])
    return "\n".join(rows)
