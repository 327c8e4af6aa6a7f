"""Remediation preview: the PATCH request that would restore each drifted deployment.

Read-only by design: driftcheck never writes to the API. This only prints, for a person to
review, ``PATCH /v4/models/{mi}/deployments/{dep}`` followed by its JSON body, built from the
desired side of each difference. Whatever a body cannot express (a field live has and the
manifest leaves out, a field the API does not let clients set, a vendor configuration known
only in part) is said in a ``#`` comment line instead of being guessed.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

from driftcheck import spec
from driftcheck.live.routes import deployment_path
from driftcheck.reporters._words import (
    error_message,
    format_value,
    jsonable,
    missing_message,
    printable,
    summary_line,
)
from driftcheck.result import DeploymentResult, DiffKind, RunResult, Status

HEADER = (
    "# driftcheck remediation preview. Read-only: driftcheck never sends these requests.",
    "# Each PATCH would set the declared value of every field that drifted on one deployment;",
    "# vendor_configuration lists only the fields that differ. Review before applying.",
)

_VC = "vendor_configuration"
# Top-level fields a client may PATCH, in the order bodies list them.
PATCHABLE = ("name", _VC, *spec.FREEFORM_FIELDS)
# Fields a body leaves out, and why.
NOT_PATCHED = {
    "status": "status is set by the server and cannot be patched",
    "model_endpoint_id": "re-pointing a deployment at another endpoint is left to a person",
}
_LINE_BREAKING = re.compile("[\x7f-\x9f\u2028\u2029]")
_LLMENGINE_ONLY = frozenset(spec.VENDOR_FIELDS[spec.LLMENGINE]) - frozenset(
    spec.VENDOR_FIELDS[spec.LAUNCH]
)


def render(result: RunResult, *, color: bool = False, verbose: bool = False, **_: Any) -> str:
    blocks = ["\n".join(HEADER)]
    for deployment in result.deployments:
        label = printable(deployment.label)
        if deployment.environment is not None:
            # each environment's requests go to its own account (and base URL)
            label += f" [environment {printable(deployment.environment)}]"
        if deployment.status is Status.DRIFTED:
            blocks.append(_drifted(deployment, label))
        elif deployment.status is Status.MISSING:
            blocks.append(
                f"# + {label} missing: {missing_message(result)}; a PATCH cannot create it"
            )
        elif deployment.status is Status.ERROR:
            message = printable(error_message(deployment))
            blocks.append(f"# ! {label} error: {message}; not checked, nothing to restore")
        elif verbose:
            blocks.append(f"#   {label} in sync")
    blocks.append(f"# {summary_line(result.summary)}")
    return "\n\n".join(blocks) + "\n"


def _drifted(deployment: DeploymentResult, label: str) -> str:
    body, notes = patch_body(deployment)
    lines = [f"# ~ {label} drifted", *(f"# {printable(note)}" for note in notes)]
    if body:
        lines.append(
            f"PATCH {deployment_path(deployment.model_instance_id, deployment.deployment_id)}"
        )
        lines.append(body_json(body))
    else:
        lines.append("# nothing to PATCH")
    return "\n".join(lines)


def body_json(body: Mapping[str, Any]) -> str:
    """Indented JSON, readable (non-ASCII kept) yet one physical line per JSON line."""
    text = json.dumps(jsonable(body), indent=2, ensure_ascii=False)
    # json leaves these raw inside strings, but line-based readers (and str.splitlines) break
    # lines at them; they only occur inside strings, where an escape means the same.
    return _LINE_BREAKING.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def patch_body(deployment: DeploymentResult) -> tuple[dict[str, Any], list[str]]:
    """The request body restoring ``deployment``'s declared values, and notes on what it
    leaves out or cannot know."""
    fields: dict[str, Any] = {}
    vendor_fields: dict[str, Any] = {}
    vendor: Any = None
    vendor_whole = False
    notes: list[str] = []

    partial: list[str] = []  # maps the body sends only part of
    for diff in deployment.differences:
        # segments, not the dotted path: a free-form key "k.dot" stays one key
        segments = list(diff.segments)
        top = str(segments[0])
        if diff.sensitive:
            # a placeholder in the body would read as the value to send
            notes.append(
                f"{diff.path}: sensitive, value not shown; not patched (add it from the "
                "manifest or your secret store before sending)"
            )
        elif diff.kind is DiffKind.EXTRA_LIVE:
            notes.append(
                f"{diff.path}: live has {format_value(diff.live)} and the manifest leaves it "
                "out; not patched (removing it is a decision for a person)"
            )
        elif top == _VC and len(segments) == 1:
            declared = diff.desired if isinstance(diff.desired, Mapping) else {}
            vendor = declared.get("vendor", vendor)
            vendor_fields.update(
                {k: copy.deepcopy(v) for k, v in declared.items() if k != "vendor"}
            )
            vendor_whole = True
            notes.append(f"{_VC}: absent live; the whole declared configuration is sent")
        elif top == _VC and segments[1:] == ["vendor"]:
            vendor = diff.desired
            notes.append(
                f"{_VC}.vendor: live is {format_value(diff.live)}, declared "
                f"{format_value(diff.desired)}; only the vendor is known here: add the rest "
                f"of the declared {_VC} from the manifest before sending"
            )
        elif top == _VC:
            vendor_fields[str(segments[1])] = copy.deepcopy(diff.desired)
        elif top in PATCHABLE:
            _set(fields, segments, copy.deepcopy(diff.desired))
            if len(segments) > 1 and top not in partial:
                partial.append(top)
        else:
            why = NOT_PATCHED.get(top, "not a field this preview patches")
            notes.append(
                f"{diff.path}: declared {format_value(diff.desired)}, live "
                f"{format_value(diff.live)}; {why}"
            )
    if vendor_fields and not vendor_whole:
        partial.append(_VC)
    notes.extend(partial_note(name) for name in PATCHABLE if name in partial)

    if vendor_fields or vendor is not None:
        if vendor is None:
            vendor = _known_vendor(deployment, vendor_fields)
        if vendor is None and not vendor_whole:
            notes.append(
                f"{_VC}.vendor: the declared vendor is not recorded in this result; add "
                "'vendor' (LAUNCH or LLMENGINE) from the manifest before sending"
            )
        configuration = {"vendor": vendor} if vendor is not None else {}
        configuration.update(vendor_fields)
        fields[_VC] = configuration

    body = {name: fields[name] for name in PATCHABLE if name in fields}
    return body, notes


def partial_note(name: str) -> str:
    """Said when a body sends part of a map: a PATCH may replace a nested object whole."""
    return (
        f"{name}: the body sends only the drifted keys; the API may replace the whole map, "
        "dropping keys not listed (merge in the rest of the declared map before sending)"
    )


def _known_vendor(deployment: DeploymentResult, vendor_fields: Mapping[str, Any]) -> Any:
    """The declared vendor when the result records it, else what only one vendor could be."""
    # Not every result carries the declared vendor; when it does, it is the truth.
    recorded = getattr(deployment, "declared_vendor", None)
    if recorded is not None:
        return recorded
    if any(name in _LLMENGINE_ONLY for name in vendor_fields):
        return spec.LLMENGINE
    return None


def _set(target: dict[str, Any], segments: list[str | int], value: Any) -> None:
    """Set the value at a path, creating nested objects on the way; a list index (a list is
    compared whole, so only ever the last segment of a path) becomes a key."""
    for segment in segments[:-1]:
        child = target.get(str(segment))
        if not isinstance(child, dict):
            child = target[str(segment)] = {}
        target = child
    target[str(segments[-1])] = value
