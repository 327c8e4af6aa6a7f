"""Terraform-like text report: one block per deployment that is not in sync, then a summary.

The value, difference and summary helpers here are shared by the other formats so that every
report words the same finding the same way.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from driftcheck.baseline import State
from driftcheck.reporters._ignores import note_suffix, text_footer

if TYPE_CHECKING:
    from driftcheck.baseline import BaselineEntry, Mark

from driftcheck.result import (
    Coverage,
    DeploymentResult,
    Difference,
    DiffKind,
    RunResult,
    Status,
    Summary,
    UnmanagedDeployment,
)

MISSING_MESSAGE = "not found on the API"
ABSENT = "(absent)"
UNDECLARED = "(undeclared)"

DIFF_SIGILS: dict[DiffKind, str] = {
    DiffKind.CHANGED: "~",
    DiffKind.MISSING_LIVE: "+",
    DiffKind.EXTRA_LIVE: "-",
}

_YELLOW = "\x1b[33m"
_GREEN = "\x1b[32m"
_RED = "\x1b[31m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_RESET = "\x1b[0m"

_SIGIL_COLORS = {"~": _YELLOW, "+": _GREEN, "-": _RED, "!": _RED, "?": _YELLOW}

# Names and messages come from manifests and API responses: a stray newline would break the
# one-line-per-finding layout and an ESC could drive the reader's terminal.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """*text* with control characters shown as escapes (``\\n``, ``\\u001b``)."""
    return _UNPRINTABLE.sub(
        lambda match: _NAMED_ESCAPES.get(match.group(), f"\\u{ord(match.group()):04x}"), text
    )


def jsonable(value: Any) -> Any:
    """*value* as plain JSON data; anything JSON cannot carry becomes its ``str()``."""
    return _jsonable(value, set())


def _jsonable(value: Any, ancestors: set[int]) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        # NaN and infinities are not JSON; YAML can spell them (.nan, .inf).
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (Mapping, list, tuple)):
        # YAML anchors can build self-referencing structures.
        if id(value) in ancestors:
            return "[circular]"
        ancestors.add(id(value))
        try:
            if isinstance(value, Mapping):
                return {_json_key(k): _jsonable(v, ancestors) for k, v in value.items()}
            return [_jsonable(item, ancestors) for item in value]
        finally:
            ancestors.discard(id(value))
    return str(value)


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    return str(key)


def format_value(value: Any) -> str:
    """Compact JSON: ``"64Gi"``, ``4``, ``true``, ``null``, ``{"a": 1}``, ``[1, 2]``."""
    rendered = json.dumps(jsonable(value), ensure_ascii=False, separators=(", ", ": "))
    return printable(rendered)


def difference_sides(diff: Difference) -> tuple[str, str]:
    """The desired and live side of *diff* as displayed, with placeholders for absent sides."""
    desired = UNDECLARED if diff.kind is DiffKind.EXTRA_LIVE else format_value(diff.desired)
    live = ABSENT if diff.kind is DiffKind.MISSING_LIVE else format_value(diff.live)
    return desired, live


def difference_line(diff: Difference) -> str:
    """``~ path: desired -> live`` without indentation."""
    desired, live = difference_sides(diff)
    line = f"{DIFF_SIGILS[diff.kind]} {printable(diff.path)}: {desired} -> {live}"
    return line + printable(note_suffix(diff))


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 deployment`` / ``2 deployments``."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


def summary_line(summary: Summary) -> str:
    """``4 deployments: 1 in sync, 1 drifted, 1 missing, 1 error.`` (``, 2 unmanaged`` with
    ``--unmanaged``)."""
    unmanaged = "" if summary.unmanaged is None else f", {summary.unmanaged} unmanaged"
    return (
        f"{plural(summary.total, 'deployment')}: {summary.in_sync} in sync, "
        f"{summary.drifted} drifted, {summary.missing} missing, "
        f"{plural(summary.error, 'error')}{unmanaged}."
    )


def coverage_line(coverage: Coverage) -> str:
    """``Coverage: 3 of 4 live deployments declared (75.0%).``"""
    return (
        f"Coverage: {coverage.declared_live} of {plural(coverage.live, 'live deployment')} "
        f"declared ({coverage.percent:.1f}%)."
    )


def unmanaged_message(entry: UnmanagedDeployment) -> str:
    """``not declared in any manifest (created 2026-01-01T00:00:00Z by user_1)``."""
    origin = []
    if entry.created_at:
        origin.append(f"created {entry.created_at}")
    if entry.created_by:
        origin.append(f"by {entry.created_by}")
    suffix = f" ({' '.join(origin)})" if origin else ""
    return printable(f"not declared in any manifest{suffix}")


def error_message(deployment: DeploymentResult) -> str:
    return deployment.error.message if deployment.error is not None else "unknown error"


def entry_description(entry: BaselineEntry) -> str:
    """``llama (mi/dep) vendor_configuration.gpus`` for a finding of a baseline run."""
    key = entry.key
    where = f"{key.model_instance_id or '?'}/{key.deployment_id}"
    label = f"{entry.name} ({where})" if entry.name else where
    detail = {
        "difference": key.path or "",
        "missing": "missing",
        "error": f"error ({key.kind})",
        "unmanaged": "unmanaged",
    }[key.type.value]
    return printable(f"{label} {detail}")


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
    summary.extend(printable(line) for line in text_footer(result))
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
    for deployment in result.deployments:
        label = printable(deployment.label)
        own = marks.of_deployment(deployment) if marks is not None else None
        if deployment.status is Status.IN_SYNC:
            if verbose:
                blocks.append(paint(f"  {label} in sync", _DIM))
        elif deployment.status is Status.DRIFTED:
            lines = []
            for diff in deployment.differences:
                mark = marks.of_difference(deployment, diff) if marks is not None else None
                if keep(mark):
                    lines.append(sigil_line(f"    {difference_line(diff)}{since(mark)}"))
            if lines:
                blocks.append(sigil_line(f"~ {label} drifted"))
                blocks.extend(lines)
        elif not keep(own):
            continue
        elif deployment.status is Status.MISSING:
            blocks.append(sigil_line(f"+ {label} missing: {MISSING_MESSAGE}{since(own)}"))
        else:
            message = printable(error_message(deployment))
            blocks.append(sigil_line(f"! {label} error: {message}{since(own)}"))
    for entry in result.unmanaged or ():
        mark = marks.unmanaged(entry.model_instance_id, entry.deployment_id) if marks else None
        if keep(mark):
            line = f"? {printable(entry.label)} unmanaged: {unmanaged_message(entry)}"
            blocks.append(sigil_line(line + since(mark)))
    if result.listing_error is not None and state is not State.PERSISTING:
        blocks.append(sigil_line(f"! unmanaged: {printable(result.listing_error.message)}"))
    return blocks
