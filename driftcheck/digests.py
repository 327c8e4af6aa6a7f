"""Snapshots: sensitive live values stored as salted HMACs (DESIGN "Sensitive values").

``snapshot`` replaces each value at a sensitive path with ``{"sha256": HEX}``, HMAC-SHA256 keyed
by the snapshot's random ``sensitive_salt`` (:func:`hash_body`); ``--live-from`` hashes the
declared values the same way wherever the snapshot holds a digest (:func:`hash_declared`), so
an offline check still finds drift on secrets that never touched the disk.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from driftcheck import spec
from driftcheck.live.records import Fetched, Key, Outcome
from driftcheck.normalize import normalize_value
from driftcheck.paths import PathPattern, TreePath
from driftcheck.sensitive import SensitivePolicy, SensitiveRule, walk

if TYPE_CHECKING:
    from driftcheck.manifest import DesiredDeployment

SALT_BYTES = 32
HASH_KEY = "sha256"
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
# A snapshot must still say which deployment a body is: these are never hashed.
_IDENTITY = frozenset({"id", "model_instance_id"})
_VC = "vendor_configuration"


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


def key_digest(key: str, salt: bytes) -> str:
    """A map key below a sensitive point, as a snapshot stores it: a secret may be a key."""
    return _opaque(digest(key, salt))


def _hash_value(value: Any, path: TreePath, rule: SensitiveRule, salt: bytes, hidden: bool) -> Any:
    if isinstance(value, dict):
        return {
            key_digest(key, salt) if hidden else key: _hash_value(
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
    hashed = frozenset(path for path, value in walk(live, ()) if is_digest(value))
    if not hashed:
        return deployment, dict(live), hashed
    fields = _align_keys(deployment.fields, live, salt)
    body = copy.deepcopy(dict(live))
    for path in hashed:
        _replace_at(body, path, lambda recorded: _opaque(recorded))
        if not _replace_at(fields, path, lambda declared: _opaque(digest(declared, salt))):
            _hash_default(fields, path, salt)
    return replace(deployment, fields=fields), body, hashed


def _align_keys(declared: Any, live: Any, salt: bytes) -> Any:
    """A deep copy of ``declared`` whose keys are spelled as the snapshot spells them: a key
    the snapshot holds only as its digest (below a sensitive point) becomes that digest."""
    if isinstance(declared, dict):
        recorded = live if isinstance(live, dict) else {}
        aligned = {}
        for key, value in declared.items():
            hashed = key_digest(key, salt) if isinstance(key, str) else key
            spelled = hashed if key not in recorded and hashed in recorded else key
            aligned[spelled] = _align_keys(value, recorded.get(spelled), salt)
        return aligned
    if isinstance(declared, list):
        recorded_items = live if isinstance(live, list) else []
        return [
            _align_keys(item, recorded_items[index] if index < len(recorded_items) else None, salt)
            for index, item in enumerate(declared)
        ]
    return copy.deepcopy(declared)


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
    patterns: dict[str, PathPattern] = {p.text: p for p in policy.patterns}
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


def protect_outcomes(
    deployments: Sequence[DesiredDeployment],
    policy: SensitivePolicy,
    keys: Sequence[Key],
    outcomes: Sequence[Outcome],
    salt: bytes | None,
) -> tuple[list[Outcome], str]:
    """The live bodies as ``snapshot`` may write them: sensitive values hashed with ``salt``
    (a snapshot), or left out (``--as-manifest``; then also the comment lines naming them)."""
    from driftcheck.bootstrap import comment_text

    rules, default = snapshot_rules(deployments, policy)
    written: list[Outcome] = []
    left_out: list[str] = []
    for key, outcome in zip(keys, outcomes, strict=True):
        if isinstance(outcome, Fetched):
            rule = rules.get(key, default)
            if salt is not None:
                outcome = replace(outcome, body=hash_body(outcome.body, rule, salt))
            else:
                body, removed = strip_body(outcome.body, rule)
                outcome = replace(outcome, body=body)
                left_out.extend(
                    "#   " + comment_text(f"{key[0]}/{key[1]}: {'.'.join(map(str, path))}")
                    for path in removed
                )
        written.append(outcome)
    if not left_out:
        return written, ""
    header = "# Sensitive values left out (declare them from a secret, e.g. ${env:NAME}):"
    return written, "\n".join([header, *left_out]) + "\n"
