"""Safe YAML loading that remembers where every value came from.

PyYAML's own loaders either execute tags (``yaml.Loader``) or forget positions and expand
aliases without limit (``yaml.safe_load``). This builds plain Python data straight from the
event stream, iteratively, so that:

- only the YAML core tags are accepted (no ``!!python/...``, no custom tags);
- nesting depth, file size and the size after alias expansion are bounded, so a "billion
  laughs" document is refused in bounded time and memory instead of being expanded;
- duplicate mapping keys are an error instead of last-one-wins;
- every mapping key and sequence item gets a ``(line, column)`` (1-based) in a location map.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any

import yaml

try:  # libyaml is ~10x faster on large manifests; fall back to the pure-Python parser
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

from driftcheck.manifest.scalars import (
    CORE,
    MERGE_TAG,
    Position,
    ScalarMemo,
    YamlError,
    position_of,
    reads_as_string,
    short_tag,
)

__all__ = ["Document", "Position", "ScalarMemo", "YamlError", "load", "reads_as_string"]

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIAS_NODES = 100_000

Path = tuple[str | int, ...]


@dataclass
class Document:
    data: Any
    locations: dict[Path, Position] = field(default_factory=dict)
    # where the text of each string value holding "${" starts (for interpolation's positions),
    # and each mapping key holding "${" (references are not allowed in keys)
    refs: dict[Path, Position] = field(default_factory=dict)
    key_refs: dict[Path, Position] = field(default_factory=dict)
    # the source text of each of those values, from its first character (a quote, or a block
    # indicator): a reference after a line break or an escape is found there, in its place
    sources: dict[Path, tuple[Position, str]] = field(default_factory=dict)

    def position(self, path: Path) -> Position:
        """Position of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            found = self.locations.get(path[:end])
            if found is not None:
                return found
        return (1, 1)


class _Collection:
    """A mapping or sequence under construction on the explicit stack."""

    def __init__(self, kind: str, path: Path, anchor: str | None, start: Position) -> None:
        self.kind = kind
        self.path = path
        self.anchor = anchor
        self.start = start
        self.items: list[Any] = []
        self.size = 1
        # mapping state: a pending key waiting for its value
        self.key: Any = None
        self.key_pos: Position = start
        self.has_key = False
        self.keys: dict[tuple[type, Any], Position] = {}
        self.merges: list[tuple[dict[str, Any], Position]] = []
        self.mapping: dict[Any, Any] = {}


