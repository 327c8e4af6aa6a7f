"""``${var.NAME}``, ``${env:NAME}`` and the ``$${`` escape in manifest values.

A scalar that is exactly one reference takes the referenced value with its own type
(``${var.workers}`` is the integer 4); inside a longer string a reference is text. A value that
came from ``${env:NAME}`` is always a string and always sensitive, and so is any value built
from one. Each failure is reported once, at the reference's own file, line and column.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from driftcheck.errors import Problem
from driftcheck.manifest.messages import close_match, describe
from driftcheck.manifest.yaml import Document, Path

# `$${` first, so that an escaped reference is never read as one; a lone `${` is unterminated.
_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_VAR = re.compile(r"var\.([A-Za-z_][A-Za-z0-9_-]*)\Z")
_ENV = re.compile(r"env:([A-Za-z_][A-Za-z0-9_]*)\Z")
VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
ESCAPE = "$${"
# a `${` that is not escaped: in a key it is an error of its own ("keys are literal")
REAL_REFERENCE = re.compile(r"(?<!\$)\$\{")


def in_key(key: object) -> bool:
    """A key that holds a reference: reported once as such, not also as a bad name."""
    return isinstance(key, str) and REAL_REFERENCE.search(key) is not None


@dataclass(frozen=True)
class Origin:
    """Where a value came from; ``note`` says how (``var.gpu``, ``--var workers``)."""

    file: str
    line: int
    column: int
    note: str | None = None


@dataclass(frozen=True)
class Place:
    """A node of a loaded document: its file, the document, and its path there."""

    file: str
    document: Document
    path: Path

    def child(self, key: str | int) -> Place:
        return Place(self.file, self.document, (*self.path, key))

    def origin(self, note: str | None = None) -> Origin:
        return Origin(self.file, *self.document.position(self.path), note=note)

    def text_origin(self) -> Origin:
        """Where the text of a string value starts (after a quote), for a reference's column."""
        found = self.document.refs.get(self.path)
        if found is None:
            return self.origin()
        return Origin(self.file, *found)

    def source(self) -> Source | None:
        """The value's source text and where it starts (None: not a string with ``${``)."""
        found = self.document.sources.get(self.path)
        if found is None or not found[1]:
            return None
        return Origin(self.file, *found[0]), found[1]


Source = tuple[Origin, str]


@dataclass(frozen=True)
class Variable:
    """A ``vars`` entry of an environment, or a ``--var`` (``place`` None: a literal)."""

    name: str
    value: Any
    origin: Origin
    place: Place | None = None


@dataclass
class Resolved:
    value: Any
    sensitive: bool = False
    # the whole value came from one variable: it (and everything below it) was declared there
    source: Variable | None = None
    # with ``sensitive``: which parts of the value came from ${env:...} (``()``: all of it), so
    # a map from a variable keeps its shape and only its secret leaves are hidden
    parts: frozenset[Path] = frozenset({()})


class Unresolved(Exception):
    """A value that cannot be built; its problem has been recorded already."""


