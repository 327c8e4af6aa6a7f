"""Retry decisions as pure functions: what to retry, and how long to wait first."""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping

RETRYABLE_STATUSES = frozenset({408, 409, 429})


def should_retry(status: int, headers: Mapping[str, str]) -> bool:
    """Whether a response with ``status`` is worth another attempt; ``x-should-retry`` wins."""
    hint = headers.get("x-should-retry", "").strip().lower()
    if hint == "false":
        return False
    if hint == "true":  # the server knows best; 401/403/404 never get this far
        return True
    return status in RETRYABLE_STATUSES or status >= 500


def retry_after(headers: Mapping[str, str], cap: float, now: float | None = None) -> float | None:
    """Seconds the server asked to wait (``retry-after-ms`` or ``retry-after``), capped."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            millis = float(raw_ms)
        except ValueError:
            millis = math.nan
        if math.isfinite(millis):
            return min(max(millis / 1000.0, 0.0), cap)
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):  # NaN, or 1e400: a wait nobody means, not the cap
        return None
    return min(max(seconds, 0.0), cap)


def backoff_delay(attempt: int, first: float, most: float, jitter: float) -> float:
    """Exponential backoff before attempt ``attempt + 1``; ``jitter`` in [0, 1) shaves up to
    a quarter off, so workers that failed together do not retry together."""
    base = min(first * 2 ** (attempt - 1), most)
    return float(base * (1 - 0.25 * jitter))
