"""List pages: when to read them instead of GETs, when a page can be trusted, and how
items are found again by (model instance, deployment)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from driftcheck.live.records import Fetched, Key, Listing, Outcome
from driftcheck.result import ErrorInfo, ErrorKind

# --fetch auto reads list pages instead of GETs from this many declared deployments on (and
# only when the pages take fewer requests).
AUTO_LIST_MIN = 100
# ... and reads the account-wide list only while it holds at most this many deployments for
# each one declared.
AUTO_ACCOUNT_LIST_FACTOR = 20


def uses_lists(mode: str, count: int) -> bool:
    """A GET per deployment is the canonical read; list pages replace it in "auto" mode only
    at a scale where the saving matters."""
    return mode == "list" or (mode == "auto" and count >= AUTO_LIST_MIN)


def per_model_lists(mode: str, models: int, pending: int) -> bool:
    """List each model instance (True), or the whole account (False)? Nearly one model
    instance per deployment makes the account-wide list cheaper."""
    return mode == "list" or models < pending


def index_items(
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


def page_problem(body: Any, page: int, total: int | None, seen: int) -> str | None:
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


def agree(listing: Listing, keys: Sequence[Key], outcomes: Sequence[Outcome]) -> Listing:
    """``listing``, or the same listing failed when it omits a deployment of its scope that
    the same run fetched: a wrong --account-id (or a broken list endpoint) must never read as
    "every live deployment is managed"."""
    wanted = listing.scope.model_instance_ids
    listed = index_items(listing.items, wanted)
    for key, outcome in zip(keys, outcomes, strict=True):
        in_scope = wanted is None or key[0] in wanted
        if in_scope and isinstance(outcome, Fetched) and key not in listed:
            message = (
                f"the listing omits {key[0]}/{key[1]}, which this run fetched "
                "(a wrong --account-id, or a list endpoint that misses deployments?)"
            )
            return replace(listing, error=ErrorInfo(ErrorKind.INVALID_RESPONSE, message))
    return listing
