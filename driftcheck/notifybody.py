"""What a notification says (``check --notify``): the change against the baseline, and the
webhook and Slack bodies built from the masked result records. Delivery is ``notify.py``'s job.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from driftcheck.baseline import current_entries
from driftcheck.reporters._words import jsonable
from driftcheck.reporters.json import entry_json
from driftcheck.result import (
    DeploymentResult,
    Difference,
    EntryKey,
    EntryType,
    RunResult,
    deployment_entry_key,
    format_timestamp,
)

NotifyOn = Literal["change", "always"]

NOTIFICATION_VERSION = 1
SLACK_LIST_LIMIT = 20  # findings listed per section; Slack caps a section at 3,000 characters
_SLACK_LINE = 140


@dataclass(frozen=True)
class Change:
    """What a notification reports: this run's new findings and the resolved ones."""

    new: tuple[dict[str, Any], ...]
    resolved: tuple[dict[str, Any], ...]
    errors: tuple[dict[str, Any], ...]
    first_run: bool

    @property
    def changed(self) -> bool:
        return bool(self.new or self.resolved) or (self.first_run and bool(self.errors))


def change_of(result: RunResult) -> Change:
    """New findings (all of them on a first run), resolved ones, and every current error."""
    details = _finding_details(result)
    marks = result.marks
    if marks is None:
        new = [details[key] for key in current_entries(result.deployments, result.unmanaged)]
        resolved: list[dict[str, Any]] = []
    else:
        entries = current_entries(result.deployments, result.unmanaged)
        new = [details[k] for k in entries if (m := marks.marks.get(k)) is not None and m.is_new]
        resolved = [entry_json(entry) for entry in marks.resolved]
    errors = [_error_json(d) | _state(result, d) for d in result.deployments if d.error is not None]
    if result.listing_error is not None:
        listing = result.listing_error
        errors.append(
            {
                "model_instance_id": None,
                "deployment_id": None,
                "name": None,
                "kind": listing.kind.value,
                "message": f"listing failed: {listing.message}",
                "http_status": listing.http_status,
            }
        )
    return Change(tuple(new), tuple(resolved), tuple(errors), first_run=marks is None)


def should_notify(change: Change, notify_on: NotifyOn) -> bool:
    return notify_on == "always" or change.changed


def webhook_body(result: RunResult, change: Change, report_url: str | None) -> dict[str, Any]:
    return {
        "notification_version": NOTIFICATION_VERSION,
        "summary": _summary(result),
        "new": list(change.new),
        "resolved": list(change.resolved),
        "errors": list(change.errors),
        "report_url": report_url,
    }


def slack_body(result: RunResult, change: Change, report_url: str | None) -> dict[str, Any]:
    """An incoming-webhook message: ``text`` for notifications and old clients, ``blocks``
    for the channel."""
    s = result.summary
    counts = (
        f"{s.total} deployments: {s.in_sync} in sync, {s.drifted} drifted, "
        f"{s.missing} missing, {s.error} error"
    )
    headline = f"driftcheck: {len(change.new)} new, {len(change.resolved)} resolved. {counts}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "driftcheck audit"}},
        {
            "type": "section",
            "fields": [
                _mrkdwn(f"*{label}*\n{value}")
                for label, value in (
                    ("In sync", s.in_sync),
                    ("Drifted", s.drifted),
                    ("Missing", s.missing),
                    ("Error", s.error),
                    ("New", len(change.new)),
                    ("Resolved", len(change.resolved)),
                )
            ],
        },
    ]
    title = "Findings (first run, no baseline)" if change.first_run else "New since the baseline"
    for heading, items in ((title, change.new), ("Resolved", change.resolved)):
        if items:
            blocks.append({"type": "section", "text": _mrkdwn(_slack_list(heading, items))})
    if report_url:
        link = f"<{_slack_escape(report_url)}|Open the report>"
        blocks.append({"type": "section", "text": _mrkdwn(link)})
    blocks.append(
        {
            "type": "context",
            "elements": [_mrkdwn(f"run started {format_timestamp(result.started_at)}")],
        }
    )
    return {"text": _slack_escape(headline), "blocks": blocks}


