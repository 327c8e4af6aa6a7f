"""GitHub Actions workflow commands: annotations on the manifest lines that drifted."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from driftcheck.reporters._ignores import github_level, needing_attention
from driftcheck.reporters._ignores import message as message_of
from driftcheck.reporters._words import (
    coverage_line,
    difference_sides,
    entry_description,
    error_message,
    missing_message,
    note_suffix,
    summary_line,
    unmanaged_message,
)
from driftcheck.result import RunResult, SourceLocation, Status

if TYPE_CHECKING:
    from driftcheck.result import Mark

# Other control characters have no escape in the command syntax; NUL or ESC in a job log only
# garbles it, so they are dropped.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape_data(text: str) -> str:
    """Escape a command's message so it cannot end the command or start another one."""
    text = _CONTROL.sub("", text)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a ``key=value`` property, where ``:`` and ``,`` are delimiters too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, properties: Mapping[str, str] | None = None) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in (properties or {}).items())
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _where(location: SourceLocation, line: int, title: str) -> dict[str, str]:
    properties = {"file": location.file}
    if line > 0:
        properties["line"] = str(line)
    properties["title"] = title
    return properties


def _level(mark: Mark | None) -> tuple[str, str]:
    """With --baseline, known findings are warnings and new ones errors (title prefixed)."""
    if mark is None:
        return "error", ""
    if mark.is_new:
        return "error", "new "
    return "warning", "persisting "


def render(result: RunResult, *, color: bool = False, verbose: bool = False) -> str:
    lines: list[str] = []
    marks = result.marks
    for deployment in result.deployments:
        location = deployment.location
        label = deployment.label
        if deployment.environment is not None:
            label = f"{label} [{deployment.environment}]"
        own = _level(marks.of_deployment(deployment) if marks else None)
        if deployment.status is Status.DRIFTED:
            for diff in deployment.differences:
                desired, live = difference_sides(diff)
                message = f"{diff.path}: {desired} -> {live} (desired -> live){note_suffix(diff)}"
                level, prefix = _level(marks.of_difference(deployment, diff) if marks else None)
                at = location if diff.file is None else SourceLocation(diff.file, diff.line)
                where = _where(at, diff.line, f"{prefix}drift: {label}")
                lines.append(command(level, message, where))
        elif deployment.status is Status.MISSING:
            where = _where(location, location.line, f"{own[1]}missing: {label}")
            lines.append(command(own[0], missing_message(result), where))
        elif deployment.status is Status.ERROR:
            # an error is never only a warning: the run could not decide
            where = _where(location, location.line, f"{own[1]}error: {label}")
            lines.append(command("error", error_message(deployment), where))
    for entry in result.unmanaged or ():
        mark = marks.unmanaged(entry.model_instance_id, entry.deployment_id) if marks else None
        level, prefix = _level(mark)
        title = {"title": f"{prefix}unmanaged: {entry.label}"}
        lines.append(command(level, unmanaged_message(entry), title))
    for resolved in marks.resolved if marks else ():
        lines.append(
            command("notice", f"resolved since the baseline: {entry_description(resolved)}")
        )
    if result.listing_error is not None:
        lines.append(
            command("error", result.listing_error.message, {"title": "unmanaged: listing failed"})
        )
    for ignore in needing_attention(result):
        where = {"file": ignore.file} if ignore.file is not None else {}
        if ignore.line is not None:
            where["line"] = str(ignore.line)
        where["title"] = f"ignore {ignore.status.value}"
        lines.append(command(github_level(ignore), message_of(ignore), where))
    notice = summary_line(result.summary)
    if result.coverage is not None:
        notice += " " + coverage_line(result.coverage)
    lines.append(command("notice", notice))
    return "\n".join(lines) + "\n"
