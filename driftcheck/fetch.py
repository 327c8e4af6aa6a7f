"""Live sources: the Scale GP API over HTTP, or a recorded snapshot file.

A source answers, for each ``(model_instance_id, deployment_id)``, with exactly one outcome:
the body it fetched, "not found" (HTTP 404), or a failure with an error kind. A failure to
fetch never turns into anything else: the engine maps it to ``error``.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import ipaddress
import json
import os
import random
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from driftcheck import __version__
from driftcheck.errors import DriftcheckError
from driftcheck.result import ErrorInfo, ErrorKind

Key = tuple[str, str]
Progress = Callable[[int, int], None]

DEFAULT_BASE_URL = "https://api.egp.scale.com"
RETRYABLE_STATUSES = frozenset({408, 409, 429})
MAX_REDIRECTS = 5
# --fetch auto reads list pages instead of GETs from this many declared deployments on (and
# only when the pages take fewer requests).
AUTO_LIST_MIN = 100
# ... and reads the account-wide list only while it holds at most this many deployments for
# each one declared.
AUTO_ACCOUNT_LIST_FACTOR = 20
ACCOUNT_LIST_PATH = "/v4/model-deployments"


@dataclass(frozen=True)
class Fetched:
    body: Any
    http_status: int = 200
    attempts: int = 1


@dataclass(frozen=True)
class NotFound:
    body: Any = None
    attempts: int = 1


@dataclass(frozen=True)
class Failed:
    error: ErrorInfo


Outcome = Fetched | NotFound | Failed


@dataclass(frozen=True)
class ListScope:
    """Which live deployments to list: the whole account, or some model instances."""

    model_instance_ids: tuple[str, ...] | None = None

    def describe(self) -> str:
        if self.model_instance_ids is None:
            return "account"
        return "model instances " + ", ".join(self.model_instance_ids)


@dataclass(frozen=True)
class Listing:
    items: list[dict[str, Any]]
    scope: ListScope
    error: ErrorInfo | None = None


@dataclass(frozen=True)
class Collected:
    outcomes: list[Outcome]
    listing: Listing | None = None


def model_list_path(model_instance_id: str) -> str:
    return f"/v4/models/{encode_segment(model_instance_id)}/deployments"


def _index(
    items: Sequence[dict[str, Any]], model_instance_ids: Sequence[str] | None
) -> dict[Key, dict[str, Any]]:
    """List items by (model instance, id); an item without its model instance is only
    trusted when the listing was for exactly one model instance."""
    only = model_instance_ids[0] if model_instance_ids and len(model_instance_ids) == 1 else None
    index: dict[Key, dict[str, Any]] = {}
    for item in items:
        mi = item.get("model_instance_id") or only
        dep = item.get("id")
        if isinstance(mi, str) and isinstance(dep, str):
            index[(mi, dep)] = item
    return index


def _page_problem(body: Any, page: int, total: int | None, seen: int) -> str | None:
    """Why a list page cannot be trusted, or None."""
    if not isinstance(body, dict):
        return "not a JSON object"
    items, count = body.get("items"), body.get("total_item_count")
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("id"), str) for i in items
    ):
        return "'items' is not a list of deployments"
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        return "'total_item_count' is not a count"
    if total is not None and count != total:
        return f"total_item_count changed from {total} to {count} while paging"
    current = body.get("current_page")
    if current is not None and current != page:
        return f"asked for page {page}, got page {current}"
    if seen + len(items) > count:
        return f"more items than total_item_count ({count})"
    if not items and seen < count:
        return f"empty page before all {count} items were listed"
    return None


class SourceError(DriftcheckError):
    """The source cannot be used at all (bad settings, unreadable snapshot): exit 1."""


# ---------------------------------------------------------------------------------------------
# HTTP


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


def deployment_path(model_instance_id: str, deployment_id: str) -> str:
    mi, dep = encode_segment(model_instance_id), encode_segment(deployment_id)
    return f"/v4/models/{mi}/deployments/{dep}"


def encode_segment(segment: str) -> str:
    """Percent-encode one path segment so that no ID can change the path or the query.

    ``quote`` leaves ``.`` alone, and a segment that is exactly ``.`` or ``..`` would be removed
    by URL normalization, so those dots are encoded too.
    """
    encoded = quote(segment, safe="")
    if encoded in (".", ".."):
        encoded = encoded.replace(".", "%2E")
    return encoded


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
    if settings.timeout <= 0:
        raise SourceError("--timeout must be more than 0 seconds")


class ApiSource:
    """Fetches deployments concurrently over one connection pool, with retries.

    Every request goes through :meth:`request`, which owns retries, redirects and the
    authentication stop, so other endpoints (list pages) get the same behaviour.
    """

    def __init__(self, settings: HttpSettings, *, rng: random.Random | None = None) -> None:
        check_settings(settings)
        self.settings = settings
        self.description = settings.base_url
        self._rng = rng or random.Random()
        self._auth_error: tuple[ErrorInfo, str] | None = None
        parts = urlsplit(settings.base_url)
        self._origin = (parts.scheme, parts.hostname, parts.port)
        self._prefix = settings.base_url.rstrip("/")
        self._tls = self._tls_context(parts.scheme, not is_loopback(parts.hostname or ""))

    def _tls_context(self, scheme: str, trust_env: bool) -> Any:
        """One TLS context shared by every connection (each costs tens of ms to build);
        ``False`` for plain http, where no TLS can happen (redirects never leave the origin)."""
        if scheme == "http":
            return False
        import ssl

        bundle = self.settings.ca_bundle
        try:
            if bundle:
                return ssl.create_default_context(cafile=bundle)
            import httpx

            return httpx.create_ssl_context(trust_env=trust_env)
        except (OSError, ssl.SSLError) as exc:
            raise SourceError(f"cannot use --ca-bundle {bundle}: {exc}") from None

    def headers(self) -> dict[str, str]:
        headers = {
            "x-api-key": self.settings.api_key,
            "user-agent": f"driftcheck/{__version__}",
            "accept": "application/json",
        }
        if self.settings.account_id:
            headers["x-selected-account-id"] = self.settings.account_id
        return headers

    def client(self, connections: int) -> Any:
        import httpx

        settings = self.settings
        parts = urlsplit(settings.base_url)
        # proxies from the environment must not capture requests meant for loopback
        trust_env = not is_loopback(parts.hostname or "")
        verify = self._tls

        # The lean transport unless the environment routes this host through a proxy, which
        # only httpx's own transport speaks.
        lean = not (trust_env and _proxy_configured())

        def make() -> Any:
            from driftcheck.transport import StreamTransport

            return httpx.AsyncClient(
                headers=self.headers(),
                timeout=httpx.Timeout(settings.timeout),
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                verify=verify,
                follow_redirects=False,
                trust_env=trust_env,
                transport=StreamTransport(verify or None) if lean else None,
            )

        return _ClientPool(make, connections)

    def collect(
        self,
        keys: Sequence[Key],
        *,
        mode: str = "auto",
        scope: ListScope | None = None,
        progress: Progress | None = None,
    ) -> Collected:
        """Outcomes for ``keys`` (from list pages where that is cheaper, else one GET each),
        plus the live listing of ``scope`` when one is asked for (``--unmanaged``)."""
        return asyncio.run(self._collect(keys, mode, scope, progress))

    async def _collect(
        self, keys: Sequence[Key], mode: str, scope: ListScope | None, progress: Progress | None
    ) -> Collected:
        workers = max(1, min(self.settings.concurrency, max(len(keys), 1)))
        found: dict[Key, dict[str, Any]] = {}
        listing: Listing | None = None
        # A GET per deployment is the canonical read; list pages replace it in "auto" mode only
        # at a scale where the saving matters.
        use_lists = mode == "list" or (mode == "auto" and len(keys) >= AUTO_LIST_MIN)
        async with self.client(workers) as client:
            if scope is not None:
                listing = await self._list_scope(client, scope, workers)
                if listing.error is None and use_lists:
                    found.update(_index(listing.items, scope.model_instance_ids))
            wanted = sorted({mi for mi, _ in keys if (mi, _) not in found})
            pending = [key for key in keys if key not in found]
            if use_lists and (mode == "list" or len(wanted) < len(pending)):
                per_model = await bounded_map(
                    [
                        functools.partial(
                            self.list_pages, client, model_list_path(mi), shortcut=True
                        )
                        for mi in wanted
                    ],
                    workers,
                )
                for mi, pages in zip(wanted, per_model, strict=True):
                    if isinstance(pages, list):  # a failed listing falls back to GETs
                        found.update(_index(pages, (mi,)))
            elif use_lists and pending:
                # Nearly one model instance per deployment: the account-wide list holds them
                # all in a page or a few, unless the account is much larger than the manifests.
                pages = await self.list_pages(
                    client,
                    ACCOUNT_LIST_PATH,
                    shortcut=True,
                    max_items=len(pending) * AUTO_ACCOUNT_LIST_FACTOR,
                )
                if isinstance(pages, list):
                    found.update(_index(pages, None))
            outcomes: list[Outcome | None] = [
                Fetched(found[key], 200, 1) if key in found else None for key in keys
            ]
            missing = [i for i, outcome in enumerate(outcomes) if outcome is None]
            done = len(keys) - len(missing)
            if progress is not None and done:
                progress(done, len(keys))

            def report(count: int, _total: int) -> None:
                if progress is not None:
                    progress(done + count, len(keys))

            fetched = await bounded_map(
                [functools.partial(self.fetch_one, client, keys[i]) for i in missing],
                workers,
                report,
            )
            for index, outcome in zip(missing, fetched, strict=True):
                outcomes[index] = outcome
        return Collected([o for o in outcomes if o is not None], listing)

    async def _list_scope(self, client: Any, scope: ListScope, workers: int) -> Listing:
        if scope.model_instance_ids is None:
            pages = await self.list_pages(client, ACCOUNT_LIST_PATH)
            if isinstance(pages, Failed):
                return Listing([], scope, pages.error)
            return Listing(pages, scope)
        per_model = await bounded_map(
            [
                functools.partial(self.list_pages, client, model_list_path(mi))
                for mi in scope.model_instance_ids
            ],
            workers,
        )
        items: list[dict[str, Any]] = []
        for mi, pages in zip(scope.model_instance_ids, per_model, strict=True):
            if isinstance(pages, Failed):
                error = pages.error
                return Listing([], scope, replace(error, message=f"{mi}: {error.message}"))
            items.extend({"model_instance_id": mi, **item} for item in pages)
        return Listing(items, scope)

    async def list_pages(
        self, client: Any, path: str, *, shortcut: bool = False, max_items: int | None = None
    ) -> list[dict[str, Any]] | Failed:
        """Every item of a paginated list endpoint, or a :class:`Failed` (fail closed: an
        inconsistent page fails the whole listing rather than give a partial live set).

        ``shortcut``: the listing only saves GETs, so an auth answer does not stop the run and
        a listing of more than ``max_items`` is abandoned (the GETs are cheaper then)."""
        items: list[dict[str, Any]] = []
        total: int | None = None
        page = 1
        while True:
            params: dict[str, Any] = {"page": page, "limit": self.settings.page_size}
            if self.settings.account_id:
                params["account_id"] = self.settings.account_id
            answer = await self.request(
                client, path, params=params, label=path, stop_on_auth=not shortcut
            )
            if isinstance(answer, Failed):
                return answer
            response, attempts = answer
            problem = None
            if response.status_code == 404:
                problem = "the list endpoint answered 404"
                body: Any = None
            else:
                body = _json_or_none(response)
                problem = _page_problem(body, page, total, len(items))
            if problem is not None:
                return Failed(
                    ErrorInfo(
                        ErrorKind.INVALID_RESPONSE,
                        f"inconsistent list page {page} of {path}: {problem}",
                        http_status=response.status_code,
                        attempts=attempts,
                    )
                )
            total = body["total_item_count"]
            if max_items is not None and total > max_items:
                return Failed(
                    ErrorInfo(ErrorKind.HTTP, f"{path} lists {total} deployments; not worth it")
                )
            items.extend(body["items"])
            if len(items) >= total:
                break
            page += 1
        keys = {(item.get("model_instance_id"), item["id"]) for item in items}
        if len(keys) != len(items):
            return Failed(
                ErrorInfo(
                    ErrorKind.INVALID_RESPONSE,
                    f"{path} listed a deployment twice (the list changed while paging?)",
                )
            )
        return items

    async def fetch_one(self, client: Any, key: Key) -> Outcome:
        answer = await self.request(client, deployment_path(*key), label="/".join(key))
        if isinstance(answer, Failed):
            return answer
        response, attempts = answer
        if response.status_code == 404:
            return NotFound(_json_or_none(response), attempts=attempts)
        return _parse_body(response, attempts)

    async def request(
        self,
        client: Any,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        label: str = "",
        stop_on_auth: bool = True,
    ) -> tuple[Any, int] | Failed:
        """GET ``path`` with retries; a 200 or 404 response (and its attempt count), or a
        :class:`Failed` for everything else. A 401/403 stops every later request unless
        ``stop_on_auth`` is off (list pages read only to save GETs: a key may be allowed to
        read deployments but not to list them)."""
        import httpx

        settings = self.settings
        attempt = 0
        while True:
            if self._auth_error is not None:
                return Failed(self._skipped_after_auth())
            attempt += 1
            retry_after: float | None = None
            try:
                response = await self._get(client, self._prefix + path, params)
            except _Redirected as exc:
                return Failed(
                    ErrorInfo(ErrorKind.HTTP, str(exc), http_status=exc.status, attempts=attempt)
                )
            except httpx.TimeoutException:
                kind, message = ErrorKind.TIMEOUT, f"timed out after {settings.timeout:g}s"
                status, retryable = None, True
            except httpx.RemoteProtocolError as exc:
                if "message body" in str(exc):
                    kind, message = ErrorKind.INVALID_RESPONSE, "truncated response body"
                else:
                    kind, message = ErrorKind.NETWORK, f"connection failed: {_reason(exc)}"
                status, retryable = None, True
            except httpx.TransportError as exc:
                kind, message = ErrorKind.NETWORK, f"connection failed: {_reason(exc)}"
                status, retryable = None, True
            else:
                status = response.status_code
                if status in (200, 404):
                    return response, attempt
                if status in (401, 403):
                    error = _auth_error(status, attempt)
                    if stop_on_auth and self._auth_error is None:
                        self._auth_error = (error, label or path)
                    return Failed(error)
                retryable = _should_retry(response)
                retry_after = _retry_after(response.headers, settings.max_retry_wait)
                # the API's detail explains a rejected request (422); for an overloaded or
                # failing server the status and the retries say it all
                detail = "" if retryable else _detail(response)
                kind, message = ErrorKind.HTTP, f"HTTP {status}{detail}"
            if not retryable or attempt > settings.retries:
                if attempt > 1:
                    retries = attempt - 1
                    message += f" after {retries} retr{'y' if retries == 1 else 'ies'}"
                return Failed(
                    ErrorInfo(kind, self._redact(message), http_status=status, attempts=attempt)
                )
            await asyncio.sleep(self._delay(attempt, retry_after))

    async def _get(self, client: Any, url: str, params: dict[str, Any] | None) -> Any:
        """GET, following redirects only within the same origin (the key never leaves it)."""
        for _ in range(MAX_REDIRECTS + 1):
            response = await client.get(url, params=params)
            if not response.is_redirect:
                return response
            next_url = response.url.join(response.headers.get("location", ""))
            if (next_url.scheme, next_url.host, next_url.port) != self._origin:
                port = f":{next_url.port}" if next_url.port else ""
                raise _Redirected(
                    response.status_code,
                    f"HTTP {response.status_code} redirect to another host "
                    f"({next_url.scheme}://{next_url.host}{port}) not followed, "
                    "so the API key is not sent there",
                )
            url, params = str(next_url), None
        raise _Redirected(response.status_code, f"more than {MAX_REDIRECTS} redirects")

    def _redact(self, text: str) -> str:
        """Server-supplied text may echo the key back: it never reaches a report."""
        key = self.settings.api_key
        return text.replace(key, "***") if key else text

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        base = min(self.settings.backoff * 2 ** (attempt - 1), self.settings.max_backoff)
        return float(base * (1 - 0.25 * self._rng.random()))

    def _skipped_after_auth(self) -> ErrorInfo:
        assert self._auth_error is not None
        error, where = self._auth_error
        return ErrorInfo(
            error.kind,
            f"not checked: HTTP {error.http_status} on {where} stopped all requests; "
            + _AUTH_HINT[error.kind],
            http_status=None,
            attempts=0,
        )


T = TypeVar("T")


async def bounded_map(
    jobs: Sequence[Callable[[], Awaitable[T]]], workers: int, progress: Progress | None = None
) -> list[T]:
    """Run ``jobs`` with at most ``workers`` in flight; results keep the jobs' order."""
    results: list[Any] = [None] * len(jobs)
    next_index = 0
    done = 0

    async def worker() -> None:
        nonlocal next_index, done
        while next_index < len(jobs):
            index = next_index
            next_index += 1
            results[index] = await jobs[index]()
            done += 1
            if progress is not None:
                progress(done, len(jobs))

    await asyncio.gather(*(worker() for _ in range(max(1, workers))))
    return results


