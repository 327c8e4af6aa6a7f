"""``.driftignore``: gitignore-style rules that silence differences per deployment.

Syntax, one rule per line::

    # a comment line
    mi_123/dep_456   deployment_metadata.last_rollout
    */*   vendor_configuration.inference_framework_image_tag  until=2026-12-31 owner=@ml # why
    prod-*/*         deployment_metadata."k.dot"
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
- After the pattern, optionally: ``until=YYYY-MM-DD`` (the rule silences through that UTC
  day, then nothing), ``owner=NAME``, and ``# reason`` (the rest of the line).
- ``!`` before a rule negates it: a path it covers is reported again even though an earlier
  rule ignored it. As in gitignore, the last rule that matches a path decides.
- Blank lines are skipped. Anything else that is not a rule is an error reported as
  ``file:line: message``, all of them at once.

These rules take part in the one ignore policy (driftcheck.ignore) with the manifest's
``ignore`` lists and ``--ignore``: a path that any of those ignores stays ignored, and a ``!``
rule here only re-includes what earlier ``.driftignore`` rules ignored.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from driftcheck.errors import DriftcheckError
from driftcheck.files import TooLarge, read_bounded
from driftcheck.ignore import (
    Declared,
    IdGlob,
    IgnorePolicy,
    IgnoreRule,
    Selector,
    Source,
    parse_day,
    unaccountable,
)
from driftcheck.paths import PatternError, parse_pattern, split_pattern

DEFAULT_NAME = ".driftignore"
# Generous for a hand-written file; stops a wrong path (a log, a binary) from being slurped.
MAX_BYTES = 1024 * 1024

RULE_SYNTAX = "expected 'MODEL_INSTANCE_ID/DEPLOYMENT_ID path.pattern'"
Rules = tuple[IgnoreRule, ...]


class IgnoreFileError(DriftcheckError):
    """Every problem found in ignore files, each as ``file:line: message``."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("invalid ignore file; nothing was checked", problems)
        self.problems = list(problems)


class IgnoreProblems(DriftcheckError):
    """--require-ignore-reason: ignores without a reason or an until day."""

    headline_prefix = "driftcheck: "

    def __init__(self, problems: Sequence[str]) -> None:
        count = len(problems)
        plural = "s" if count != 1 else ""
        super().__init__(f"{count} ignore problem{plural}; nothing was checked", problems)


@dataclass(frozen=True)
class IgnoreInputs:
    """What the command line says about ignores."""

    patterns: tuple[IgnoreRule, ...] = ()  # --ignore, parsed
    ignore_file: str | None = None
    require_reason: bool = False
    today: dt.date | None = None  # None: the UTC day now


def ignore_files(inputs: IgnoreInputs, manifest_paths: Sequence[str]) -> list[str]:
    """``--ignore-file``, or the ``.driftignore`` files beside the manifests."""
    return [inputs.ignore_file] if inputs.ignore_file else default_ignore_files(manifest_paths)


def load_policy(
    inputs: IgnoreInputs, manifest_paths: Sequence[str], deployments: Sequence[Declared]
) -> IgnorePolicy:
    """The run's one policy: ``--ignore``, the ``.driftignore`` files ``check`` reads (also
    for ``validate``, so an ignore file that would stop the gate fails the offline check), and
    the manifests' own rules carried by ``deployments``. Raises on every problem found."""
    policy = IgnorePolicy(
        options=inputs.patterns,
        files=parse_ignore_files(ignore_files(inputs, manifest_paths)),
        today=inputs.today or dt.datetime.now(dt.timezone.utc).date(),
    )
    if inputs.require_reason:
        problems = unaccountable(policy.rules(deployments))
        if problems:
            raise IgnoreProblems(problems)
    return policy


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


def parse_ignore_files(paths: Iterable[str]) -> Rules:
    """All rules of several files, in order; problems of every file reported together."""
    rules: Rules = ()
    problems: list[str] = []
    for path in paths:
        try:
            rules = rules + parse_ignore_file(path)
        except IgnoreFileError as exc:
            problems.extend(exc.problems)
    if problems:
        raise IgnoreFileError(problems)
    return rules


def parse_ignore_file(path: str) -> Rules:
    try:
        raw = read_bounded(path, MAX_BYTES)
    except OSError as exc:
        raise IgnoreFileError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except TooLarge:
        raise IgnoreFileError(
            [f"{path}: too large for an ignore file (over {MAX_BYTES} bytes)"]
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IgnoreFileError([f"{path}: not UTF-8 text (byte {exc.start})"]) from None
    return parse_ignore_text(text, path)


def parse_ignore_text(text: str, file: str = DEFAULT_NAME) -> Rules:
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
    return tuple(rules)


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
    pattern_text, extra = split_pattern(rest.strip())
    if not pattern_text:
        raise _LineError(f"no path pattern after the selector: {RULE_SYNTAX}")
    try:
        pattern = parse_pattern(pattern_text)
    except PatternError as exc:
        raise _LineError(f"invalid path pattern {pattern_text!r}: {exc}") from None
    fields = _fields(extra)
    if negated and "until" in fields:
        # An expired rule takes no part, so an expired '!' would let the ignore above it
        # silence again: a date would make drift disappear, the opposite of expiring.
        raise _LineError(
            "until= cannot date a '!' line: it re-includes (silences nothing), and once "
            "expired the ignore it overrides would silence again; date that ignore instead"
        )
    return IgnoreRule(
        pattern,
        Source.FILE,
        file=file,
        line=number,
        selector=selector,
        negated=negated,
        reason=fields.get("reason"),
        owner=fields.get("owner"),
        until=parse_day(fields["until"]) if "until" in fields else None,
    )


def _fields(text: str) -> dict[str, str]:
    """``until=YYYY-MM-DD``, ``owner=NAME`` and ``# reason`` after the pattern, each at most
    once; the reason runs to the end of the line."""
    fields: dict[str, str] = {}
    rest = text.strip()
    while rest:
        if rest.startswith("#"):
            reason = rest[1:].strip()
            if reason:
                fields["reason"] = reason
            break
        token, *after = rest.split(None, 1)
        rest = after[0] if after else ""
        name, equals, value = token.partition("=")
        if not equals or name not in ("until", "owner"):
            raise _LineError(
                f"unexpected text after the path pattern: {token!r} "
                "(expected until=YYYY-MM-DD, owner=NAME or '# reason')"
            )
        if name in fields:
            raise _LineError(f"{name}= given twice")
        if not value:
            raise _LineError(f"{name}= needs a value")
        if name == "until":
            try:
                parse_day(value)
            except ValueError as exc:
                raise _LineError(str(exc)) from None
        fields[name] = value
    return fields


def _split_selector(body: str) -> tuple[Selector, str]:
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
    selector = Selector(_glob(sides[0], written[0]), _glob(sides[1], written[1]))
    return selector, body[index:]


def _glob(parts: list[tuple[str, bool]], written: str) -> IdGlob:
    regex = "".join(".*" if wildcard else re.escape(char) for char, wildcard in parts)
    return IdGlob(written, re.compile(regex, re.DOTALL))
