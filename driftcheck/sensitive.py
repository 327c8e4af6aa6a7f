"""Sensitive values: which paths hold secrets, and keeping their values out of every output.

A path is sensitive when (DESIGN "Sensitive values"):

- a key of it inside ``model_creation_parameters`` or ``deployment_metadata`` is named like a
  secret (:func:`is_sensitive_key`);
- a manifest ``sensitive:`` pattern (top level or the deployment's) or ``--sensitive`` covers it;
- the value there came from ``${env:NAME}``: the manifest loader adds its path to
  ``DesiredDeployment.sensitive_paths``, and nothing else is needed for it to be masked.

Comparison always uses the real values. What leaves the machine does not: the engine hands
reporters a result whose sensitive differences carry :data:`MASKED` instead of values
(:func:`mask_run`); snapshots store them as salted HMACs (``digests.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from driftcheck import spec
from driftcheck.paths import PathPattern, TreePath, dotted
from driftcheck.result import MASKED, DeploymentResult, Difference, DiffKind, ErrorInfo, RunResult

if TYPE_CHECKING:
    from driftcheck.manifest import DesiredDeployment
    from driftcheck.result import BaselineEntry, Marks


SENSITIVE_WORDS = frozenset(
    {"token", "secret", "password", "passwd", "apikey", "credential", "credentials"}
)
SENSITIVE_PAIRS = frozenset({("api", "key"), ("access", "key"), ("private", "key")})
_SEPARATORS = frozenset("_-.")

# Error messages are scrubbed of declared secrets; a shorter value would mangle plain words.
_MIN_SCRUBBED = 8
# ...and the start of one, where a message was cut short inside it
_MIN_PREFIX = 4


# ---------------------------------------------------------------------------------------------
# The built-in key-name rule


def key_words(name: str) -> tuple[str, ...]:
    """``hf_token`` -> (hf, token); ``apiKey`` -> (api, key); words compare case-insensitively.

    Beyond DESIGN's lower->upper rule, an acronym ends where a capitalised word begins
    (``HFToken`` -> (hf, token), ``DBPassword`` -> (db, password)): such keys are common, and
    a rule that misses them prints the secret; the extra split only ever masks more.
    """
    words: list[str] = []
    current: list[str] = []
    previous = ""
    for index, char in enumerate(name):
        if char in _SEPARATORS:
            words.append("".join(current))
            current = []
        else:
            following = name[index + 1 : index + 2]
            if char.isupper() and (
                previous.islower() or (previous.isupper() and following.islower())
            ):
                words.append("".join(current))
                current = []
            current.append(char)
        previous = char
    words.append("".join(current))
    return tuple(word.casefold() for word in words if word)


def is_sensitive_key(name: str) -> bool:
    """Whether a free-form key is named like a secret (``hf_token``, ``apiKey``, ``DB_PASSWORD``;
    not ``max_tokens`` or ``tokenizer``)."""
    words = key_words(name)
    return any(word in SENSITIVE_WORDS for word in words) or any(
        pair in SENSITIVE_PAIRS for pair in itertools.pairwise(words)
    )


# ---------------------------------------------------------------------------------------------
# Which paths of one deployment are sensitive


@dataclass(frozen=True)
class SensitiveRule:
    """The sensitive paths of one deployment (or, in a snapshot, of one live body)."""

    patterns: tuple[PathPattern, ...] = ()
    # Exact paths whose whole value is sensitive: ``${env:NAME}`` values, hashed snapshot values.
    paths: frozenset[TreePath] = frozenset()
    # Snapshots apply the key-name rule to the whole body: only free-form maps are compared,
    # but the whole body is stored.
    names_anywhere: bool = False
    # With --live-from: the declared fields before hashing, so a revealed report shows them.
    declared: Mapping[str, Any] | None = None

    def covers(self, path: TreePath) -> bool:
        if any(path[:end] in self.paths for end in range(1, len(path) + 1)):
            return True
        if any(pattern.covers(path) for pattern in self.patterns):
            return True
        if self.names_anywhere:
            named = path
        elif path[:1] and path[0] in spec.FREEFORM_FIELDS:
            named = path[1:]
        else:
            return False
        return any(isinstance(part, str) and is_sensitive_key(part) for part in named)

    def touches(self, path: TreePath, *values: Any) -> bool:
        """Whether showing ``values`` (found at ``path``) would show something sensitive: the
        path itself, or anything inside the values (a list or map compared as a whole)."""
        return self.covers(path) or any(
            self.covers(inner) for value in values for inner, _ in walk(value, path)
        )

    def flag(self, path: TreePath, diff: Difference) -> Difference:
        """``diff`` marked sensitive when it touches a sensitive path (values kept: masking
        happens once, for the whole run, in :func:`mask_run`)."""
        if not self.touches(path, diff.desired, diff.live):
            return diff
        point = next((end for end in range(1, len(path)) if self.covers(path[:end])), len(path))
        if any(isinstance(part, str) for part in path[point:]):
            # a key below a sensitive point is part of the secret (a map of credentials keyed
            # by the secret itself): report the point, which both sides hold, as changed
            path = path[:point]
            diff = replace(diff, path=dotted(path), segments=path, kind=DiffKind.CHANGED)
        desired = diff.desired
        if self.declared is not None and diff.kind is not DiffKind.EXTRA_LIVE:
            desired = _value_at(self.declared, path, diff.desired)
        return replace(diff, desired=desired, sensitive=True)

    def secrets(self, fields: Mapping[str, Any]) -> set[str]:
        """Declared string values at sensitive paths, to scrub from error messages."""
        found: set[str] = set()
        for path, value in walk(fields, ()):
            if isinstance(value, str) and len(value) >= _MIN_SCRUBBED and self.covers(path):
                found.add(value)
        return found


@dataclass(frozen=True)
class SensitivePolicy:
    """Every source of sensitive paths for a run: ``--sensitive`` patterns, and the salt of a
    ``--live-from`` snapshot that hashed its sensitive values."""

    patterns: tuple[PathPattern, ...] = ()
    salt: bytes | None = None

    def rule_for(self, deployment: DesiredDeployment | None) -> SensitiveRule:
        if deployment is None:
            return SensitiveRule(self.patterns)
        return SensitiveRule(
            (*self.patterns, *deployment.sensitive), frozenset(deployment.sensitive_paths)
        )


NO_POLICY = SensitivePolicy()


def collapsed(differences: Iterable[Difference]) -> tuple[Difference, ...]:
    """One difference per path: several below one sensitive point become that point's."""
    seen: dict[tuple[str | int, ...], Difference] = {}
    for diff in differences:
        seen.setdefault(diff.segments, diff)
    return tuple(seen.values())


