"""Reading response bodies: strict JSON with shared key strings, and the API's error detail."""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

from driftcheck.live.records import Failed, Fetched, Outcome
from driftcheck.result import ErrorInfo, ErrorKind


class JsonProblem(ValueError):
    """Why a body is not JSON driftcheck can compare, in words for a report."""


def reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:200]


def _intern_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Every deployment body repeats the same keys: one string object per key name saves
    # ~1.5 KB of memory per deployment (json shares keys only within one document).
    found = {sys.intern(key): value for key, value in pairs}
    if len(found) != len(pairs):
        # {"status": "READY", "status": "FAILED"}: RFC 8259 leaves the meaning open, and a
        # gate must not pick one reading (Python keeps the last, other readers the first).
        # The key is not named: a server may echo a secret as one.
        raise JsonProblem("an object repeats a key (which value counts is ambiguous)")
    return found


def _finite(text: str) -> float:
    # 1e400 reads as infinity: a number no API sends and no comparison could trust
    value = float(text)
    if not math.isfinite(value):
        raise JsonProblem(f"the number {text[:40]} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise JsonProblem(f"{name} is not a JSON value")


def parse_json(raw: bytes) -> Any:
    """Strict JSON (RFC 8259: no NaN or Infinity); :class:`JsonProblem` says why not."""
    try:
        return json.loads(
            raw,
            object_pairs_hook=_intern_keys,
            parse_float=_finite,
            parse_constant=_no_constant,
        )
    except JsonProblem:
        raise
    except RecursionError:
        raise JsonProblem("JSON nested deeper than driftcheck can read") from None
    except ValueError as exc:
        limit = re.search(r"Exceeds the limit \((\d+) digits\)", str(exc))
        if limit:  # Python's int_max_str_digits, a guard against quadratic parsing
            raise JsonProblem(f"an integer longer than {limit.group(1)} digits") from None
        raise JsonProblem("not JSON") from None


def json_or_none(raw: bytes) -> Any:
    try:
        return parse_json(raw)
    except JsonProblem:
        return None


def parse_body(raw: bytes, content_type: str, attempts: int) -> Outcome:
    try:
        body = parse_json(raw)
    except JsonProblem as exc:
        kind = content_type.split(";")[0].strip() or "no content type"
        return Failed(
            ErrorInfo(
                ErrorKind.INVALID_RESPONSE,
                f"HTTP 200 body cannot be read: {exc} ({kind})",
                http_status=200,
                attempts=attempts,
            )
        )
    return Fetched(body, 200, attempts)


def describe(raw: bytes, content_type: str) -> str:
    """What a body that is not the API's JSON looks like, for a message."""
    if not raw:
        return "an empty body"
    kind = content_type.split(";")[0].strip()
    if not kind:
        return "a body without a content type"
    return f"{'an' if kind[0].lower() in 'aeiou' else 'a'} {kind} body"


def detail(raw: bytes) -> str:
    body = json_or_none(raw)
    found = body.get("detail") if isinstance(body, dict) else None
    if isinstance(found, str) and found:
        return f": {found[:200]}"
    if isinstance(found, list) and found and isinstance(found[0], dict):
        first = found[0]
        where = ".".join(str(p) for p in first.get("loc", []))
        return f": {where}: {str(first.get('msg', ''))[:200]}"
    return ""
