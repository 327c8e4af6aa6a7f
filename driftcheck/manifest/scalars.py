"""YAML 1.2 core scalars: how a plain scalar's text becomes a value, as JSON sees it.

Shared by the loader (``yaml.py``) and the command line (``--var NAME=VALUE``), so a value
typed on the command line means what the same text means in a manifest.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from driftcheck.errors import DriftcheckError

Position = tuple[int, int]

CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
MERGE_TAG = CORE + "merge"


class YamlError(DriftcheckError):
    """A document that cannot be loaded; ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


def position_of(mark: Any) -> Position:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


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
    _CoreResolver.add_implicit_resolver(CORE + _tag, re.compile(_pattern), list(_first))


_PLAIN = _CoreResolver()


def reads_as_string(text: str) -> bool:
    """Whether ``text`` written as a plain (unquoted) scalar loads back as that string."""
    tag = _PLAIN.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return bool(tag == CORE + "str")


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
    CORE + "int": _core_int,
    CORE + "float": _core_float,
    CORE + "bool": _core_bool,
    CORE + "null": lambda text: None,
}


class ScalarMemo:
    """Values already built for scalar spellings, kept for one load (one run's manifests).

    Keys and values repeat in every deployment; resolving each spelling once is most of the
    speed on large manifests. Bounded, so a file of unique scalars cannot grow it without end.
    """

    LIMIT = 10_000

    def __init__(self) -> None:
        self.resolver = _CoreResolver()
        self.constructed: dict[tuple[str, str], Any] = {}  # (tag, text) -> non-string value
        self.resolved: dict[tuple[str, Any], str] = {}  # (text, implicit) -> implicit tag
        # (text, implicit) -> (value, tag) of an untagged scalar: what most scalars are, so
        # most scalars cost one lookup
        self.untagged: dict[tuple[str, Any], tuple[Any, str]] = {}

    def scalar(self, event: yaml.ScalarEvent) -> tuple[Any, str]:
        tag = event.tag
        if tag is None or tag == "!":  # "!" (quoted) resolves by the text and style alone
            memo = (event.value, event.implicit)
            found = self.untagged.get(memo)
            if found is None:
                found = self._build(event)
                if len(self.untagged) < self.LIMIT:
                    self.untagged[memo] = found
            return found
        return self._build(event)

    def _build(self, event: yaml.ScalarEvent) -> tuple[Any, str]:
        tag = event.tag
        if tag is None or tag == "!":
            memo = (event.value, event.implicit)
            tag = self.resolved.get(memo)
            if tag is None:
                tag = self.resolver.resolve(yaml.ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
                if len(self.resolved) < self.LIMIT:
                    self.resolved[memo] = tag
        if tag == "!":  # non-specific tag on a quoted scalar
            tag = CORE + "str"
        if tag not in _SCALAR_TAGS and tag != MERGE_TAG:
            line, col = position_of(event.start_mark)
            raise YamlError(
                f"tag {short_tag(tag)} is not allowed (only plain YAML data)", line, col
            )
        if tag in (CORE + "str", CORE + "timestamp", MERGE_TAG):
            # timestamps stay strings: the API speaks JSON, where dates are strings
            return event.value, tag
        # Numbers, booleans and nulls are immutable: build each text once.
        key = (tag, event.value)
        value = self.constructed.get(key, self.constructed)
        if value is self.constructed:
            try:
                value = _BUILDERS[tag](event.value)
            except ValueError:  # an explicit tag on text that is not of its kind: !!int "x"
                line, col = position_of(event.start_mark)
                raise YamlError(
                    f"{event.value!r} is not a valid {short_tag(tag)}", line, col
                ) from None
            if len(self.constructed) < self.LIMIT:
                self.constructed[key] = value
        return value, tag


def short_tag(tag: str | None) -> str:
    if tag and tag.startswith(CORE):
        return "!!" + tag[len(CORE) :]
    return str(tag)


def core_scalar(text: str) -> Any:
    """``text`` read as a plain YAML 1.2 core scalar: ``9`` is 9, ``true`` True, ``x`` "x"."""
    tag = _PLAIN.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    builder = _BUILDERS.get(tag)
    return text if builder is None else builder(text)
