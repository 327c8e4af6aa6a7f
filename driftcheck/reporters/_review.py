"""The reviewer's lead of a Markdown PR comment with ``--changed-since``.

A reviewer must tell what the pull request will do from what was already drifted before it:
"This change will…" comes first, "Already drifted" after it, then the usual table.
"""

from __future__ import annotations

from collections.abc import Callable

from driftcheck.reporters._words import (
    MISSING_MESSAGE,
    difference_sides,
    missing_message,
    plural,
)
from driftcheck.result import (
    Difference,
    DiffKind,
    Origin,
    RemovedDeployment,
    RunResult,
    Status,
)

THIS_CHANGE_TITLE = "#### This change will…"
ALREADY_TITLE = "#### Already drifted"


def review_sections(
    result: RunResult, code_cell: Callable[[str], str], text_cell: Callable[[str], str]
) -> list[str]:
    """``code_cell``/``text_cell`` are the Markdown reporter's escapers, passed in so this
    module does not import the reporter that imports it."""
    scope = result.changed_since
    if scope is None:
        return []
    will: list[str] = []
    already: list[str] = []
    for deployment in result.deployments:
        label = text_cell(deployment.label)
        if deployment.status is Status.MISSING:
            line = f"- create {label}: {missing_message(result)}"
            (will if deployment.origin is Origin.THIS_CHANGE else already).append(line)
        for diff in deployment.differences:
            if diff.origin is Origin.PRE_EXISTING:
                already.append(f"- {label}: {_already(diff, code_cell)}")
            else:
                will.append(f"- {label}: {_will(diff, code_cell)}")
    will.extend(_removed(entry, code_cell, text_cell) for entry in result.removed or ())
    parts = [THIS_CHANGE_TITLE]
    if will:
        parts.append("\n".join(will))
    else:
        parts.append("…move nothing away from what live has.")
    parts.append(ALREADY_TITLE)
    if already:
        parts.append(
            "Drift that was there before this change (live already differed at "
            f"{code_cell(scope.ref)}):\n\n" + "\n".join(already)
        )
    else:
        parts.append(f"Nothing: live matched {code_cell(scope.ref)} where this change looks.")
    if scope.unchanged and not scope.checked_all:
        parts.append(
            f"{plural(scope.unchanged, 'deployment')} whose declaration did not change since "
            f"{code_cell(scope.ref)} {'was' if scope.unchanged == 1 else 'were'} not checked "
            "(`--all` checks them)."
        )
    return parts


def _will(diff: Difference, code_cell: Callable[[str], str]) -> str:
    desired, live = difference_sides(diff)
    path = code_cell(diff.path)
    if diff.kind is DiffKind.EXTRA_LIVE:
        return f"stop declaring {path} (live has {code_cell(live)})"
    if diff.kind is DiffKind.MISSING_LIVE:
        return f"declare {path} = {code_cell(desired)} (live has none)"
    return f"set {path} to {code_cell(desired)} (live has {code_cell(live)})"


def _already(diff: Difference, code_cell: Callable[[str], str]) -> str:
    desired, live = difference_sides(diff)
    return f"{code_cell(diff.path)}: desired {code_cell(desired)}, live {code_cell(live)}"


def _removed(
    entry: RemovedDeployment, code_cell: Callable[[str], str], text_cell: Callable[[str], str]
) -> str:
    state = text_cell(removed_state(entry))
    return (
        f"- stop declaring {text_cell(entry.label)} ({state}); "
        "removing a declaration deletes nothing"
    )


def removed_state(entry: RemovedDeployment) -> str:
    """What live has for a deployment the change stops declaring, in plain words."""
    if entry.error is not None:
        return f"live state unknown: {entry.error.message}"
    if not entry.found:
        return MISSING_MESSAGE
    return f"live status {entry.live_status or 'unknown'}"


# ---------------------------------------------------------------------------------------------
# Text report


ORIGIN_WORDS = {Origin.THIS_CHANGE: " (this change)", Origin.PRE_EXISTING: " (already drifted)"}


def origin_suffix(origin: Origin | None) -> str:
    return ORIGIN_WORDS.get(origin, "") if origin is not None else ""


def text_footer(result: RunResult, printable: Callable[[str], str]) -> list[str]:
    """Summary lines of --wait and --changed-since for the text report (none otherwise)."""
    lines = []
    scope = result.changed_since
    if scope is not None:
        ref = printable(scope.ref)
        if scope.checked_all:
            lines.append(f"Checked every deployment; origins against {ref}.")
        else:
            lines.append(
                f"Checked deployments changed since {ref}; "
                f"{plural(scope.unchanged, 'unchanged deployment')} not checked (--all)."
            )
    for entry in result.removed or ():
        state = printable(removed_state(entry))
        lines.append(f"- {printable(entry.label)} removed by this change: {state}")
    if result.waited_s is not None:
        lines.append(f"Waited {result.waited_s:g} s for rollouts.")
    return lines
