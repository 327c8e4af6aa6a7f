"""Sensitive values: which paths hold secrets, and keeping their values out of every output.

A path is sensitive when (DESIGN "Sensitive values"):

- a key of it inside ``model_creation_parameters`` or ``deployment_metadata`` is named like a
  secret (:func:`is_sensitive_key`);
- a manifest ``sensitive:`` pattern (top level or the deployment's) or ``--sensitive`` covers it;
- the value there came from ``${env:NAME}``: the manifest loader adds its path to
  ``DesiredDeployment.sensitive_paths``, and nothing else is needed for it to be masked.

Comparison always uses the real values. What leaves the machine does not: the engine hands
reporters a result whose sensitive differences carry :data:`MASKED` instead of values
(:func:`mask_run`), and a snapshot stores a sensitive live value as a salted HMAC
(:func:`hash_body`) that ``--live-from`` compares by hashing the declared value the same way
(:func:`hash_declared`).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from driftcheck import spec
from driftcheck.normalize import IgnorePattern, normalize_value
from driftcheck.result import MASKED, Difference, DiffKind, ErrorInfo, RunResult

if TYPE_CHECKING:
    from driftcheck.baseline import BaselineEntry, Marks
    from driftcheck.manifest import DesiredDeployment

TreePath = tuple[str | int, ...]

SENSITIVE_WORDS = frozenset(
    {"token", "secret", "password", "passwd", "apikey", "credential", "credentials"}
)
SENSITIVE_PAIRS = frozenset({("api", "key"), ("access", "key"), ("private", "key")})
_SEPARATORS = frozenset("_-.")

SALT_BYTES = 32
HASH_KEY = "sha256"
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
# A snapshot must still say which deployment a body is: these are never hashed.
_IDENTITY = frozenset({"id", "model_instance_id"})
_VC = "vendor_configuration"
# Error messages are scrubbed of declared secrets; a shorter value would mangle plain words.
_MIN_SCRUBBED = 8


# ---------------------------------------------------------------------------------------------
# The built-in key-name rule


def key_words(name: str) -> tuple[str, ...]:
    """``hf_token`` -> (hf, token); ``apiKey`` -> (api, key); words compare case-insensitively."""
    words: list[str] = []
    current: list[str] = []
    previous = ""
    for char in name:
        if char in _SEPARATORS:
            words.append("".join(current))
            current = []
        else:
            if char.isupper() and previous.islower():
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

    patterns: tuple[IgnorePattern, ...] = ()
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
            self.covers(inner) for value in values for inner, _ in _walk(value, path)
        )

    def flag(self, path: TreePath, diff: Difference) -> Difference:
        """``diff`` marked sensitive when it touches a sensitive path (values kept: masking
        happens once, for the whole run, in :func:`mask_run`)."""
        if not self.touches(path, diff.desired, diff.live):
            return diff
        desired = diff.desired
        if self.declared is not None and diff.kind is not DiffKind.EXTRA_LIVE:
            desired = _value_at(self.declared, path, diff.desired)
        return replace(diff, desired=desired, sensitive=True)

    def secrets(self, fields: Mapping[str, Any]) -> set[str]:
        """Declared string values at sensitive paths, to scrub from error messages."""
        found: set[str] = set()
        for path, value in _walk(fields, ()):
            if isinstance(value, str) and len(value) >= _MIN_SCRUBBED and self.covers(path):
                found.add(value)
        return found


@dataclass(frozen=True)
class SensitivePolicy:
    """Every source of sensitive paths for a run: ``--sensitive`` patterns, and the salt of a
    ``--live-from`` snapshot that hashed its sensitive values."""

    patterns: tuple[IgnorePattern, ...] = ()
    salt: bytes | None = None

    def rule_for(self, deployment: DesiredDeployment | None) -> SensitiveRule:
        if deployment is None:
            return SensitiveRule(self.patterns)
        return SensitiveRule(
            (*self.patterns, *deployment.sensitive), frozenset(deployment.sensitive_paths)
        )


NO_POLICY = SensitivePolicy()


def _walk(value: Any, path: TreePath) -> Iterator[tuple[TreePath, Any]]:
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
    """``result`` with every sensitive difference's values replaced by :data:`MASKED`, and
    declared secrets scrubbed from error messages (a server may echo what it was sent)."""
    secrets: set[str] = set()
    for deployment in deployments:
        secrets |= policy.rule_for(deployment).secrets(deployment.fields)
    for entry in result.deployments:
        for diff in entry.differences:
            if diff.sensitive:
                secrets.update(
                    v for v in (diff.desired, diff.live) if isinstance(v, str) and len(v) >= 8
                )
    ordered = sorted(secrets, key=len, reverse=True)  # a secret inside another one: longest first
    masked = tuple(
        replace(
            entry,
            differences=tuple(_masked(d) for d in entry.differences),
            error=_scrubbed(entry.error, ordered),
        )
        for entry in result.deployments
    )
    changes: dict[str, Any] = {
        "deployments": masked,
        "listing_error": _scrubbed(result.listing_error, ordered),
    }
    if result.marks is not None:
        changes["marks"] = mask_marks(result.marks, policy)
    return replace(result, **changes)


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
    if error is None or not any(secret in error.message for secret in secrets):
        return error
    message = error.message
    for secret in secrets:
        message = message.replace(secret, str(MASKED))
    return replace(error, message=message)


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


# ---------------------------------------------------------------------------------------------
# Snapshots: sensitive live values as salted hashes


def new_salt() -> bytes:
    import secrets

    return secrets.token_bytes(SALT_BYTES)


def canonical_json(value: Any) -> str:
    """The hashed message: sorted keys, no spaces, no ASCII escaping, whole floats as integers."""
    return json.dumps(
        normalize_value(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def digest(value: Any, salt: bytes) -> dict[str, str]:
    """``{"sha256": HMAC-SHA256(salt, canonical JSON of value)}``."""
    mac = hmac.new(salt, canonical_json(value).encode("utf-8"), hashlib.sha256)
    return {HASH_KEY: mac.hexdigest()}


def is_digest(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and len(value) == 1
        and isinstance(value.get(HASH_KEY), str)
        and _HEX_DIGEST.fullmatch(value[HASH_KEY]) is not None
    )


def hash_body(body: Any, rule: SensitiveRule, salt: bytes) -> Any:
    """A live body as a snapshot stores it: every value at a sensitive path replaced by its
    digest. Maps below a sensitive path keep their keys and have each value hashed, so that
    comparing only the declared keys of a free-form map still works offline."""
    if not isinstance(body, dict):
        return body
    return {
        key: value
        if key in _IDENTITY
        else _hash_value(value, (key,), rule, salt, rule.covers((key,)))
        for key, value in body.items()
    }


def _hash_value(value: Any, path: TreePath, rule: SensitiveRule, salt: bytes, hidden: bool) -> Any:
    if isinstance(value, dict):
        return {
            key: _hash_value(
                item, (*path, key), rule, salt, hidden or rule.covers((*path, str(key)))
            )
            for key, item in value.items()
        }
    if hidden:
        return value if value is None else digest(value, salt)  # null hides nothing
    if isinstance(value, list):
        return [
            _hash_value(item, (*path, index), rule, salt, rule.covers((*path, index)))
            for index, item in enumerate(value)
        ]
    return value


def snapshot_rule(deployment: DesiredDeployment | None, policy: SensitivePolicy) -> SensitiveRule:
    """What a snapshot hashes for one deployment: its rule, with key names checked anywhere."""
    return replace(policy.rule_for(deployment), names_anywhere=True)


def hash_declared(
    deployment: DesiredDeployment, live: Mapping[str, Any], salt: bytes
) -> tuple[DesiredDeployment, dict[str, Any], frozenset[TreePath]]:
    """For ``--live-from``: the declared values hashed wherever the snapshot holds a digest,
    and the paths that were. Both sides then hold a digest as one opaque ``sha256:HEX`` string
    (in a map, deepdiff would report a difference inside the digest instead of at its path)."""
    hashed = frozenset(path for path, value in _walk(live, ()) if is_digest(value))
    if not hashed:
        return deployment, dict(live), hashed
    fields = copy.deepcopy(deployment.fields)
    body = copy.deepcopy(dict(live))
    for path in hashed:
        _replace_at(body, path, lambda recorded: _opaque(recorded))
        if not _replace_at(fields, path, lambda declared: _opaque(digest(declared, salt))):
            _hash_default(fields, path, salt)
    return replace(deployment, fields=fields), body, hashed


def _opaque(value: dict[str, str]) -> str:
    return f"{HASH_KEY}:{value[HASH_KEY]}"


def _replace_at(root: dict[str, Any], path: TreePath, change: Any) -> bool:
    """Replace the (non-null) value at ``path`` with ``change(value)``; False when absent."""
    parent: Any = root
    for part in path[:-1]:
        parent = _child(parent, part)
    last = path[-1]
    if _child(parent, last) is None:
        return False
    parent[last] = change(parent[last])
    return True


def _child(value: Any, part: str | int) -> Any:
    if isinstance(value, dict):
        return value.get(part)
    if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
        return value[part]
    return None


def _hash_default(fields: dict[str, Any], path: TreePath, salt: bytes) -> None:
    """A vendor field left out compares as its spec default: hash that instead."""
    declared = fields.get(_VC)
    if len(path) != 2 or path[0] != _VC or not isinstance(declared, dict):
        return
    field = spec.VENDOR_FIELDS.get(str(declared.get("vendor")), {}).get(str(path[1]))
    if field is not None and field.has_default:
        declared[path[1]] = _opaque(digest(field.default, salt))


def parse_salt(value: Any) -> bytes | None:
    """A snapshot's ``sensitive_salt`` (absent in snapshots older than the feature)."""
    if value is None:
        return None
    if not isinstance(value, str) or _HEX_DIGEST.fullmatch(value) is None:
        raise ValueError(f"sensitive_salt must be {SALT_BYTES * 2} lowercase hex digits")
    return bytes.fromhex(value)


