"""``.driftignore``: gitignore-style rules that silence differences per deployment.

Syntax, one rule per line::

    # a comment (only at the start of a line)
    mi_123/dep_456   deployment_metadata.last_rollout
    */*              vendor_configuration.inference_framework_image_tag
    prod-*/*         deployment_metadata
    !prod-*/dep_1    deployment_metadata.owner

- A rule is a *selector* ``MODEL_INSTANCE_ID/DEPLOYMENT_ID``, white space, and a dotted path
  pattern (the same patterns as a manifest's ``ignore``: ``*`` matches one segment, and a
  pattern covers everything below it; ``*`` alone covers every path).
- In a selector, ``*`` matches any run of characters (also none) within one id, so ``*/*`` is
  every deployment and ``prod-*/*`` every deployment of the model instances named ``prod-…``.
- The selector is split at its first unescaped ``/``. A backslash makes the next character
  literal: ``\\/`` is a slash inside the model instance id, ``\\*`` a literal star, ``\\\\`` a
  backslash, ``\\ `` a space, and a leading ``\\#`` or ``\\!`` starts an id with that character.
  After the split, the deployment id may contain further slashes as they are.
- ``!`` before a rule negates it: a path it covers is reported again even though an earlier
  rule ignored it. As in gitignore, the last rule that matches a path decides.
- Blank lines are skipped. Anything else that is not a rule is an error reported as
  ``file:line: message``, all of them at once.

These rules are independent of the manifest's ``ignore`` lists and ``--ignore``: a path that
any of those ignores stays ignored, and a ``!`` rule here only re-includes what this file's own
earlier rules ignored.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from driftcheck.errors import DriftcheckError
from driftcheck.normalize import IgnorePattern, PatternError, parse_pattern
from driftcheck.result import Difference

DEFAULT_NAME = ".driftignore"
# Generous for a hand-written file; stops a wrong path (a log, a binary) from being slurped.
MAX_BYTES = 1024 * 1024

TreePath = tuple[str | int, ...]
RULE_SYNTAX = "expected 'MODEL_INSTANCE_ID/DEPLOYMENT_ID path.pattern'"


class IgnoreFileError(DriftcheckError):
    """Every problem found in ignore files, each as ``file:line: message``."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("invalid ignore file; nothing was checked", problems)
        self.problems = list(problems)


@dataclass(frozen=True)
class IdGlob:
    """One side of a selector: literal text and unescaped ``*`` wildcards."""

    text: str  # as written, for messages
    regex: re.Pattern[str]

    def matches(self, value: str) -> bool:
        return self.regex.fullmatch(value) is not None


@dataclass(frozen=True)
class IgnoreRule:
    model_instance_id: IdGlob
    deployment_id: IdGlob
    pattern: IgnorePattern
    negated: bool
    file: str
    line: int

    def applies(self, model_instance_id: str, deployment_id: str, path: TreePath) -> bool:
        return (
            self.pattern.covers(path)
            and self.model_instance_id.matches(model_instance_id)
            and self.deployment_id.matches(deployment_id)
        )


@dataclass(frozen=True)
class IgnoreRules:
    rules: tuple[IgnoreRule, ...] = ()

    def is_ignored(self, model_instance_id: str, deployment_id: str, path: TreePath) -> bool:
        """Whether the last rule that applies to ``path`` ignores it (none applies: no)."""
        for rule in reversed(self.rules):
            if rule.applies(model_instance_id, deployment_id, path):
                return not rule.negated
        return False

    def filter(
        self, model_instance_id: str, deployment_id: str, differences: Iterable[Difference]
    ) -> tuple[Difference, ...]:
        """The differences these rules do not ignore, in their order."""
        return tuple(
            diff
            for diff in differences
            if not self.is_ignored(model_instance_id, deployment_id, split_path(diff.path))
        )

    def __add__(self, other: IgnoreRules) -> IgnoreRules:
        return IgnoreRules(self.rules + other.rules)


EMPTY = IgnoreRules()


def split_path(dotted: str) -> TreePath:
    """A reported path as segments. Patterns are dotted text too, so a key containing a dot
    matches exactly the patterns that spell it the same way."""
    return tuple(dotted.split("."))


# ---------------------------------------------------------------------------------------------
# Files


