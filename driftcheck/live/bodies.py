"""Reading response bodies: JSON with shared key strings, and the API's error detail."""

from __future__ import annotations

import json
import sys
from typing import Any

from driftcheck.live.records import Failed, Fetched, Outcome
from driftcheck.result import ErrorInfo, ErrorKind


def reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:200]


def json_or_none(response: Any) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):
        return None


def _intern_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Every deployment body repeats the same keys: one string object per key name saves
    # ~1.5 KB of memory per deployment (json shares keys only within one document).
    return {sys.intern(key): value for key, value in pairs}


def parse_body(response: Any, attempts: int) -> Outcome:
    try:
        body = json.loads(response.content, object_pairs_hook=_intern_keys)
    except (ValueError, RecursionError):  # not JSON, or nested past what Python can parse
        kind = response.headers.get("content-type", "unknown content type").split(";")[0]
        return Failed(
            ErrorInfo(
                ErrorKind.INVALID_RESPONSE,
                f"HTTP 200 body is not JSON ({kind})",
                http_status=200,
                attempts=attempts,
            )
        )
    return Fetched(body, 200, attempts)


def detail(response: Any) -> str:
    body = json_or_none(response)
    found = body.get("detail") if isinstance(body, dict) else None
    if isinstance(found, str) and found:
        return f": {found[:200]}"
    if isinstance(found, list) and found and isinstance(found[0], dict):
        first = found[0]
        where = ".".join(str(p) for p in first.get("loc", []))
        return f": {where}: {str(first.get('msg', ''))[:200]}"
    return ""
