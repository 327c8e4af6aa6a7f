"""GitHub Actions workflow commands: annotations on the manifest lines that drifted."""

from __future__ import annotations

import re
from collections.abc import Mapping

from driftcheck.reporters.text import (
    MISSING_MESSAGE,
    coverage_line,
    difference_sides,
    error_message,
    summary_line,
    unmanaged_message,
)
from driftcheck.result import RunResult, SourceLocation, Status

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


def render(result: RunResult, *, color: bool = False, verbose: bool = False) -> str:
    lines: list[str] = []
    for deployment in result.deployments:
        location = deployment.location
        label = deployment.label
        if deployment.status is Status.DRIFTED:
            for diff in deployment.differences:
                desired, live = difference_sides(diff)
                message = f"{diff.path}: {desired} -> {live} (desired -> live)"
                lines.append(
                    command("error", message, _where(location, diff.line, f"drift: {label}"))
                )
        elif deployment.status is Status.MISSING:
            where = _where(location, location.line, f"missing: {label}")
            lines.append(command("error", MISSING_MESSAGE, where))
        elif deployment.status is Status.ERROR:
            where = _where(location, location.line, f"error: {label}")
            lines.append(command("error", error_message(deployment), where))
    for entry in result.unmanaged or ():
        lines.append(
            command("error", unmanaged_message(entry), {"title": f"unmanaged: {entry.label}"})
        )
    if result.listing_error is not None:
        lines.append(
            command("error", result.listing_error.message, {"title": "unmanaged: listing failed"})
        )
    notice = summary_line(result.summary)
    if result.coverage is not None:
        notice += " " + coverage_line(result.coverage)
    lines.append(command("notice", notice))
    return "\n".join(lines) + "\n"


def append_step_summary(result: RunResult, environ: Mapping[str, str]) -> bool:
    """Append the Markdown report to ``$GITHUB_STEP_SUMMARY`` when the job provides one.

    Returns whether it did; an unwritable summary file raises :class:`OSError`.
    """
    path = environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    from driftcheck.reporters import markdown

    with open(path, "a", encoding="utf-8") as summary_file:
        summary_file.write(markdown.render(result))
    return True
