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
    """Seconds the server asked to wait (``retry-after-ms`` or ``retry-after``), or None.

    A wait beyond ``cap`` is not honoured at all (None: the usual backoff applies), as the
    official SDK does: waiting the cap and asking again would only hold the run (and, for a
    429, every worker) for a server that said it will not be back by then. A negative number
    is no wait a server can mean; an HTTP date in the past is "now".
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            millis = float(raw_ms)
        except ValueError:
            millis = math.nan
        if math.isfinite(millis) and 0 <= millis / 1000.0 <= cap:
            return millis / 1000.0
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
        seconds = max(when.timestamp() - (time.time() if now is None else now), 0.0)
    # NaN, inf, 1e400, a negative number or more than the cap: a wait nobody means
    if not math.isfinite(seconds) or not 0 <= seconds <= cap:
        return None
    return seconds


def backoff_delay(attempt: int, first: float, most: float, jitter: float) -> float:
    """Exponential backoff before attempt ``attempt + 1``; ``jitter`` in [0, 1) shaves up to
    a quarter off, so workers that failed together do not retry together."""
    base = min(first * 2 ** (attempt - 1), most)
    return float(base * (1 - 0.25 * jitter))
