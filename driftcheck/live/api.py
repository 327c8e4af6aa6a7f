"""The Scale GP API as a live source: concurrent GETs (or list pages) over httpx.

Every request goes through :class:`~driftcheck.live.exchange.Requester`, which owns retries,
redirects, deadlines and the authentication stop, so every endpoint gets the same behaviour.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from driftcheck.live.bodies import JsonProblem, describe, json_or_none, parse_body, parse_json
from driftcheck.live.exchange import Requester
from driftcheck.live.listing import (
    AUTO_ACCOUNT_LIST_FACTOR,
    agree,
    index_items,
    page_problem,
    per_model_lists,
    uses_lists,
)
from driftcheck.live.pool import ClientPool, bounded_map
from driftcheck.live.records import (
    Collected,
    Failed,
    Fetched,
    Key,
    Listing,
    ListScope,
    NotFound,
    Outcome,
    Progress,
)
from driftcheck.live.routes import ACCOUNT_LIST_PATH, deployment_path, model_list_path
from driftcheck.live.settings import HttpSettings, check_settings
from driftcheck.result import ErrorInfo, ErrorKind


class ApiSource:
    """Fetches deployments concurrently over one connection pool, with retries."""

    def __init__(self, settings: HttpSettings, *, rng: random.Random | None = None) -> None:
        check_settings(settings)
        self.settings = settings
        self._http = Requester(settings, rng)
        # written into snapshots as "source": a key pasted into the URL must not go with it
        self.description = self._http.redactor.text(settings.base_url)

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
        answered = False  # whether a list page showed that the base URL is the API
        async with self._http.pool(workers) as client:
            if scope is not None:
                listing = await self._list_scope(client, scope, workers)
                answered = listing.error is None
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
                        answered = True
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
                    answered = True
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
            if not answered and not any(isinstance(o, Fetched) for o in outcomes):
                outcomes = await self._unless_no_api(client, outcomes)
        done_outcomes = [o for o in outcomes if o is not None]
        if listing is not None and listing.error is None:
            listing = agree(listing, keys, done_outcomes)
        return Collected(done_outcomes, listing)

    async def _unless_no_api(
        self, client: ClientPool, outcomes: list[Outcome | None]
    ) -> list[Outcome | None]:
        """``outcomes``, with every 404 turned into an error when the base URL does not answer
        like the API at all.

        Asked only when this run saw 404s and nothing that proves the base URL (no deployment,
        no list page): a wrong prefix in front of the API's own framework answers the same
        JSON 404 for every path, and must never read as "everything needs creating". One list
        request with ``limit=1`` settles it; anything but a 404 there (a 403 for a key that
        may not list, an outage) leaves the 404s as they are.
        """
        if not any(isinstance(o, NotFound) for o in outcomes):
            return outcomes
        params: dict[str, Any] = {"page": 1, "limit": 1}
        if self.settings.account_id:
            params["account_id"] = self.settings.account_id
        answer = await self._http.request(
            client, ACCOUNT_LIST_PATH, params=params, label=ACCOUNT_LIST_PATH, stop_on_auth=False
        )
        if isinstance(answer, Failed) or answer.status != 404:
            return outcomes
        message = (
            f"HTTP 404, and {ACCOUNT_LIST_PATH} answers 404 too: {self.description} does not "
            "look like the Scale GP API; check --base-url (a wrong prefix, or a proxy?)"
        )
        return [
            Failed(ErrorInfo(ErrorKind.HTTP, message, http_status=404, attempts=o.attempts))
            if isinstance(o, NotFound)
            else o
            for o in outcomes
        ]

    async def _list_scope(self, client: ClientPool, scope: ListScope, workers: int) -> Listing:
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
        self, client: ClientPool, path: str, *, shortcut: bool = False, max_items: int | None = None
    ) -> list[dict[str, Any]] | Failed:
        """Every item of a paginated list endpoint, or a :class:`Failed` (fail closed: an
        inconsistent page fails the whole listing rather than give a partial live set).

        ``shortcut``: the listing only saves GETs, so an auth answer does not stop the run and
        a listing of more than ``max_items`` is abandoned (the GETs are cheaper then)."""
        items: list[dict[str, Any]] = []
        seen: set[tuple[Any, str]] = set()
        total: int | None = None
        page = 1
        while True:
            params: dict[str, Any] = {"page": page, "limit": self.settings.page_size}
            if self.settings.account_id:
                params["account_id"] = self.settings.account_id
            answer = await self._http.request(
                client, path, params=params, label=path, stop_on_auth=not shortcut
            )
            if isinstance(answer, Failed):
                return answer
            problem = None
            if answer.status == 404:
                problem = "the list endpoint answered 404"
                body: Any = None
            else:
                try:
                    body = self._http.redactor.body(parse_json(answer.body), answer.body)
                except JsonProblem as exc:
                    body, problem = None, str(exc)
                else:
                    problem = page_problem(body, page, total, len(items))
            if problem is not None:
                return Failed(
                    ErrorInfo(
                        ErrorKind.INVALID_RESPONSE,
                        f"inconsistent list page {page} of {path}: {problem}",
                        http_status=answer.status,
                        attempts=answer.attempts,
                    )
                )
            total = body["total_item_count"]
            if max_items is not None and total > max_items:
                return Failed(
                    ErrorInfo(ErrorKind.HTTP, f"{path} lists {total} deployments; not worth it")
                )
            # checked page by page: a server that answers the same page for every page
            # number, with a huge total, would otherwise be paged through to the end
            keys = {(item.get("model_instance_id"), item["id"]) for item in body["items"]}
            if len(keys) != len(body["items"]) or not seen.isdisjoint(keys):
                return Failed(
                    ErrorInfo(
                        ErrorKind.INVALID_RESPONSE,
                        f"{path} listed a deployment twice (page {page}; the list changed "
                        "while paging, or the server ignores the page number?)",
                        http_status=answer.status,
                        attempts=answer.attempts,
                    )
                )
            seen |= keys
            items.extend(body["items"])
            if len(items) >= total:
                break
            page += 1
        return items

    async def fetch_one(self, client: ClientPool, key: Key) -> Outcome:
        answer = await self._http.request(client, deployment_path(*key), label="/".join(key))
        if isinstance(answer, Failed):
            return answer
        redact = self._http.redactor.body
        if answer.status == 404:
            # The API answers {"detail": ...}: anything else is a wrong base URL or a proxy,
            # and must never read as "everything needs creating".
            body = json_or_none(answer.body)
            if isinstance(body, dict):
                return NotFound(redact(body, answer.body), attempts=answer.attempts)
            return Failed(
                ErrorInfo(
                    ErrorKind.HTTP,
                    f"HTTP 404 with {describe(answer.body, answer.content_type)}, not the API's "
                    "JSON answer: check --base-url (a wrong prefix, or a proxy?)",
                    http_status=404,
                    attempts=answer.attempts,
                )
            )
        outcome = parse_body(answer.body, answer.content_type, answer.attempts)
        if isinstance(outcome, Fetched):
            return replace(outcome, body=redact(outcome.body, answer.body))
        return outcome