def walk(value: Any, path: TreePath) -> Iterator[tuple[TreePath, Any]]:
    """Every map entry and list item below ``value`` with its path (iterative: live bodies
    may nest deeply)."""
    stack: list[tuple[TreePath, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, Mapping):
            children: Iterable[tuple[str | int, Any]] = item.items()
        elif isinstance(item, list):
            children = enumerate(item)
        else:
            continue
        for key, child in children:
            inner = (*where, key if isinstance(key, int) else str(key))
            yield inner, child
            stack.append((inner, child))


def _value_at(source: Mapping[str, Any], path: TreePath, default: Any) -> Any:
    value: Any = source
    for part in path:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return default
    return value


# ---------------------------------------------------------------------------------------------
# Masking a run's result: reporters never receive a sensitive value


def mask_run(
    result: RunResult,
    deployments: Iterable[DesiredDeployment] = (),
    policy: SensitivePolicy = NO_POLICY,
) -> RunResult:
    """``result`` with every sensitive difference's values replaced by :data:`MASKED`,
    declared secrets scrubbed from error messages (a server may echo what it was sent), and no
    name label where ``name`` itself is sensitive (labels appear in every report)."""
    declared = tuple(deployments)
    errors = [e.error for e in result.deployments if e.error is not None]
    if result.listing_error is not None:
        errors.append(result.listing_error)
    ordered = _secrets(result, declared, policy) if errors else []
    hidden_names = {d.key for d in declared if policy.rule_for(d).covers(("name",))}

    def masked(entry: DeploymentResult) -> DeploymentResult:
        hide_name = (entry.model_instance_id, entry.deployment_id) in hidden_names
        if (
            entry.error is None
            and not hide_name
            and not any(d.sensitive for d in entry.differences)
        ):
            return entry
        return replace(
            entry,
            name=None if hide_name else entry.name,
            differences=tuple(_masked(d) for d in entry.differences),
            error=_scrubbed(entry.error, ordered),
        )

    changes: dict[str, Any] = {
        "deployments": tuple(masked(entry) for entry in result.deployments),
        "listing_error": _scrubbed(result.listing_error, ordered),
    }
    if result.marks is not None:
        changes["marks"] = mask_marks(result.marks, policy)
    return replace(result, **changes)


def _secrets(
    result: RunResult, deployments: Iterable[DesiredDeployment], policy: SensitivePolicy
) -> list[str]:
    """Every known secret string, longest first (a secret inside another one goes second)."""
    found = set(declared_secrets(deployments, policy))
    for entry in result.deployments:
        for diff in entry.differences:
            if diff.sensitive:
                found.update(
                    v
                    for v in (diff.desired, diff.live)
                    if isinstance(v, str) and len(v) >= _MIN_SCRUBBED
                )
    return sorted(found, key=len, reverse=True)


def declared_secrets(
    deployments: Iterable[DesiredDeployment], policy: SensitivePolicy = NO_POLICY
) -> list[str]:
    """The declared string values at sensitive paths, longest first, for :func:`scrub`."""
    found: set[str] = set()
    for deployment in deployments:
        found |= policy.rule_for(deployment).secrets(deployment.fields)
    return sorted(found, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every one of ``secrets`` (longest first) replaced by ``(sensitive)``."""
    secrets = list(secrets)
    for secret in secrets:
        text = text.replace(secret, str(MASKED))
    # a server's error detail is cut at 200 characters: a secret cut there leaves its start
    # at the end of the message
    for secret in secrets:
        for end in range(len(secret) - 1, _MIN_PREFIX - 1, -1):
            if text.endswith(secret[:end]):
                return text[:-end] + str(MASKED)
    return text


def _masked(diff: Difference) -> Difference:
    if not diff.sensitive:
        return diff
    # an absent side shows nothing, so it stays absent: the kind already says so
    return replace(
        diff,
        desired=None if diff.kind is DiffKind.EXTRA_LIVE else MASKED,
        live=None if diff.kind is DiffKind.MISSING_LIVE else MASKED,
    )


def _scrubbed(error: ErrorInfo | None, secrets: list[str]) -> ErrorInfo | None:
    if error is None:
        return error
    message = scrub(error.message, secrets)
    return error if message == error.message else replace(error, message=message)


def mask_marks(marks: Marks, policy: SensitivePolicy = NO_POLICY) -> Marks:
    """Resolved findings come from a baseline file, which an older driftcheck may have written
    with clear values: mask those whose path is sensitive by name or ``--sensitive``."""
    rule = policy.rule_for(None)

    def entry(item: BaselineEntry) -> BaselineEntry:
        path = getattr(item.key, "path", None)
        if not path or item.desired is item.live is None:
            return item
        if not rule.touches(tuple(path.split(".")), item.desired, item.live):
            return item
        return replace(
            item,
            desired=None if item.desired is None else MASKED,
            live=None if item.live is None else MASKED,
        )

    return replace(
        marks,
        resolved=tuple(entry(item) for item in marks.resolved),
        unverified=tuple(replace(u, entry=entry(u.entry)) for u in marks.unverified),
    )