def _proxy_configured() -> bool:
    names = ("https_proxy", "http_proxy", "all_proxy")
    return any(os.environ.get(name) or os.environ.get(name.upper()) for name in names)


class _ClientPool:
    """Up to ``size`` keep-alive connections, one per httpx client, behind one ``get``.

    httpcore's pool walks every connection (probing each idle socket) twice per request: at 32
    connections that cost 3-6 ms of CPU per request, more than the request itself (see
    benchmarks/README.md). One connection per client keeps that walk O(1). A request takes a
    connection with nothing in flight, so there are still at most ``size`` connections, each
    reused, with the same headers, timeouts and TLS settings.
    """

    def __init__(self, make: Callable[[], Any], size: int) -> None:
        self._make = make
        self._size = max(1, size)
        self._clients: list[Any] = []
        self._load: list[int] = []

    async def get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        index = min(range(len(self._load)), key=self._load.__getitem__, default=-1)
        if index < 0 or (self._load[index] and len(self._clients) < self._size):
            self._clients.append(self._make())
            self._load.append(0)
            index = len(self._clients) - 1
        self._load[index] += 1
        try:
            return await self._clients[index].get(url, params=params)
        finally:
            self._load[index] -= 1

    async def __aenter__(self) -> _ClientPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients))


class _Redirected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


