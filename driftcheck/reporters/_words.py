"""The wording every report format shares, so that each words the same finding the same way.

Values are shown as compact JSON, control characters as escapes, counts with their plural.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from driftcheck.result import (
    BaselineEntry,
    Coverage,
    DeploymentResult,
    Difference,
    DiffKind,
    Masked,
    RunResult,
    Summary,
    UnmanagedDeployment,
)

MISSING_MESSAGE = "not found on the API"
MISSING_IN_SNAPSHOT = "not found in the snapshot"
ABSENT = "(absent)"
UNDECLARED = "(undeclared)"

DIFF_SIGILS: dict[DiffKind, str] = {
    DiffKind.CHANGED: "~",
    DiffKind.MISSING_LIVE: "+",
    DiffKind.EXTRA_LIVE: "-",
}

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
    """Compact JSON: ``"64Gi"``, ``4``, ``true``, ``null``, ``{"a": 1}``, ``[1, 2]``; a masked
    sensitive value as ``(sensitive)``."""
    if isinstance(value, Masked):
        return str(value)
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


def note_suffix(diff: Difference) -> str:
    """``  [ignore expired 2026-11-20 (prod.yaml:5)]`` after a resurfaced difference."""
    return f"  [{diff.note}]" if diff.note else ""


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


def missing_message(result: RunResult) -> str:
    """Why a deployment is ``missing``: the API answered 404, or the snapshot recorded one."""
    return MISSING_IN_SNAPSHOT if result.live_from is not None else MISSING_MESSAGE


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


def environment_heading(environment: str) -> str:
    """``Environment prod:``, above each environment's findings (only with environments)."""
    return f"Environment {printable(environment)}:"