@dataclass
class Interpolator:
    """Resolves references for one environment (or a set without environments)."""

    variables: Mapping[str, Variable]
    process_env: Mapping[str, str]
    environment: str | None = None
    problems: list[Problem] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    _done: dict[str, Resolved | None] = field(default_factory=dict)
    _reported: set[Problem] = field(default_factory=set)

    def report(self, origin: Origin, message: str) -> None:
        problem = Problem(origin.file, origin.line, origin.column, message)
        if problem not in self._reported:
            self._reported.add(problem)
            self.problems.append(problem)

    def scalar(
        self, text: str, at: Origin, chain: tuple[str, ...] = (), source: Source | None = None
    ) -> Resolved:
        """``text`` with its references resolved; raises :class:`Unresolved`. ``source``:
        the value's source text, where each reference's own line and column are read."""
        tokens = list(_TOKEN.finditer(text))
        if not tokens:
            return Resolved(text)
        places = _places(tokens, text, at, source)
        whole = tokens[0]
        if len(tokens) == 1 and whole.group(1) is not None and whole.span() == (0, len(text)):
            return self._reference(whole.group(1), places[0], chain)
        parts: list[str] = []
        sensitive = False
        end = 0
        failed = False
        for token, where in zip(tokens, places, strict=True):
            parts.append(text[end : token.start()])
            end = token.end()
            if token.group() == ESCAPE:
                parts.append("${")
                continue
            try:
                found = self._reference(token.group(1), where, chain)
            except Unresolved:
                failed = True
                continue
            sensitive = sensitive or found.sensitive
            piece = _as_text(found.value)
            if piece is None:
                self.report(
                    where,
                    f"{token.group()} is {describe(found.value)}: inside a longer string only "
                    "a string, number or boolean can be used",
                )
                failed = True
                continue
            parts.append(piece)
        if failed:
            raise Unresolved
        parts.append(text[end:])
        return Resolved("".join(parts), sensitive)

    def _reference(self, inner: str | None, at: Origin, chain: tuple[str, ...]) -> Resolved:
        if inner is None:
            self.report(at, "unterminated reference '${': close it with '}' (or write '$${')")
            raise Unresolved
        var = _VAR.match(inner)
        if var is not None:
            return self._variable(var.group(1), at, chain)
        env = _ENV.match(inner)
        if env is not None:
            return self._process_env(env.group(1), at)
        self.report(
            at,
            f"unknown reference '${{{inner}}}': use ${{var.NAME}} or ${{env:NAME}} "
            "(write $${ for a literal ${)",
        )
        raise Unresolved

    def _process_env(self, name: str, at: Origin) -> Resolved:
        value = self.process_env.get(name)
        if value is None:
            close = close_match(name, sorted(self.process_env))
            hint = f" (did you mean {close!r}?)" if close else ""
            self.report(at, f"environment variable {name} is not set{hint}")
            raise Unresolved
        return Resolved(value, sensitive=True)

    def _variable(self, name: str, at: Origin, chain: tuple[str, ...]) -> Resolved:
        self.used.add(name)
        if name in chain:
            cycle = " -> ".join(f"var.{n}" for n in (*chain[chain.index(name) :], name))
            self.report(at, f"reference cycle: {cycle}")
            raise Unresolved
        variable = self.variables.get(name)
        if variable is None:
            close = close_match(name, sorted(self.variables))
            hint = f" (did you mean var.{close}?)" if close else ""
            where = f" in environment {self.environment!r}" if self.environment else ""
            self.report(at, f"undefined variable var.{name}{where}{hint}")
            raise Unresolved
        if name not in self._done:
            self._done[name] = None  # a failure stays reported once, where it is
            with contextlib.suppress(Unresolved):
                self._done[name] = self._value(variable, (*chain, name))
        done = self._done[name]
        if done is None:
            raise Unresolved
        return Resolved(done.value, done.sensitive, variable, done.parts)

    def _value(self, variable: Variable, chain: tuple[str, ...]) -> Resolved:
        if variable.place is None:  # --var: a literal
            return Resolved(variable.value)
        tree = self.tree(variable.value, variable.place, chain)
        return Resolved(tree.value, bool(tree.sensitive), parts=frozenset(tree.sensitive))

    def tree(self, value: Any, place: Place, chain: tuple[str, ...] = ()) -> Tree:
        """Resolve every string of ``value`` (maps and lists included), collecting problems."""
        out = Tree(None)
        out.value = self._walk(value, place, (), out, chain)
        if out.failed:
            raise Unresolved
        return out

    def _walk(self, value: Any, place: Place, rel: Path, out: Tree, chain: tuple[str, ...]) -> Any:
        if isinstance(value, dict):
            return {
                k: self._walk(v, place.child(k), (*rel, k), out, chain) for k, v in value.items()
            }
        if isinstance(value, list):
            return [
                self._walk(v, place.child(i), (*rel, i), out, chain) for i, v in enumerate(value)
            ]
        if not (isinstance(value, str) and "${" in value):
            return value
        try:
            found = self.scalar(value, place.text_origin(), chain, place.source())
        except Unresolved:
            out.failed = True
            return value
        if found.sensitive:
            out.sensitive.update((*rel, *part) for part in found.parts)
        if found.source is not None:
            out.sources[rel] = found.source
        return found.value


@dataclass
class Tree:
    """A resolved value, which of its paths are sensitive, and which came from a variable."""

    value: Any
    sensitive: set[Path] = field(default_factory=set)
    sources: dict[Path, Variable] = field(default_factory=dict)
    failed: bool = False


def escape(text: str) -> str:
    """``text`` written so that interpolation reads it back unchanged."""
    return text.replace("${", ESCAPE)


def _as_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _places(
    tokens: list[re.Match[str]], text: str, at: Origin, source: Source | None
) -> list[Origin]:
    """Where each token is in the file. Read in the source text when it holds the same tokens
    (a block scalar, a line break or an escape moves a reference away from its index in the
    value); else counted from where the value's text starts."""
    if source is not None:
        start, raw = source
        found = list(_TOKEN.finditer(raw))
        if [m.group() for m in found] == [t.group() for t in tokens]:
            return [_offset(start, raw, m.start()) for m in found]
    return [_offset(at, text, token.start()) for token in tokens]


def _offset(at: Origin, text: str, index: int) -> Origin:
    """The position of ``text[index]`` for a scalar whose text starts at ``at``."""
    breaks = text.count("\n", 0, index)
    if breaks == 0:
        return Origin(at.file, at.line, at.column + index)
    return Origin(at.file, at.line + breaks, index - text.rfind("\n", 0, index))
