"""HTTP settings, and the checks that refuse unusable or unsafe ones before any request."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from driftcheck.live.records import SourceError

DEFAULT_BASE_URL = "https://api.egp.scale.com"


@dataclass(frozen=True)
class HttpSettings:
    base_url: str = DEFAULT_BASE_URL
    api_key: str = field(default="", repr=False)
    account_id: str | None = None
    timeout: float = 30.0
    retries: int = 3
    concurrency: int = 16
    backoff: float = 0.5  # first retry delay; doubles each time, with jitter
    max_backoff: float = 8.0
    max_retry_wait: float = 60.0  # upper bound on any wait a server asks for
    ca_bundle: str | None = None
    allow_insecure_http: bool = False
    page_size: int = 10_000  # list endpoints allow at most 10,000 items a page
    max_rps: int | None = None  # request starts in any one-second window, all workers
    # further secrets of the run (notification URLs): redacted like the key
    secrets: tuple[str, ...] = field(default=(), repr=False)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_settings(settings: HttpSettings) -> None:
    """Refuse settings that would leak the key or cannot work, before any request."""
    try:
        parts = urlsplit(settings.base_url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise SourceError(f"invalid base URL {settings.base_url!r}: {exc}") from None
    if parts.username is not None or parts.password is not None:
        raise SourceError(
            "credentials in the base URL are not supported (they would end up in reports); "
            "pass the key in SGP_API_KEY or --api-key-file"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"invalid base URL {settings.base_url!r}: expected https://host[:port]")
    if parts.query or parts.fragment:
        raise SourceError(f"invalid base URL {settings.base_url!r}: no query or fragment allowed")
    if (
        parts.scheme == "http"
        and not is_loopback(parts.hostname)
        and not settings.allow_insecure_http
    ):
        raise SourceError(
            f"refusing to send the API key over plain http to {parts.hostname}: "
            "use https, or pass --allow-insecure-http"
        )
    if not settings.api_key:
        raise SourceError(
            "no API key: set SGP_API_KEY or pass --api-key-file (keys are never read "
            "from manifests)"
        )
    if any(ord(ch) < 0x21 or ord(ch) > 0x7E for ch in settings.api_key):
        raise SourceError(
            "the API key contains characters that cannot be sent in an HTTP header "
            "(white space or non-ASCII); check SGP_API_KEY or --api-key-file"
        )
    if settings.account_id is not None and any(
        ord(ch) < 0x20 or ord(ch) > 0x7E for ch in settings.account_id
    ):
        raise SourceError("the account id contains characters not allowed in an HTTP header")
    if settings.concurrency < 1:
        raise SourceError("--concurrency must be at least 1")
    if settings.retries < 0:
        raise SourceError("--retries must be 0 or more")
    if not math.isfinite(settings.timeout) or settings.timeout <= 0:
        raise SourceError("--timeout must be a finite number of seconds, more than 0")
    if not math.isfinite(settings.backoff) or settings.backoff < 0:
        raise SourceError("--backoff must be a finite number of seconds, 0 or more")
    if settings.max_rps is not None and settings.max_rps < 1:
        raise SourceError("--max-rps must be at least 1")
