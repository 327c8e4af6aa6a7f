"""Paths into a deployment and the patterns that select them (ignore and sensitive patterns).

A path is a tuple of *segments*: map keys (``str``) and list indices (``int``). Its dotted
spelling (``deployment_metadata.team``) is what reports show, but it is ambiguous when a key
contains a dot, so matching always works on segments.

Pattern syntax::

    deployment_metadata.last_rollout      # segments separated by dots
    vendor_configuration.*                # '*' alone matches any one segment
    deployment_metadata."k.dot"           # a quoted segment is one key, dots and all
    deployment_metadata."a \\"b\\""          # inside quotes, \\" is a quote and \\\\ a backslash

A pattern also covers everything below the path it names. A quoted ``"*"`` is a literal star.
An integer segment matches a list index by its text (``layers.0``).
"""

from __future__ import annotations

from dataclasses import dataclass

Segment = str | int
TreePath = tuple[Segment, ...]

# The same grammar as a regular expression, for the manifest's JSON Schema (editors); a test
# checks it accepts exactly what parse_pattern accepts.
_SEGMENT_RE = r'(?:\*|[^.\s"*]+|"(?:[^"\\]|\\["\\])*")'
PATTERN_REGEX = rf"^{_SEGMENT_RE}(?:\.{_SEGMENT_RE})*$"


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
    segments: list[str | None] = []
    index = 0
    while True:
        segment, index = _segment(text, index)
        segments.append(segment)
        if index == len(text):
            return PathPattern(text, tuple(segments))
        # _segment stops only at a dot or the end
        index += 1
        if index == len(text):
            raise PatternError("empty segment (two dots in a row, or a leading/trailing dot)")


def _segment(text: str, start: int) -> tuple[str | None, int]:
    """One segment from ``start``: its key (None for ``*``) and the index after it."""
    if text.startswith('"', start):
        return _quoted(text, start)
    end = text.find(".", start)
    end = len(text) if end < 0 else end
    raw = text[start:end]
    if not raw:
        raise PatternError("empty segment (two dots in a row, or a leading/trailing dot)")
    if raw == "*":
        return None, end
    if "*" in raw:
        raise PatternError(
            f"'*' must be a whole segment, not part of {raw!r} (quote a key with a star)"
        )
    if any(ch.isspace() for ch in raw):
        raise PatternError(f"segment {raw!r} contains white space (quote a key with spaces)")
    if '"' in raw:
        raise PatternError(f"segment {raw!r}: a quote may only open a whole segment")
    return raw, end


def _quoted(text: str, start: int) -> tuple[str, int]:
    out: list[str] = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\":
            escaped = text[index + 1 : index + 2]
            if escaped not in ('"', "\\"):
                raise PatternError('inside quotes, a backslash may only escape \\" or \\\\')
            out.append(escaped)
            index += 2
            continue
        if char == '"':
            index += 1
            if index < len(text) and text[index] != ".":
                raise PatternError("a quoted segment must be followed by '.' or the end")
            return "".join(out), index
        out.append(char)
        index += 1
    raise PatternError("unterminated quote")


def split_pattern(text: str) -> tuple[str, str]:
    """The pattern at the start of ``text`` (up to white space outside quotes) and the rest:
    how a line that holds a pattern and more (``.driftignore``) finds where the pattern ends."""
    in_quotes = False
    index = 0
    while index < len(text):
        char = text[index]
        if in_quotes and char == "\\":
            index += 2
            continue
        if char == '"':
            in_quotes = not in_quotes
        elif char.isspace() and not in_quotes:
            break
        index += 1
    return text[:index], text[index:]


def dotted(path: TreePath) -> str:
    """The display spelling of a path: segments joined with dots, as reports always showed."""
    return ".".join(str(part) for part in path)


def quoted(path: TreePath) -> str:
    """A pattern that names exactly ``path``: keys that need it are quoted."""
    return ".".join(_quote(str(part)) for part in path)


def _quote(key: str) -> str:
    plain = key and key != "*" and not any(ch in '."*\\' or ch.isspace() for ch in key)
    if plain:
        return key
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