_AUTH_HINT = {
    ErrorKind.AUTH: "the API key was rejected; check SGP_API_KEY or --api-key-file",
    ErrorKind.NOT_PERMITTED: (
        "the key may not read this deployment; check SGP_ACCOUNT_ID / --account-id "
        "and the key's permissions"
    ),
}


def _auth_error(status: int, attempts: int) -> ErrorInfo:
    kind = ErrorKind.AUTH if status == 401 else ErrorKind.NOT_PERMITTED
    return ErrorInfo(
        kind, f"HTTP {status}: {_AUTH_HINT[kind]}", http_status=status, attempts=attempts
    )


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:200]


def _json_or_none(response: Any) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):
        return None


def _intern_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Every deployment body repeats the same keys: one string object per key name saves
    # ~1.5 KB of memory per deployment (json shares keys only within one document).
    return {sys.intern(key): value for key, value in pairs}


def _parse_body(response: Any, attempts: int) -> Outcome:
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


def _detail(response: Any) -> str:
    body = _json_or_none(response)
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str) and detail:
        return f": {detail[:200]}"
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        where = ".".join(str(p) for p in first.get("loc", []))
        return f": {where}: {str(first.get('msg', ''))[:200]}"
    return ""


def _should_retry(response: Any) -> bool:
    hint = response.headers.get("x-should-retry", "").strip().lower()
    if hint == "false":
        return False
    if hint == "true":  # the server knows best; 401/403/404 never get this far
        return True
    status = response.status_code
    return status in RETRYABLE_STATUSES or status >= 500


