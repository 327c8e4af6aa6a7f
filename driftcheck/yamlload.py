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

from driftcheck.errors import DriftcheckError

try:  # libyaml is ~10x faster on large manifests; fall back to the pure-Python parser
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIAS_NODES = 100_000

Path = tuple[str | int, ...]
Position = tuple[int, int]

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_MERGE_TAG = _CORE + "merge"


class YamlError(DriftcheckError):
    """A document that cannot be loaded; ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass
class Document:
    data: Any
    locations: dict[Path, Position] = field(default_factory=dict)

    def position(self, path: Path) -> Position:
        """Position of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            found = self.locations.get(path[:end])
            if found is not None:
                return found
        return (1, 1)


def _pos(mark: Any) -> Position:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


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


class _CoreResolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core schema for plain scalars, as JSON sees the same values.

    PyYAML resolves YAML 1.1, where ``on``/``no`` are booleans, ``010`` is 8 and ``1e3`` is a
    string: each of those would drift forever against the JSON the API returns (``"on"``,
    ``10``, ``1000``). Under the core schema only ``true``/``false`` are booleans, integers are
    decimal (or ``0o``/``0x``), and ``1e3`` is a number.
    """


for _tag, _pattern, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("merge", r"^(?:<<)$", "<"),
):
    _CoreResolver.add_implicit_resolver(_CORE + _tag, re.compile(_pattern), list(_first))


_PLAIN = _CoreResolver()


def reads_as_string(text: str) -> bool:
    """Whether ``text`` written as a plain (unquoted) scalar loads back as that string."""
    tag = _PLAIN.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return bool(tag == _CORE + "str")


def _core_int(text: str) -> int:
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text)  # decimal, also with leading zeros and an explicit !!int


def _core_float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return float("-inf") if lowered.startswith("-") else float("inf")
    if lowered == ".nan":
        return float("nan")
    return float(text)


def _core_bool(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError(f"not a boolean: {text!r}")
    return text.lower() == "true"


_BUILDERS: dict[str, Any] = {
    _CORE + "int": _core_int,
    _CORE + "float": _core_float,
    _CORE + "bool": _core_bool,
    _CORE + "null": lambda text: None,
}
_CONSTRUCTED: dict[tuple[str, str], Any] = {}  # (tag, text) -> value, for non-string scalars
_RESOLVED: dict[tuple[str, Any], str] = {}  # (text, implicit) -> implicit tag


def _scalar(event: yaml.ScalarEvent, resolver: yaml.resolver.BaseResolver) -> tuple[Any, str]:
    tag = event.tag
    if tag is None or tag == "!":
        # keys and values repeat in every deployment: resolve each spelling once
        memo = (event.value, event.implicit)
        tag = _RESOLVED.get(memo)
        if tag is None:
            tag = resolver.resolve(yaml.ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
            if len(_RESOLVED) < 10_000:
                _RESOLVED[memo] = tag
    if tag == "!":  # non-specific tag on a quoted scalar
        tag = _CORE + "str"
    if tag not in _SCALAR_TAGS and tag != _MERGE_TAG:
        line, col = _pos(event.start_mark)
        raise YamlError(f"tag {_short_tag(tag)} is not allowed (only plain YAML data)", line, col)
    if tag in (_CORE + "str", _CORE + "timestamp", _MERGE_TAG):
        # timestamps stay strings: the API speaks JSON, where dates are strings
        return event.value, tag
    # Numbers, booleans and nulls repeat a lot and are immutable: build each text once.
    key = (tag, event.value)
    value = _CONSTRUCTED.get(key, _CONSTRUCTED)
    if value is _CONSTRUCTED:
        try:
            value = _BUILDERS[tag](event.value)
        except ValueError:  # an explicit tag on text that is not of its kind: !!int "x"
            line, col = _pos(event.start_mark)
            raise YamlError(
                f"{event.value!r} is not a valid {_short_tag(tag)}", line, col
            ) from None
        if len(_CONSTRUCTED) < 10_000:
            _CONSTRUCTED[key] = value
    return value, tag


def _short_tag(tag: str | None) -> str:
    if tag and tag.startswith(_CORE):
        return "!!" + tag[len(_CORE) :]
    return str(tag)


def load(text: str | bytes) -> Document:
    """Load one YAML document (an empty stream gives ``None``)."""
    # A character is at least one byte, so the cheap length check comes first; the limit is
    # in bytes, so a text below it is measured again in its UTF-8 encoding.
    size = len(text)
    if size <= MAX_FILE_BYTES and isinstance(text, str):
        size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise YamlError(f"file is too large (over {MAX_FILE_BYTES} bytes)")
    resolver = _CoreResolver()
    locations: dict[Path, Position] = {}
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
            if identity in parent.keys and tag != _MERGE_TAG:
                first = parent.keys[identity][0]
                raise YamlError(f"duplicate key {value!r} (first defined on line {first})", *start)
            parent.key, parent.key_pos, parent.has_key = value, start, True
            parent.keys[identity] = start
            if tag == _MERGE_TAG:
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

    try:
        events = yaml.parse(text, Loader=_Loader)
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise YamlError(
                        "only one YAML document per file is allowed (found '---')",
                        *_pos(event.start_mark),
                    )
            elif isinstance(event, yaml.ScalarEvent):
                start = _pos(event.start_mark)
                value, tag = _scalar(event, resolver)
                if _expects_key(stack):
                    # keys repeat in every deployment: one string object each saves memory
                    attach(sys.intern(value) if type(value) is str else value, 1, start, tag)
                    continue
                child_path(start)
                if event.anchor:
                    anchors[event.anchor] = (value, 1)
                attach(value, 1, start)
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                start = _pos(event.start_mark)
                if _expects_key(stack):
                    raise YamlError("mapping keys must be plain scalars", *start)
                kind = "seq" if isinstance(event, yaml.SequenceStartEvent) else "map"
                expected = _CORE + kind
                if event.tag not in (None, "!", expected):
                    raise YamlError(f"tag {_short_tag(event.tag)} is not allowed", *start)
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
                start = _pos(event.start_mark)
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
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = _pos(mark)
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(f"invalid YAML: {problem}", line, col) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"invalid YAML: {exc}") from None
    except RecursionError:  # pragma: no cover - MAX_DEPTH stops this first
        raise YamlError(f"nesting is deeper than {MAX_DEPTH} levels") from None
    return Document(root, locations)


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