def snapshot_rules(
    deployments: Iterable[DesiredDeployment], policy: SensitivePolicy
) -> tuple[dict[tuple[str, str], SensitiveRule], SensitiveRule]:
    """The rule of each declared deployment, and one for live deployments no manifest declares
    (``snapshot --all``): every manifest pattern applies to those, as hashing more is harmless."""
    rules: dict[tuple[str, str], SensitiveRule] = {}
    patterns: dict[str, IgnorePattern] = {p.text: p for p in policy.patterns}
    for deployment in deployments:
        rules[deployment.key] = snapshot_rule(deployment, policy)
        patterns.update((p.text, p) for p in deployment.sensitive)
    return rules, SensitiveRule(tuple(patterns.values()), names_anywhere=True)


def strip_body(body: Any, rule: SensitiveRule) -> tuple[Any, list[TreePath]]:
    """A live body without its sensitive values, and where they were (``--as-manifest`` must
    not write a secret into a manifest; a left-out free-form key is simply not compared)."""
    if not isinstance(body, dict):
        return body, []
    removed: list[TreePath] = []

    def keep(value: Any, path: TreePath) -> Any:
        if not isinstance(value, dict):
            return value
        kept = {}
        for key, item in value.items():
            inner = (*path, str(key))
            if key in _IDENTITY and not path:
                kept[key] = item
            elif rule.covers(inner) or (isinstance(item, list) and rule.touches(inner, item)):
                removed.append(inner)  # a list compares whole: all of it, or none
            else:
                kept[key] = keep(item, inner)
        return kept

    return keep(body, ()), removed