def _retry_after(headers: Any, cap: float) -> float | None:
    """Seconds the server asked to wait (``retry-after-ms`` or ``retry-after``), capped."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return min(max(float(raw_ms) / 1000.0, 0.0), cap)
        except ValueError:
            pass
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
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), cap)


# ---------------------------------------------------------------------------------------------
# Snapshot files


SNAPSHOT_VERSION = 1
MAX_SNAPSHOT_BYTES = 512 * 1024 * 1024  # bounded: --live-from /dev/zero must not hang


class SnapshotSource:
    """Answers from a snapshot v1 file recorded by ``driftcheck snapshot``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.description = f"snapshot {path}"
        self.entries, self.complete = _read_snapshot(path)

    def collect(
        self,
        keys: Sequence[Key],
        *,
        mode: str = "auto",
        scope: ListScope | None = None,
        progress: Progress | None = None,
    ) -> Collected:
        outcomes = [self._lookup(key) for key in keys]
        if progress is not None:
            progress(len(keys), len(keys))
        if scope is None:
            return Collected(outcomes)
        if not self.complete:
            error = ErrorInfo(
                ErrorKind.SNAPSHOT,
                f"snapshot {self.path} holds only declared deployments; record it with "
                "'driftcheck snapshot --all' to look for unmanaged ones",
            )
            return Collected(outcomes, Listing([], scope, error))
        wanted = scope.model_instance_ids
        items = [
            body
            for (mi, _dep), (status, body) in self.entries.items()
            if status == 200 and isinstance(body, dict) and (wanted is None or mi in wanted)
        ]
        return Collected(outcomes, Listing(items, scope))

    def _lookup(self, key: Key) -> Outcome:
        entry = self.entries.get(key)
        if entry is None:
            return Failed(
                ErrorInfo(
                    ErrorKind.SNAPSHOT,
                    f"not recorded in snapshot {self.path}; record it again with "
                    "'driftcheck snapshot'",
                )
            )
        status, body = entry
        if status == 200:
            return Fetched(body, 200, attempts=0)
        if status == 404:
            return NotFound(body, attempts=0)
        if status in (401, 403):
            error = _auth_error(status, 0)
            return Failed(
                ErrorInfo(error.kind, error.message + " (recorded in the snapshot)", status)
            )
        return Failed(
            ErrorInfo(ErrorKind.HTTP, f"HTTP {status} (recorded in the snapshot)", status)
        )