def default_ignore_files(manifest_paths: Iterable[str]) -> list[str]:
    """The ``.driftignore`` files beside the given manifests that exist, in order, once each.

    Beside a directory argument means inside it; beside a file means in its directory.
    """
    found: list[str] = []
    seen: set[str] = set()
    for raw in manifest_paths:
        folder = raw if os.path.isdir(raw) else os.path.dirname(raw) or "."
        candidate = os.path.join(folder, DEFAULT_NAME)
        real = os.path.realpath(candidate)
        if real not in seen and os.path.isfile(candidate):
            seen.add(real)
            found.append(candidate)
    return found


def parse_ignore_files(paths: Iterable[str]) -> IgnoreRules:
    """All rules of several files, in order; problems of every file reported together."""
    rules = EMPTY
    problems: list[str] = []
    for path in paths:
        try:
            rules = rules + parse_ignore_file(path)
        except IgnoreFileError as exc:
            problems.extend(exc.problems)
    if problems:
        raise IgnoreFileError(problems)
    return rules


def parse_ignore_file(path: str) -> IgnoreRules:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise IgnoreFileError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    if len(raw) > MAX_BYTES:
        raise IgnoreFileError([f"{path}: too large for an ignore file (over {MAX_BYTES} bytes)"])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IgnoreFileError([f"{path}: not UTF-8 text (byte {exc.start})"]) from None
    return parse_ignore_text(text, path)


def parse_ignore_text(text: str, file: str = DEFAULT_NAME) -> IgnoreRules:
    rules: list[IgnoreRule] = []
    problems: list[str] = []
    # Only \n, \r\n and \r end a line: str.splitlines would also split at characters that
    # may legitimately appear inside an id.
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        try:
            rule = parse_line(line, file, number)
        except _LineError as exc:
            problems.append(f"{file}:{number}: {exc}")
            continue
        if rule is not None:
            rules.append(rule)
    if problems:
        raise IgnoreFileError(problems)
    return IgnoreRules(tuple(rules))


# ---------------------------------------------------------------------------------------------
# One line


class _LineError(ValueError):
    pass


def parse_line(line: str, file: str, number: int) -> IgnoreRule | None:
    """The rule on ``line``, None for a blank or comment line; :class:`_LineError` otherwise."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    negated = stripped.startswith("!")
    body = stripped[1:] if negated else stripped
    if negated and (not body or body[0].isspace()):
        raise _LineError("'!' must be followed directly by a rule (" + RULE_SYNTAX + ")")
    selector, rest = _split_selector(body)
    pattern_text = rest.strip()
    if not pattern_text:
        raise _LineError(f"no path pattern after the selector: {RULE_SYNTAX}")
    if any(ch.isspace() for ch in pattern_text):
        extra = pattern_text.split(None, 1)[1]
        raise _LineError(
            f"unexpected text after the path pattern: {extra!r} "
            "(a comment must start at the beginning of a line)"
        )
    try:
        pattern = parse_pattern(pattern_text)
    except PatternError as exc:
        raise _LineError(f"invalid path pattern {pattern_text!r}: {exc}") from None
    mi, dep = selector
    return IgnoreRule(mi, dep, pattern, negated, file, number)


def _split_selector(body: str) -> tuple[tuple[IdGlob, IdGlob], str]:
    """Read the selector up to the first unescaped white space; return it and the rest."""
    sides: list[list[tuple[str, bool]]] = [[]]  # (character, is a wildcard)
    written = [""]
    index = 0
    while index < len(body):
        char = body[index]
        if char.isspace():
            break
        if char == "\\":
            if index + 1 == len(body):
                raise _LineError("a '\\' at the end of the selector escapes nothing")
            escaped = body[index + 1]
            sides[-1].append((escaped, False))
            written[-1] += char + escaped
            index += 2
            continue
        if char == "/" and len(sides) == 1:
            sides.append([])
            written.append("")
        else:
            sides[-1].append((char, char == "*"))
            written[-1] += char
        index += 1
    if len(sides) == 1:
        where = f"selector {written[0]!r}" if written[0] else "the line"
        raise _LineError(
            f"{where} has no '/' between model instance id and deployment id: {RULE_SYNTAX}"
        )
    if not sides[0]:
        raise _LineError("empty model instance id before '/' (use '*' for any)")
    if not sides[1]:
        raise _LineError("empty deployment id after '/' (use '*' for any)")
    globs = (_glob(sides[0], written[0]), _glob(sides[1], written[1]))
    return globs, body[index:]


def _glob(parts: list[tuple[str, bool]], written: str) -> IdGlob:
    regex = "".join(".*" if wildcard else re.escape(char) for char, wildcard in parts)
    return IdGlob(written, re.compile(regex, re.DOTALL))
