"""Paths into a deployment and the patterns that select them (ignore and sensitive patterns).

A path is a tuple of *segments*: map keys (``str``) and list indices (``int``). Its dotted
spelling (``deployment_metadata.team``) is what reports show, but it is ambiguous when a key
contains a dot, so matching always works on segments.

Pattern syntax::

    deployment_metadata.last_rollout      # segments separated by dots
    vendor_configuration.*                # '*' alone matches any one segment

A pattern also covers everything below the path it names.
An integer segment matches a list index by its text (``layers.0``).
"""

from __future__ import annotations

from dataclasses import dataclass

Segment = str | int
TreePath = tuple[Segment, ...]


class PatternError(ValueError):
    pass


@dataclass(frozen=True)
class PathPattern:
    """A parsed pattern. ``segments`` holds each literal key, or None for a ``*`` wildcard."""

    text: str
    segments: tuple[str | None, ...]

    def covers(self, path: TreePath) -> bool:
        """Whether ``path`` is the path this pattern names, or lies below it."""
        if len(path) < len(self.segments):
            return False
        return all(
            want is None or want == str(part)
            for want, part in zip(self.segments, path, strict=False)
        )


def parse_pattern(text: str) -> PathPattern:
    """Parse ``text``; :class:`PatternError` says what is wrong with it."""
    if not text or text.strip() != text:
        raise PatternError("must be a non-empty dotted path without surrounding spaces")
    segments = tuple(text.split("."))
    for segment in segments:
        if not segment:
            raise PatternError("empty segment (two dots in a row, or a leading/trailing dot)")
        if "*" in segment and segment != "*":
            raise PatternError(f"'*' must be a whole segment, not part of {segment!r}")
        if any(ch.isspace() for ch in segment):
            raise PatternError(f"segment {segment!r} contains white space")
    return PathPattern(text, tuple(None if s == "*" else s for s in segments))


def dotted(path: TreePath) -> str:
    """The display spelling of a path: segments joined with dots, as reports always showed."""
    return ".".join(str(part) for part in path)