def _read_snapshot(path: str) -> tuple[dict[Key, tuple[int, Any]], bool]:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_SNAPSHOT_BYTES + 1)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read snapshot: {exc.strerror or exc}") from None
    if len(raw) > MAX_SNAPSHOT_BYTES:
        raise SourceError(f"{path}: snapshot is larger than {MAX_SNAPSHOT_BYTES} bytes")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise SourceError(f"{path}: not a JSON snapshot: {exc}") from None
    if not isinstance(data, dict):
        raise SourceError(f"{path}: a snapshot must be a JSON object")
    version = data.get("snapshot_version")
    if version != SNAPSHOT_VERSION or isinstance(version, bool):
        raise SourceError(
            f"{path}: unsupported snapshot_version {version!r} "
            f"(this driftcheck reads version {SNAPSHOT_VERSION})"
        )
    items = data.get("deployments")
    if not isinstance(items, list):
        raise SourceError(f"{path}: 'deployments' must be a list")
    entries: dict[Key, tuple[int, Any]] = {}
    for index, item in enumerate(items):
        where = f"{path}: deployments[{index}]"
        if not isinstance(item, dict):
            raise SourceError(f"{where}: expected an object")
        mi, dep, status = (
            item.get("model_instance_id"),
            item.get("deployment_id"),
            item.get("http_status"),
        )
        if not isinstance(mi, str) or not isinstance(dep, str):
            raise SourceError(f"{where}: model_instance_id and deployment_id must be strings")
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise SourceError(f"{where}: http_status must be an HTTP status code")
        if (mi, dep) in entries:
            raise SourceError(f"{where}: {mi}/{dep} is recorded twice")
        entries[(mi, dep)] = (status, item.get("body"))
    # recorded with --all: every live deployment of the account is in it
    return entries, data.get("all") is True


def snapshot_document(
    source: str, keys: Sequence[Key], outcomes: Sequence[Outcome], captured_at: str
) -> dict[str, Any]:
    """Snapshot v1 of what was fetched; failures are left out (they read back as errors)."""
    deployments = []
    for (mi, dep), outcome in zip(keys, outcomes, strict=True):
        if isinstance(outcome, Fetched):
            status, body = outcome.http_status, outcome.body
        elif isinstance(outcome, NotFound):
            status, body = (
                404,
                outcome.body if outcome.body is not None else {"detail": "Not Found"},
            )
        else:
            continue
        deployments.append(
            {"model_instance_id": mi, "deployment_id": dep, "http_status": status, "body": body}
        )
    return {
        "snapshot_version": SNAPSHOT_VERSION,
        "captured_at": captured_at,
        "source": source,
        "deployments": deployments,
    }
