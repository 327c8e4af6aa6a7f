"""Where reports go: ``--report FORMAT=PATH`` targets, report files and the job summary."""

from __future__ import annotations

import os
from dataclasses import dataclass

from driftcheck.result import RunResult


@dataclass(frozen=True)
class ReportTarget:
    format: str
    path: str


def unwritable(path: str) -> str | None:
    """Why ``path`` cannot be written, found before any request is made (None: it can)."""
    if os.path.isdir(path):
        return f"{path} is a directory"
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        return f"directory {parent} does not exist"
    if os.path.exists(path):
        return None if os.access(path, os.W_OK) else f"{path} is not writable"
    return None if os.access(parent, os.W_OK) else f"directory {parent} is not writable"


def write_text(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def append_step_summary(path: str, result: RunResult) -> None:
    """Append the Markdown report to the job summary (``$GITHUB_STEP_SUMMARY``)."""
    from driftcheck.reporters import markdown

    with open(path, "a", encoding="utf-8") as summary_file:
        summary_file.write(markdown.render(result))
