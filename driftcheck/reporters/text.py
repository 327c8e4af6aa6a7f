"""Terraform-like text report: one block per deployment that is not in sync, then a summary.

The wording it shares with the other formats lives in ``_words.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from driftcheck.reporters._ignores import text_footer as ignore_footer
from driftcheck.reporters._review import origin_suffix, text_footer
from driftcheck.reporters._words import (
    coverage_line,
    difference_line,
    entry_description,
    environment_heading,
    error_message,
    missing_message,
    printable,
    summary_line,
    unmanaged_message,
)
from driftcheck.result import DeploymentResult, Mark, Marks, RunResult, State, Status

_YELLOW = "\x1b[33m"
_GREEN = "\x1b[32m"
_RED = "\x1b[31m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_RESET = "\x1b[0m"

_SIGIL_COLORS = {"~": _YELLOW, "+": _GREEN, "-": _RED, "!": _RED, "?": _YELLOW}


def render(result: RunResult, *, color: bool = False, verbose: bool = False) -> str:
    def paint(line: str, code: str) -> str:
        return f"{code}{line}{_RESET}" if color else line

    def sigil_line(line: str) -> str:
        return paint(line, _SIGIL_COLORS[line.lstrip()[0]])

    marks = result.marks
    if marks is None:
        blocks = _blocks(result, None, verbose, sigil_line, paint)
    else:
        # --baseline: the same blocks, grouped by what is new and what persists
        blocks = []
        for state, heading in (
            (State.NEW, "New since the baseline:"),
            (State.PERSISTING, "Persisting:"),
        ):
            group = _blocks(result, state, False, sigil_line, paint)
            if group:
                blocks.extend([*([""] if blocks else []), paint(heading, _BOLD), *group])
        if marks.resolved:
            blocks.extend([*([""] if blocks else []), paint("Resolved since the baseline:", _BOLD)])
            blocks.extend(f"  = {entry_description(entry)}" for entry in marks.resolved)
        if marks.unverified:
            blocks.extend([*([""] if blocks else []), paint("Not verified in this run:", _BOLD)])
            blocks.extend(
                f"  ? {entry_description(item.entry)}: {printable(item.reason)}"
                for item in marks.unverified
            )

    summary = [paint(summary_line(result.summary), _BOLD)]
    if result.coverage is not None:
        summary.append(coverage_line(result.coverage))
    if marks is not None:
        counts = marks.counts
        summary.append(
            f"Since the baseline: {counts['new']} new, {counts['persisting']} persisting, "
            f"{counts['resolved']} resolved."
        )
    summary.extend(text_footer(result, printable))  # --wait, --changed-since
    summary.extend(printable(line) for line in ignore_footer(result))
    lines = [*blocks, "", *summary] if blocks else summary
    return "\n".join(lines) + "\n"


def _blocks(
    result: RunResult,
    state: State | None,
    verbose: bool,
    sigil_line: Callable[[str], str],
    paint: Callable[[str, str], str],
) -> list[str]:
    """The report's blocks; with ``state``, only the findings the baseline marks so."""
    marks = result.marks

    def keep(mark: Mark | None) -> bool:
        return state is None or (mark is not None and mark.state is state)

    def since(mark: Mark | None) -> str:
        if state is State.PERSISTING and mark is not None:
            return f" (first seen {mark.first_seen})"
        return ""

    blocks: list[str] = []
    heading: str | None = None
    for deployment in result.deployments:
        own_blocks = _deployment_blocks(
            deployment, result, marks, keep, since, verbose, sigil_line, paint
        )
        environment = deployment.environment
        if own_blocks and environment is not None and environment != heading:
            # with environments, each one's blocks under its own heading
            heading = environment
            blocks.extend([*([""] if blocks else []), paint(environment_heading(heading), _BOLD)])
        blocks.extend(own_blocks)
    for entry in result.unmanaged or ():
        mark = marks.unmanaged(entry.model_instance_id, entry.deployment_id) if marks else None
        if keep(mark):
            line = f"? {printable(entry.label)} unmanaged: {unmanaged_message(entry)}"
            blocks.append(sigil_line(line + since(mark)))
    if result.listing_error is not None and state is not State.PERSISTING:
        blocks.append(sigil_line(f"! unmanaged: {printable(result.listing_error.message)}"))
    return blocks


def _deployment_blocks(
    deployment: DeploymentResult,
    result: RunResult,
    marks: Marks | None,
    keep: Callable[[Mark | None], bool],
    since: Callable[[Mark | None], str],
    verbose: bool,
    sigil_line: Callable[[str], str],
    paint: Callable[[str, str], str],
) -> list[str]:
    label = printable(deployment.label)
    own = marks.of_deployment(deployment) if marks is not None else None
    if deployment.status is Status.IN_SYNC:
        return [paint(f"  {label} in sync", _DIM)] if verbose else []
    if deployment.status is Status.DRIFTED:
        lines = []
        for diff in deployment.differences:
            mark = marks.of_difference(deployment, diff) if marks is not None else None
            if keep(mark):
                origin = origin_suffix(diff.origin)  # --changed-since
                lines.append(sigil_line(f"    {difference_line(diff)}{origin}{since(mark)}"))
        return [sigil_line(f"~ {label} drifted"), *lines] if lines else []
    if not keep(own):
        return []
    if deployment.status is Status.MISSING:
        origin = origin_suffix(deployment.origin)  # --changed-since
        return [sigil_line(f"+ {label} missing: {missing_message(result)}{origin}{since(own)}")]
    message = printable(error_message(deployment))
    return [sigil_line(f"! {label} error: {message}{since(own)}")]
