"""``check --notify slack=URL`` / ``--notify webhook=URL``: one POST after the run.

By default a notification goes out only when something changed against the baseline (a new
finding, a resolved one, a new error); on a first run without a baseline, when there is any
finding or error at all. A nightly alert that repeats the same known drift every night is
soon muted, and then it cannot tell anyone about the night that matters.

A webhook URL is a credential (whoever holds it can post to the channel), so it is treated
like the API key: it is never printed, logged or written; messages name the target by its
kind (``slack notification``). Bodies are built from the result records only, after the
sensitive values were masked at their source.
"""

from __future__ import annotations

import ipaddress
import json
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

# The API's retry policy: which answers are worth another attempt, and how long to wait.
from driftcheck.live.retry import backoff_delay, retry_after, should_retry
from driftcheck.live.settings import is_loopback

# The bodies live in notifybody.py; importing them from here keeps working.
from driftcheck.notifybody import (
    BODIES,
    Change,
    NotifyOn,
    change_of,
    should_notify,
    slack_body,
    webhook_body,
)

__all__ = [
    "BODIES",
    "KINDS",
    "Change",
    "NotifyOn",
    "NotifyOptionError",
    "RetryPolicy",
    "Target",
    "change_of",
    "parse_target",
    "send",
    "should_notify",
    "slack_body",
    "webhook_body",
]

KINDS = ("slack", "webhook")
MAX_BACKOFF = 8.0
MAX_RETRY_WAIT = 60.0
ANSWER_BYTES = 1024


class NotifyOptionError(ValueError):
    """A ``--notify`` value that cannot be used; the message never contains the URL."""


@dataclass(frozen=True)
class Target:
    kind: str
    url: str = field(repr=False)  # a secret: never in a repr, a message or a file

    @property
    def label(self) -> str:
        return f"{self.kind} notification"


@dataclass(frozen=True)
class RetryPolicy:
    """The API's policy, from the same options (--timeout, --retries, --backoff)."""

    timeout: float = 30.0
    retries: int = 3
    backoff: float = 0.5


def parse_target(value: str, environ: Mapping[str, str]) -> Target:
    """``KIND=URL`` or ``KIND=env:NAME`` (the URL read from the environment variable NAME,
    so that it need not appear on a command line)."""
    kind, sep, url = value.partition("=")
    if not sep or kind not in KINDS:
        shown = f" {kind!r}" if sep and kind.isidentifier() and len(kind) <= 20 else ""
        raise NotifyOptionError(
            f"unknown notification kind{shown}: expected slack=URL or webhook=URL "
            "(or KIND=env:VARIABLE)"
        )
    where = f"the {kind} URL"
    if url.startswith("env:"):
        name = url[4:]
        url = environ.get(name, "")
        if not url:
            raise NotifyOptionError(f"{kind}=env:{name}: the variable {name} is not set")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise NotifyOptionError(f"{where} is not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise NotifyOptionError(f"{where} must start with https://")
    if not _valid_host(parsed.raw_host.decode("ascii", "replace")):
        # httpx percent-encodes what cannot be in a host (``https://[bad/``) instead of
        # refusing it: such a URL would only fail at delivery, after a DNS lookup of garbage
        raise NotifyOptionError(f"{where} is not a valid URL (bad host name)")
    if parsed.scheme == "http" and not is_loopback(parsed.host):
        raise NotifyOptionError(
            f"{where} uses plain http, refused except to loopback (the URL is a secret); use https"
        )
    return Target(kind, url)


_HOST_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?"
_HOST_NAME = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?")


def _valid_host(host: str) -> bool:
    """A DNS name (httpx already turned an IDN into ``xn--``), an IPv4 or an IPv6 address."""
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    return _HOST_NAME.fullmatch(host) is not None


# ---------------------------------------------------------------------------------------------
# Sending


def send(
    target: Target,
    body: dict[str, Any],
    policy: RetryPolicy,
    *,
    user_agent: str,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> str | None:
    """POST ``body`` with the API's retry policy; None when it was delivered, else why not
    (a message without the URL)."""
    rng = rng or random.Random()
    url = httpx.URL(target.url)
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = {"content-type": "application/json", "user-agent": user_agent}
    # Proxy and CA settings from the environment apply, except on loopback (tests, sidecars).
    trust_env = not is_loopback(url.host)
    with httpx.Client(
        timeout=policy.timeout, follow_redirects=False, trust_env=trust_env
    ) as client:
        attempt = 0
        while True:
            attempt += 1
            wait: float | None = None
            try:
                with client.stream("POST", url, content=data, headers=headers) as response:
                    answer = _answer(response)
            except httpx.TimeoutException:
                message, retryable = f"timed out after {policy.timeout:g}s", True
            except httpx.TransportError as exc:
                message, retryable = f"connection failed: {_reason(exc)}", True
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return None
                if response.is_redirect:
                    # a redirect would send the body (and maybe the secret path) elsewhere
                    return f"HTTP {status} redirect not followed"
                retryable = should_retry(status, response.headers)
                wait = retry_after(response.headers, MAX_RETRY_WAIT)
                message = f"HTTP {status}{answer}"
            if not retryable or attempt > policy.retries:
                if attempt > 1:
                    retries = attempt - 1
                    message += f" after {retries} retr{'y' if retries == 1 else 'ies'}"
                return _redact(message, target.url)
            if wait is None:
                wait = backoff_delay(attempt, policy.backoff, MAX_BACKOFF, rng.random())
            sleep(wait)


def _answer(response: httpx.Response) -> str:
    """Slack answers a refused post with a short reason (``invalid_token``, ``no_service``).
    At most the first KiB is read: a receiver's answer is never worth more memory."""
    if 200 <= response.status_code < 300:
        return ""
    head = b""
    for chunk in response.iter_bytes():
        head += chunk
        if len(head) >= ANSWER_BYTES:
            break
    text = " ".join(head[:ANSWER_BYTES].decode("utf-8", "replace").split())
    return f": {text[:100]}" if text and not text.startswith("<") else ""


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _redact(text: str, url: str) -> str:
    """The URL and its path (where a webhook's token lives) never reach a message."""
    parsed = httpx.URL(url)
    for secret in (url, str(parsed), parsed.path, parsed.query.decode("ascii", "replace")):
        if len(secret) > 1:
            text = text.replace(secret, "***")
    return text
