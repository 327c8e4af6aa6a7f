"""Turning pydantic's validation errors into plain messages, with close-match suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from driftcheck import spec
from driftcheck.manifest.models import (
    DEPLOYMENT_KEYS,
    KINDS,
    MANIFEST_VERSION,
    TOP_KEYS,
    describe_default,
)

Loc = tuple[str | int, ...]

_TOP_EXPECTED = {
    "version": "1",
    "ignore": "a list of path patterns (strings or mappings with 'path')",
    "sensitive": "a list of path patterns (strings)",
    "deployments": "a list of deployments",
    "model_instance_id": "a non-empty string",
    "deployment_id": "a non-empty string",
    "name": "a string",
    "model_endpoint_id": "a string",
    "status": "a string such as READY",
    "model_creation_parameters": "a mapping",
    "deployment_metadata": "a mapping",
    "vendor_configuration": "a mapping with 'vendor: LAUNCH' or 'vendor: LLMENGINE'",
}


def describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def close_match(word: str, choices: Sequence[str], cutoff: float = 0.6) -> str | None:
    found = difflib.get_close_matches(word, choices, n=1, cutoff=cutoff)
    return found[0] if found else None


def suggest(word: str, choices: Sequence[str]) -> str:
    close = close_match(word, choices)
    hint = f"did you mean {close!r}? " if close else ""
    return f"{hint}allowed keys: {', '.join(choices)}"


def dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "manifest"


def _clean_loc(loc: Loc) -> Loc:
    """Drop the discriminator tag pydantic inserts after ``vendor_configuration``."""
    cleaned: list[str | int] = []
    for index, part in enumerate(loc):
        if part in spec.VENDORS and index > 0 and loc[index - 1] == "vendor_configuration":
            continue
        cleaned.append(part)
    return tuple(cleaned)


def value_at(data: Any, path: Loc) -> Any:
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def explain(error: Any, data: Any) -> tuple[Loc, str]:
    """The path and plain message for one pydantic error on the manifest ``data``."""
    loc = _clean_loc(tuple(error["loc"]))
    kind = error["type"]
    key = loc[-1] if loc else ""
    value = error.get("input")
    where = dotted(loc)
    in_vendor = len(loc) >= 4 and loc[0] == "deployments" and loc[2] == "vendor_configuration"
    if in_vendor:
        # a vendor field as a whole: drop the union member pydantic appends ("int", "str")
        loc = loc[:4]
        key = loc[3]
        where = dotted(loc)

    if kind == "missing":
        return loc[:-1], f"missing required key {key!r}"
    if kind == "extra_forbidden":
        return loc, _unknown_key(loc, data)
    if kind in ("union_tag_not_found", "model_attributes_type") and loc[-1:] == (
        "vendor_configuration",
    ):
        if isinstance(value, dict):
            return loc, "vendor_configuration needs 'vendor: LAUNCH' or 'vendor: LLMENGINE'"
        return loc, f"vendor_configuration: expected a mapping, got {describe(value)}"
    if kind == "union_tag_invalid":
        vendor_loc = (*loc, "vendor")
        vendor = value_at(data, vendor_loc)
        if not isinstance(vendor, str):
            return vendor_loc, f"vendor: expected LAUNCH or LLMENGINE, got {describe(vendor)}"
        close = close_match(vendor.upper(), spec.VENDORS)
        hint = f" (did you mean {close!r}?)" if close else ""
        return vendor_loc, f"unknown vendor {vendor!r}{hint}: expected LAUNCH or LLMENGINE"
    if in_vendor and isinstance(key, str):
        vendor = value_at(data, (*loc[:3], "vendor"))
        field_spec = spec.VENDOR_FIELDS.get(str(vendor), {}).get(key)
        if key == "gpu_type" and isinstance(value, str):
            close = close_match(value, spec.GPU_TYPES, cutoff=0.5)
            hint = f" (did you mean {close!r}?)" if close else ""
            return loc, (
                f"unknown gpu_type {value!r}{hint}; expected one of " + ", ".join(spec.GPU_TYPES)
            )
        if field_spec is not None and value is None:
            hint = (
                f"leave the key out to use the default {describe_default(field_spec.default)}"
                if field_spec.has_default
                else "leave the key out if it should not be compared"
            )
            return loc, f"{where}: null is not allowed; {hint}"
        if field_spec is not None:
            expected = KINDS[field_spec.kind].expected
            return loc, f"{where}: expected {expected}, got {describe(value)}"
    if loc == ("version",):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return loc, (
                f"unsupported manifest version {value!r}: "
                f"this driftcheck reads version {MANIFEST_VERSION}"
            )
        return loc, f"version: expected the number {MANIFEST_VERSION}, got {describe(value)}"
    if kind == "string_too_short":
        return loc, f"{where}: must not be empty"
    if len(loc) >= 2 and loc[-2] == "sensitive" and isinstance(loc[-1], int):
        return loc, f"{where}: expected a sensitive pattern (a string), got {describe(value)}"
    if isinstance(key, str) and key in _TOP_EXPECTED and (len(loc) <= 3):
        return loc, f"{where}: expected {_TOP_EXPECTED[key]}, got {describe(value)}"
    if kind == "dict_type" or kind == "model_type" or kind == "model_attributes_type":
        return loc, f"{where}: expected a mapping, got {describe(value)}"
    if kind == "list_type":
        return loc, f"{where}: expected a list, got {describe(value)}"
    return loc, f"{where}: {error['msg']}"


def _unknown_key(loc: Loc, data: Any) -> str:
    key = str(loc[-1])
    if len(loc) == 1:
        return f"unknown key {key!r}: {suggest(key, TOP_KEYS)}"
    if len(loc) == 3 and loc[0] == "deployments":
        if key in spec.SERVER_MANAGED:
            return f"{key!r} is server-managed and cannot be declared"
        return f"unknown key {key!r}: {suggest(key, DEPLOYMENT_KEYS)}"
    if len(loc) == 4 and loc[2] == "vendor_configuration":
        vendor = str(value_at(data, (*loc[:3], "vendor")))
        other = spec.vendor_of_other_field(key, vendor)
        if other is not None:
            return f"{key!r} is not valid for vendor {vendor} (it belongs to {other})"
        allowed = ("vendor", *spec.VENDOR_FIELDS.get(vendor, {}))
        return f"unknown key {key!r} for vendor {vendor}: {suggest(key, allowed)}"
    return f"unknown key {key!r}"