def load(text: str | bytes, memo: ScalarMemo | None = None) -> Document:
    """Load one YAML document (an empty stream gives ``None``).

    ``memo`` may be shared by the files of one load; without it each call starts afresh.
    """
    # A character is at least one byte, so the cheap length check comes first; the limit is
    # in bytes, so a text below it is measured again in its UTF-8 encoding.
    size = len(text)
    if size <= MAX_FILE_BYTES and isinstance(text, str):
        size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise YamlError(f"file is too large (over {MAX_FILE_BYTES} bytes)")
    memo = memo if memo is not None else ScalarMemo()
    locations: dict[Path, Position] = {}
    refs: dict[Path, Position] = {}
    key_refs: dict[Path, Position] = {}
    sources: dict[Path, tuple[Position, str]] = {}
    line_starts: list[int] = []

    def source_of(event: Any) -> str:
        """The text between the event's marks (by line and column: a mark's index may count
        bytes or characters, depending on the parser)."""
        if not isinstance(text, str):
            return ""
        if not line_starts:
            line_starts.extend(_line_starts(text))
        bounds = []
        for mark in (event.start_mark, event.end_mark):
            if mark is None or mark.line >= len(line_starts):
                return ""
            bounds.append(line_starts[mark.line] + mark.column)
        return text[bounds[0] : bounds[1]]

    anchors: dict[str, tuple[Any, int]] = {}
    stack: list[_Collection] = []
    root: Any = None
    documents = 0
    expanded = 0

    def attach(value: Any, size: int, start: Position, tag: str | None = None) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        parent = stack[-1]
        parent.size += size
        if parent.kind == "seq":
            parent.items.append(value)
            return
        if not parent.has_key:
            if isinstance(value, (dict, list)):
                raise YamlError("mapping keys must be plain scalars", *start)
            # keyed by type too: true and 1 are different keys (and wrong ones, reported later)
            identity = (type(value), value)
            if identity in parent.keys and tag != MERGE_TAG:
                first = parent.keys[identity][0]
                raise YamlError(f"duplicate key {value!r} (first defined on line {first})", *start)
            parent.key, parent.key_pos, parent.has_key = value, start, True
            parent.keys[identity] = start
            if tag == MERGE_TAG:
                parent.key = _MergeKey
            return
        parent.has_key = False
        if parent.key is _MergeKey:
            parent.merges.extend(_merge_sources(value, parent.key_pos))
            return
        parent.mapping[parent.key] = value

    def child_path(start: Position) -> Path:
        if not stack:
            return ()
        parent = stack[-1]
        if parent.kind == "seq":
            path = (*parent.path, len(parent.items))
            locations[path] = start
            return path
        if parent.has_key:
            key = parent.key
            if key is _MergeKey:
                return parent.path
            path = (*parent.path, key if isinstance(key, (str, int)) else str(key))
            locations[path] = parent.key_pos
            return path
        return parent.path  # a key itself

    # The loop below sees every event of the file (~40 per deployment): scalars come first,
    # and the commonest case, a scalar inside a mapping, is handled without calls.
    scalar = memo.scalar
    intern = sys.intern
    try:
        events = yaml.parse(text, Loader=_Loader)
        for event in events:
            if isinstance(event, yaml.ScalarEvent):
                mark = event.start_mark
                start = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
                value, tag = scalar(event)
                marked = type(value) is str and "${" in value
                parent = stack[-1] if stack else None
                if parent is not None and parent.kind == "map":
                    if not parent.has_key:
                        if marked:
                            key_path = (*parent.path, value)
                            key_refs[key_path] = start
                        # keys repeat in every deployment: one string object each saves memory
                        attach(intern(value) if type(value) is str else value, 1, start, tag)
                        continue
                    key = parent.key
                    if key is not _MergeKey:
                        path = (*parent.path, key if isinstance(key, (str, int)) else str(key))
                        locations[path] = parent.key_pos
                        if marked:  # the text starts after an opening quote
                            refs[path] = (start[0], start[1] + (event.style in ("'", '"')))
                            sources[path] = (start, source_of(event))
                        if event.anchor:
                            anchors[event.anchor] = (value, 1)
                        parent.size += 1
                        parent.has_key = False
                        parent.mapping[key] = value
                        continue
                path = child_path(start)
                if marked:  # the text starts after an opening quote
                    refs[path] = (start[0], start[1] + (event.style in ("'", '"')))
                    sources[path] = (start, source_of(event))
                if event.anchor:
                    anchors[event.anchor] = (value, 1)
                attach(value, 1, start)
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                start = position_of(event.start_mark)
                if _expects_key(stack):
                    raise YamlError("mapping keys must be plain scalars", *start)
                kind = "seq" if isinstance(event, yaml.SequenceStartEvent) else "map"
                expected = CORE + kind
                if event.tag not in (None, "!", expected):
                    raise YamlError(f"tag {short_tag(event.tag)} is not allowed", *start)
                if len(stack) >= MAX_DEPTH:
                    raise YamlError(f"nesting is deeper than {MAX_DEPTH} levels", *start)
                path = child_path(start)
                stack.append(_Collection(kind, path, event.anchor, start))
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                done = stack.pop()
                value = done.items if done.kind == "seq" else _finish_mapping(done)
                if done.anchor:
                    anchors[done.anchor] = (value, done.size)
                attach(value, done.size, done.start)
            elif isinstance(event, yaml.AliasEvent):
                start = position_of(event.start_mark)
                if event.anchor not in anchors:
                    raise YamlError(f"unknown alias *{event.anchor}", *start)
                value, size = anchors[event.anchor]
                expanded += size
                if expanded > MAX_ALIAS_NODES:
                    raise YamlError(
                        f"aliases expand to more than {MAX_ALIAS_NODES} values "
                        "(an alias bomb?); write the data out instead",
                        *start,
                    )
                if not _expects_key(stack):
                    child_path(start)
                attach(value, size, start)
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise YamlError(
                        "only one YAML document per file is allowed (found '---')",
                        *position_of(event.start_mark),
                    )
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = position_of(mark)
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(f"invalid YAML: {problem}", line, col) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"invalid YAML: {exc}") from None
    except RecursionError:  # pragma: no cover - MAX_DEPTH stops this first
        raise YamlError(f"nesting is deeper than {MAX_DEPTH} levels") from None
    return Document(root, locations, refs, key_refs, sources)


def _expects_key(stack: list[_Collection]) -> bool:
    return bool(stack) and stack[-1].kind == "map" and not stack[-1].has_key


class _MergeKeyType:
    pass


_MergeKey = _MergeKeyType()


def _merge_sources(value: Any, position: Position) -> list[tuple[dict[str, Any], Position]]:
    if isinstance(value, dict):
        return [(value, position)]
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return [(v, position) for v in value]
    raise YamlError("a merge key '<<' needs a mapping or a list of mappings", *position)


def _finish_mapping(done: _Collection) -> dict[Any, Any]:
    if not done.merges:
        return done.mapping
    merged: dict[Any, Any] = {}
    # explicit keys win; among merged mappings the first one listed wins
    for source, _position in reversed(done.merges):
        merged.update(source)
    merged.update(done.mapping)
    return merged


# What YAML 1.2 does not allow in a stream (its c-printable set, inverted).
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def _reader_error(exc: yaml.reader.ReaderError, text: str | bytes) -> YamlError:
    """PyYAML's reader reports a forbidden character with its own internals (``in "<unicode
    string>", position 48``, counted in bytes by libyaml and in characters by pure Python);
    name the character and find its line and column in the text itself."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as decode:
            return YamlError(f"invalid YAML: not UTF-8 text (byte {decode.start})")
    found = _NOT_PRINTABLE.search(text)
    if found is None:  # pragma: no cover - the reader refuses only what the pattern finds
        return YamlError(f"invalid YAML: {exc.reason}")
    before = text[: found.start()]
    line = before.count("\n") + 1
    column = found.start() - (before.rfind("\n") + 1) + 1
    code = ord(found.group())
    return YamlError(
        f"invalid YAML: control character U+{code:04X} is not allowed in YAML text "
        f'(inside double quotes write it as "\\u{code:04x}")',
        line,
        column,
    )


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(match.end() for match in re.finditer("\n", text))
    return starts