BODIES: dict[str, Callable[[RunResult, Change, str | None], dict[str, Any]]] = {
    "slack": slack_body,
    "webhook": webhook_body,
}


def _summary(result: RunResult) -> dict[str, int]:
    s = result.summary
    return {
        "total": s.total,
        "in_sync": s.in_sync,
        "drifted": s.drifted,
        "missing": s.missing,
        "error": s.error,
    }


def _finding_details(result: RunResult) -> dict[EntryKey, dict[str, Any]]:
    """What a notification says about each entry of the run, by the baseline's entry key (so
    keys carry the environment exactly as the marking does)."""
    details: dict[EntryKey, dict[str, Any]] = {}
    for d in result.deployments:
        head = _head(d)
        for diff in d.differences:
            key = EntryKey.difference(
                d.model_instance_id, d.deployment_id, diff.path, diff.kind, d.environment
            )
            details[key] = {"type": EntryType.DIFFERENCE.value, **head, **_difference(diff)}
        key_of_status = deployment_entry_key(d)
        if key_of_status is not None and d.error is not None:
            details[key_of_status] = {"type": EntryType.ERROR.value, **_error_json(d)}
        elif key_of_status is not None:
            details[key_of_status] = {"type": EntryType.MISSING.value, **head}
    for u in result.unmanaged or ():
        key = EntryKey.unmanaged(u.model_instance_id, u.deployment_id)
        details[key] = {
            "type": EntryType.UNMANAGED.value,
            "model_instance_id": u.model_instance_id,
            "deployment_id": u.deployment_id,
            "name": u.name,
        }
    return details


def _head(d: DeploymentResult) -> dict[str, Any]:
    head: dict[str, Any] = {
        "model_instance_id": d.model_instance_id,
        "deployment_id": d.deployment_id,
        "name": d.name,
    }
    environment = getattr(d, "environment", None)  # environments (#12), when present
    if environment is not None:
        head["environment"] = environment
    return head


def _difference(diff: Difference) -> dict[str, Any]:
    if getattr(diff, "sensitive", False):  # values of a sensitive path are never sent
        desired: Any = {"sensitive": True}
        live: Any = {"sensitive": True}
    else:
        desired, live = jsonable(diff.desired), jsonable(diff.live)
    return {"path": diff.path, "kind": diff.kind.value, "desired": desired, "live": live}


def _error_json(d: DeploymentResult) -> dict[str, Any]:
    assert d.error is not None
    return {
        **_head(d),
        "kind": d.error.kind.value,
        "message": d.error.message,
        "http_status": d.error.http_status,
    }


def _state(result: RunResult, d: DeploymentResult) -> dict[str, Any]:
    mark = result.marks.of_deployment(d) if result.marks is not None else None
    return {} if mark is None else {"state": mark.state.value}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _slack_escape(text: str) -> str:
    """Slack reads ``&``, ``<`` and ``>`` as markup: a deployment name must not become a link
    or a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_list(heading: str, items: tuple[dict[str, Any], ...]) -> str:
    lines = [f"*{heading} ({len(items)})*"]
    for item in items[:SLACK_LIST_LIMIT]:
        lines.append("• " + _slack_escape(_shorten(_describe(item), _SLACK_LINE)))
    if len(items) > SLACK_LIST_LIMIT:
        lines.append(f"…and {len(items) - SLACK_LIST_LIMIT} more")
    return "\n".join(lines)


def _describe(item: dict[str, Any]) -> str:
    where = f"{item.get('model_instance_id') or '?'}/{item.get('deployment_id')}"
    who = f"{item['name']} ({where})" if item.get("name") else where
    kind = item.get("type")
    if kind == EntryType.DIFFERENCE.value:
        values = f"{_value(item.get('desired'))} -> {_value(item.get('live'))}"
        return f"{who}: {item.get('path')} {values}"
    if kind == EntryType.ERROR.value:
        return f"{who}: error {item.get('kind')}: {item.get('message') or ''}"
    return f"{who}: {kind}"


def _value(value: Any) -> str:
    if value == {"sensitive": True}:
        return "(sensitive)"
    return _shorten(json.dumps(value, ensure_ascii=False, default=str), 40)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
