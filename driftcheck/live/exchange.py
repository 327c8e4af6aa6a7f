"""One request, the way every endpoint is asked: retries, redirects, deadlines, the auth stop.

Built on httpx's own transport (httpcore). What httpx does not decide for a drift gate is
decided here: a whole attempt has one deadline, a body is decoded within a limit
(:mod:`driftcheck.live.decode`), a redirect never leaves the base URL's origin, a 401 stops
every later request, and a secret a server echoes back never reaches a report.
"""

from __future__ import annotations

import asyncio
import random
import re
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from driftcheck import __version__
from driftcheck.live.bodies import detail, reason
from driftcheck.live.decode import ACCEPT_ENCODING, MAX_BODY_BYTES, BodyError, read_limited
from driftcheck.live.pace import Pacer
from driftcheck.live.pool import ClientPool
from driftcheck.live.records import AUTH_HINT, Failed, SourceError, auth_error
from driftcheck.live.redact import Redactor
from driftcheck.live.retry import backoff_delay, retry_after, should_retry
from driftcheck.live.settings import HttpSettings, is_loopback
from driftcheck.result import ErrorInfo, ErrorKind

if TYPE_CHECKING:
    import httpx

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Answer:
    """A response whose body was read whole (within the limit)."""

    status: int
    headers: httpx.Headers
    body: bytes
    url: httpx.URL
    attempts: int = 1

    @property
    def content_type(self) -> str:
        return str(self.headers.get("content-type", ""))


