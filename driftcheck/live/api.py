"""The Scale GP API as a live source: concurrent GETs (or list pages) over httpx.

Every request goes through :meth:`ApiSource.request`, which owns retries, redirects and the
authentication stop, so every endpoint gets the same behaviour.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from driftcheck import __version__
from driftcheck.live.bodies import detail, json_or_none, parse_body, reason
from driftcheck.live.listing import (
    AUTO_ACCOUNT_LIST_FACTOR,
    index_items,
    page_problem,
    per_model_lists,
    uses_lists,
)
from driftcheck.live.pool import ClientPool, bounded_map, proxy_configured
from driftcheck.live.records import (
    AUTH_HINT,
    Collected,
    Failed,
    Fetched,
    Key,
    Listing,
    ListScope,
    NotFound,
    Outcome,
    Progress,
    SourceError,
    auth_error,
)
from driftcheck.live.retry import backoff_delay, retry_after, should_retry
from driftcheck.live.routes import ACCOUNT_LIST_PATH, deployment_path, model_list_path
from driftcheck.live.settings import HttpSettings, check_settings, is_loopback
from driftcheck.result import ErrorInfo, ErrorKind

MAX_REDIRECTS = 5


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
        lean = not (trust_env and proxy_configured())

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

        return ClientPool(make, connections)

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
        use_lists = uses_lists(mode, len(keys))
        async with self.client(workers) as client:
            if scope is not None:
                listing = await self._list_scope(client, scope, workers)
                if listing.error is None and use_lists:
                    found.update(index_items(listing.items, scope.model_instance_ids))
            wanted = sorted({mi for mi, _ in keys if (mi, _) not in found})
            pending = [key for key in keys if key not in found]
            if use_lists and per_model_lists(mode, len(wanted), len(pending)):
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
                        found.update(index_items(pages, (mi,)))
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
                    found.update(index_items(pages, None))
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
                body = json_or_none(response)
                problem = page_problem(body, page, total, len(items))
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
            return NotFound(json_or_none(response), attempts=attempts)
        return parse_body(response, attempts)

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
            wait: float | None = None
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
                    kind, message = ErrorKind.NETWORK, f"connection failed: {reason(exc)}"
                status, retryable = None, True
            except httpx.TransportError as exc:
                kind, message = ErrorKind.NETWORK, f"connection failed: {reason(exc)}"
                status, retryable = None, True
            else:
                status = response.status_code
                if status in (200, 404):
                    return response, attempt
                if status in (401, 403):
                    error = auth_error(status, attempt)
                    if stop_on_auth and self._auth_error is None:
                        self._auth_error = (error, label or path)
                    return Failed(error)
                retryable = should_retry(status, response.headers)
                wait = retry_after(response.headers, settings.max_retry_wait)
                # the API's detail explains a rejected request (422); for an overloaded or
                # failing server the status and the retries say it all
                explained = "" if retryable else detail(response)
                kind, message = ErrorKind.HTTP, f"HTTP {status}{explained}"
            if not retryable or attempt > settings.retries:
                if attempt > 1:
                    retries = attempt - 1
                    message += f" after {retries} retr{'y' if retries == 1 else 'ies'}"
                return Failed(
                    ErrorInfo(kind, self._redact(message), http_status=status, attempts=attempt)
                )
            await asyncio.sleep(self._delay(attempt, wait))

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


class _Redirected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
