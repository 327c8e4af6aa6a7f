"""HTML report: one self-contained page for people (``--format html``, ``--report html=PATH``).

The page is rendered by Jinja2 with autoescaping, from ``templates/report.html.j2``. It
carries its CSS and its chart (inline SVG) and loads nothing: it must open from ``file://``,
as a CI artifact, or in a mail client that blocks every remote resource, and a Content
Security Policy says so to the browser. It needs no JavaScript either: the status filter is
radio buttons and CSS.

Everything shown comes from the result records; sensitive values were masked at their source,
and the wording of values is the text report's (``difference_sides``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from driftcheck.reporters._words import (
    MISSING_MESSAGE,
    difference_sides,
    printable,
    summary_line,
)
from driftcheck.result import (
    EXIT_DRIFT,
    EXIT_ERROR,
    DeploymentResult,
    RunResult,
    Status,
    TrendPoint,
    format_timestamp,
)

if TYPE_CHECKING:
    import jinja2

    from driftcheck.result import Marks

STATUSES: tuple[Status, ...] = (Status.DRIFTED, Status.MISSING, Status.ERROR, Status.IN_SYNC)
STATUS_WORDS = {
    Status.IN_SYNC: "in sync",
    Status.DRIFTED: "drifted",
    Status.MISSING: "missing",
    Status.ERROR: "error",
}
EXIT_MEANINGS = {0: "every deployment in sync", EXIT_DRIFT: "drift", EXIT_ERROR: "errors"}
# Chart geometry, in SVG user units (the SVG scales to the page's width).
CHART_W, CHART_H = 720, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 16, 16, 36
SERIES = ("drifted", "missing", "error")


def render(result: RunResult, *, color: bool = False, verbose: bool = False) -> str:
    summary = result.summary
    marks = result.marks
    rows = [_row(d, marks) for d in result.deployments]
    page = {
        "version": result.version,
        "started_at": format_timestamp(result.started_at),
        "finished_at": format_timestamp(result.finished_at),
        "source": printable(result.source),
        "exit_code": result.exit_code,
        "exit_meaning": EXIT_MEANINGS.get(result.exit_code, ""),
        "summary": summary,
        "summary_line": summary_line(summary),
        "tiles": _tiles(result),
        "filters": [
            {"status": s.value, "word": STATUS_WORDS[s], "count": _count(rows, s.value)}
            for s in STATUSES
        ],
        "rows": rows,
        "environments": any(row["environment"] is not None for row in rows),
        "unmanaged": _unmanaged(result),
        "coverage": result.coverage,
        "listing_error": result.listing_error,
        "baseline": _baseline(marks),
        "ignores": _ignores(result),
        "chart": chart(result.trend) if len(result.trend) >= 2 else None,
    }
    return _template().render(page=page)


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("driftcheck.reporters", "templates"),
        autoescape=True,  # every value is data from manifests and API responses
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return environment.get_template("report.html.j2")


def _count(rows: Sequence[dict[str, Any]], status: str) -> int:
    return sum(1 for row in rows if row["status"] == status)


def _tiles(result: RunResult) -> list[dict[str, Any]]:
    s = result.summary
    tiles: list[dict[str, Any]] = [
        {"key": "total", "word": "deployments", "count": s.total},
        {"key": "in_sync", "word": "in sync", "count": s.in_sync},
        {"key": "drifted", "word": "drifted", "count": s.drifted},
        {"key": "missing", "word": "missing", "count": s.missing},
        {"key": "error", "word": "error" if s.error == 1 else "errors", "count": s.error},
    ]
    if s.unmanaged is not None:
        tiles.append({"key": "unmanaged", "word": "unmanaged", "count": s.unmanaged})
    if result.marks is not None:
        counts = result.marks.counts
        tiles.append({"key": "new", "word": "new since baseline", "count": counts["new"]})
        tiles.append({"key": "resolved", "word": "resolved", "count": counts["resolved"]})
    return tiles


def _row(d: DeploymentResult, marks: Marks | None) -> dict[str, Any]:
    differences = []
    for diff in d.differences:
        desired, live = difference_sides(diff)
        mark = marks.of_difference(d, diff) if marks is not None else None
        differences.append(
            {
                "path": printable(diff.path),
                "kind": diff.kind.value.replace("_", " "),
                "desired": desired,
                "live": live,
                "line": diff.line,
                "new": mark is not None and mark.is_new,
                "note": getattr(diff, "note", None),  # e.g. an expired ignore (#13)
            }
        )
    deployment_mark = marks.of_deployment(d) if marks is not None else None
    environment = getattr(d, "environment", None)  # environments (#12), when present
    return {
        "status": d.status.value,
        "word": STATUS_WORDS[d.status],
        "name": printable(d.name) if d.name else None,
        "key": printable(d.key),
        "environment": printable(environment) if environment is not None else None,
        "file": printable(d.location.file),
        "line": d.location.line,
        "differences": differences,
        "error": _error_text(d),
        "missing": MISSING_MESSAGE if d.status is Status.MISSING else None,
        "new": deployment_mark is not None and deployment_mark.is_new,
    }


def _error_text(d: DeploymentResult) -> str | None:
    if d.error is None:
        return None
    return printable(d.error.message)


def _unmanaged(result: RunResult) -> list[dict[str, Any]] | None:
    if not result.looked_for_unmanaged:
        return None
    return [
        {
            "label": printable(entry.label),
            "created_at": entry.created_at,
            "created_by": printable(entry.created_by) if entry.created_by else None,
        }
        for entry in result.unmanaged or ()
    ]


def _baseline(marks: Marks | None) -> dict[str, Any] | None:
    if marks is None:
        return None
    resolved = []
    for entry in marks.resolved:
        key = entry.key
        where = f"{key.model_instance_id or '?'}/{key.deployment_id}"
        label = f"{entry.name} ({where})" if entry.name else where
        what = key.path or key.type.value
        if key.kind and key.path is None:
            what = f"{key.type.value} {key.kind}"
        resolved.append({"label": printable(label), "what": printable(what)})
    return {
        "file": printable(marks.baseline_path),
        "started_at": marks.baseline_started_at,
        "resolved": resolved,
        "unverified": len(marks.unverified),
    }


def _ignores(result: RunResult) -> list[dict[str, Any]] | None:
    """Accountable ignores (#13) when the result carries them; read defensively, since the
    records belong to that feature."""
    found: Iterable[Any] = getattr(result, "ignores", None) or ()
    if not found:
        return None  # no section: a run without ignore rules reads as before
    rows = []
    for item in found:
        status = getattr(item, "status", "")
        rows.append(
            {
                "pattern": printable(str(getattr(item, "pattern", ""))),
                "where": _where(getattr(item, "file", None), getattr(item, "line", None)),
                "reason": _text_or_none(getattr(item, "reason", None)),
                "owner": _text_or_none(getattr(item, "owner", None)),
                "until": _text_or_none(getattr(item, "until", None)),
                "status": str(getattr(status, "value", status)),
                "silenced": getattr(item, "silenced", None),
                "scope": _text_or_none(getattr(item, "scope", None) or None),
            }
        )
    return rows


def _where(file: Any, line: Any) -> str:
    if not file:
        return "--ignore"
    return printable(f"{file}:{line}" if line else str(file))


def _text_or_none(value: Any) -> str | None:
    return None if value is None else printable(str(value))


# ---------------------------------------------------------------------------------------------
# Trend chart


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    value: int


def chart(trend: Sequence[TrendPoint]) -> dict[str, Any]:
    """Coordinates for the inline SVG: a polyline per series and a marker per run."""
    top = max(1, *(max(p.drifted, p.missing, p.error) for p in trend))
    plot_w = CHART_W - _LEFT - _RIGHT
    plot_h = CHART_H - _TOP - _BOTTOM
    step = plot_w / (len(trend) - 1)

    def y(value: int) -> float:
        return round(_TOP + plot_h * (1 - value / top), 1)

    runs: list[dict[str, Any]] = [
        {
            "started_at": point.started_at,
            "points": {
                name: ChartPoint(
                    round(_LEFT + step * index, 1), y(getattr(point, name)), getattr(point, name)
                )
                for name in SERIES
            },
        }
        for index, point in enumerate(trend)
    ]
    lines = {
        name: " ".join(f"{p.x},{p.y}" for p in (run["points"][name] for run in runs))
        for name in SERIES
    }
    ticks = sorted({0, top // 2, top}) if top > 1 else [0, 1]
    return {
        "width": CHART_W,
        "height": CHART_H,
        "left": _LEFT,
        "right": CHART_W - _RIGHT,
        "top": _TOP,
        "bottom": CHART_H - _BOTTOM,
        "series": SERIES,
        "runs": runs,
        "lines": lines,
        "ticks": [{"value": tick, "y": y(tick)} for tick in ticks],
        "first": trend[0].started_at,
        "last": trend[-1].started_at,
    }