class _Refused(Exception):
    """An answer that ends the attempt at once, with an error of its own."""

    def __init__(self, kind: ErrorKind, status: int, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


class Requester:
    """Asks the API for paths under the base URL, with the run's settings."""

    def __init__(self, settings: HttpSettings, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.redactor = Redactor((settings.api_key, *settings.secrets))
        self._rng = rng or random.Random()
        self._pacer = Pacer(settings.max_rps)
        self._auth_error: tuple[ErrorInfo, str] | None = None
        parts = urlsplit(settings.base_url)
        self._origin = (parts.scheme, parts.hostname, parts.port)
        self._prefix = settings.base_url.rstrip("/")
        # proxies from the environment must not capture requests meant for loopback
        self._trust_env = not is_loopback(parts.hostname or "")
        self._tls = self._tls_context(parts.scheme)

    def _tls_context(self, scheme: str) -> ssl.SSLContext | bool:
        """One TLS context shared by every connection (each costs tens of ms to build);
        ``False`` for plain http, where no TLS can happen (redirects never leave the origin).
        ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` count for every host, loopback included."""
        if scheme == "http":
            return False
        bundle = self.settings.ca_bundle
        try:
            if bundle:
                return ssl.create_default_context(cafile=bundle)
            import httpx

            return httpx.create_ssl_context(trust_env=True)
        except (OSError, ssl.SSLError) as exc:
            where = f"--ca-bundle {bundle}" if bundle else "SSL_CERT_FILE / SSL_CERT_DIR"
            raise SourceError(f"cannot use {where}: {exc}") from None

    def headers(self) -> dict[str, str]:
        headers = {
            "x-api-key": self.settings.api_key,
            "user-agent": f"driftcheck/{__version__}",
            "accept": "application/json",
            "accept-encoding": ACCEPT_ENCODING,
        }
        if self.settings.account_id:
            headers["x-selected-account-id"] = self.settings.account_id
        return headers

    def pool(self, connections: int) -> ClientPool:
        import httpx

        settings = self.settings

        def make() -> httpx.AsyncClient:
            return httpx.AsyncClient(
                headers=self.headers(),
                timeout=httpx.Timeout(settings.timeout),
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                verify=self._tls,
                follow_redirects=False,
                trust_env=self._trust_env,
            )

        return ClientPool(make, connections, self._pacer)

    async def request(
        self,
        pool: ClientPool,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        label: str = "",
        stop_on_auth: bool = True,
    ) -> Answer | Failed:
        """GET ``path`` with retries; a 200 or 404 :class:`Answer`, or a :class:`Failed` for
        everything else. A 401 stops every later request unless ``stop_on_auth`` is off (list
        pages read only to save GETs); a 403 concerns only what was asked for."""
        import httpx

        settings = self.settings
        attempt = 0
        while True:
            if self._auth_error is not None:
                return Failed(self._skipped_after_auth())
            attempt += 1
            wait: float | None = None
            status: int | None = None
            try:
                answer = await self._follow(pool, self._prefix + path, params)
            except _Refused as exc:
                message = self.redactor.text(str(exc))
                return Failed(
                    ErrorInfo(exc.kind, message, http_status=exc.status, attempts=attempt)
                )
            except (asyncio.TimeoutError, httpx.TimeoutException):
                kind, message = ErrorKind.TIMEOUT, f"timed out after {settings.timeout:g}s"
                retryable = True
            except httpx.RemoteProtocolError as exc:
                kind, message, retryable = protocol_error(exc)
            except httpx.TransportError as exc:
                kind, message = ErrorKind.NETWORK, f"connection failed: {reason(exc)}"
                # an untrusted certificate stays untrusted: no retry, and say what helps
                retryable = "CERTIFICATE_VERIFY_FAILED" not in message
                if not retryable:
                    message += " (a private CA? pass --ca-bundle, or set SSL_CERT_FILE)"
            else:
                status = answer.status
                if status in (200, 404):
                    return Answer(status, answer.headers, answer.body, answer.url, attempt)
                if status in (401, 403):
                    error = auth_error(status, attempt)
                    if status == 401 and stop_on_auth and self._auth_error is None:
                        self._auth_error = (error, label or path)
                    return Failed(error)
                retryable = should_retry(status, answer.headers)
                wait = retry_after(answer.headers, settings.max_retry_wait)
                if status == 429 and wait is not None:
                    self._pacer.pause(wait)  # the server is overloaded for everyone
                # the API's detail explains a rejected request (422); for an overloaded or
                # failing server the status and the retries say it all
                explained = "" if retryable else detail(answer.body)
                kind, message = ErrorKind.HTTP, f"HTTP {status}{explained}"
            if not retryable or attempt > settings.retries:
                if attempt > 1:
                    retries = attempt - 1
                    message += f" after {retries} retr{'y' if retries == 1 else 'ies'}"
                message = self.redactor.text(message)
                return Failed(ErrorInfo(kind, message, http_status=status, attempts=attempt))
            await asyncio.sleep(self._delay(attempt, wait))

    async def _follow(self, pool: ClientPool, url: str, params: dict[str, Any] | None) -> Answer:
        """GET, following redirects only within the same origin (the key never leaves it)."""
        import httpx

        for _ in range(MAX_REDIRECTS + 1):
            answer = await pool.send(url, params, _read, self.settings.timeout)
            status = answer.status
            if status not in REDIRECT_STATUSES:
                return answer
            location = answer.headers.get("location")
            if not location:
                raise _Refused(ErrorKind.HTTP, status, f"HTTP {status} redirect without a Location")
            try:
                target = answer.url.join(location)
            except httpx.InvalidURL:
                raise _Refused(
                    ErrorKind.HTTP, status, f"HTTP {status} redirect to an invalid Location"
                ) from None
            if (target.scheme, target.host, target.port) != self._origin:
                port = f":{target.port}" if target.port else ""
                where = (
                    "another host" if target.host != self._origin[1] else "another scheme or port"
                )
                raise _Refused(
                    ErrorKind.HTTP,
                    status,
                    f"HTTP {status} redirect to {where} ({target.scheme}://{target.host}{port}) "
                    "not followed, so the API key is not sent there",
                )
            url, params = str(target), None
        raise _Refused(ErrorKind.HTTP, status, f"more than {MAX_REDIRECTS} redirects")

    def _delay(self, attempt: int, asked: float | None) -> float:
        if asked is not None:
            return asked
        settings = self.settings
        return backoff_delay(attempt, settings.backoff, settings.max_backoff, self._rng.random())

    def _skipped_after_auth(self) -> ErrorInfo:
        assert self._auth_error is not None
        error, where = self._auth_error
        return ErrorInfo(
            error.kind,
            f"not checked: HTTP {error.http_status} on {where} stopped all requests; "
            + AUTH_HINT[error.kind],
            http_status=None,
            attempts=0,
        )


def protocol_error(exc: httpx.RemoteProtocolError) -> tuple[ErrorKind, str, bool]:
    """What a response that broke HTTP's rules means, in words (kind, message, retryable).

    A connection that ended early is the network's fault (or a truncated body); anything else
    is the server answering something that is not HTTP (an SSH banner, a header line h11
    refuses, headers beyond its limit), which is ``invalid_response``, not "connection failed".
    The server's own bytes are left out: Python's repr of them would only add noise.
    """
    text = str(exc)
    if text.startswith("Invalid URL in location header"):
        # httpx builds the redirect request even when it will not follow it
        return ErrorKind.HTTP, "redirect to an invalid Location", False
    if "message body" in text:
        return ErrorKind.INVALID_RESPONSE, "truncated response body", True
    if "without sending" in text or "disconnected" in text.lower():
        return ErrorKind.NETWORK, f"connection failed: {reason(exc)}", True
    if "Receive buffer too long" in text:
        what = "response headers larger than the HTTP client accepts"
    else:
        what = re.sub(r":? ?(bytearray\(b|b)(['\"]).*", "", text).strip() or type(exc).__name__
    return ErrorKind.INVALID_RESPONSE, f"not a valid HTTP response: {what[:200]}", True


async def _read(response: httpx.Response) -> Answer:
    """The response with its body, decoded within :data:`MAX_BODY_BYTES` (a redirect's body
    is not read: only its Location matters)."""
    status = response.status_code
    if status in REDIRECT_STATUSES:
        return Answer(status, response.headers, b"", response.url)
    try:
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            raise BodyError(f"the body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB")
        body = await read_limited(
            response.aiter_raw(), response.headers.get_list("content-encoding")
        )
    except BodyError as exc:
        raise _Refused(ErrorKind.INVALID_RESPONSE, status, f"HTTP {status}: {exc}") from None
    return Answer(status, response.headers, body, response.url)
