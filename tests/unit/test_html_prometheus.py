"""The html and prometheus reporters beyond their golden files: escaping, self-containment,
the trend chart, optional sections, and metrics that prometheus_client parses."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from driftcheck.reporters import get_renderer
from driftcheck.result import TrendPoint
from tests.unit.test_reporters import CASES, MIXED, SPECIAL


class Collector(HTMLParser):
    """Every tag with its attributes, to look for anything that would load a resource."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Collector()
    parser.feed(page)
    return parser.tags


def trend(runs: int) -> tuple[TrendPoint, ...]:
    return tuple(
        TrendPoint(f"2026-11-{day:02d}T04:00:00Z", day % 3, day % 2, 0)
        for day in range(1, runs + 1)
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_page_loads_nothing(case: str) -> None:
    page = get_renderer("html")(CASES[case][0])
    for tag, attrs in tags(page):
        assert tag not in ("script", "link", "img", "iframe", "object", "embed"), tag
        for name in ("src", "href"):
            value = attrs.get(name)
            assert value is None or value.startswith("#") or name == "xmlns", (tag, attrs)
    assert "url(" not in page and "@import" not in page
    assert "default-src 'none'" in page


def test_everything_from_outside_is_escaped() -> None:
    page = get_renderer("html")(SPECIAL)
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "bad body:\\r\\n&lt;html&gt;" in page  # control characters shown as escapes too


def test_landmarks_headers_and_labels() -> None:
    found = tags(get_renderer("html")(MIXED))
    names = [tag for tag, _ in found]
    for landmark in ("header", "main", "footer", "caption", "fieldset", "legend"):
        assert landmark in names
    assert all(attrs.get("scope") in ("col", "row") for tag, attrs in found if tag == "th")
    radios = [attrs["id"] for tag, attrs in found if tag == "input"]
    labels = [attrs["for"] for tag, attrs in found if tag == "label"]
    assert (
        radios
        == labels
        == ["show-all", "show-drifted", "show-missing", "show-error", "show-in_sync"]
    )


def test_chart_has_a_point_per_run_and_only_with_history() -> None:
    assert "<svg" not in get_renderer("html")(MIXED)
    assert "<svg" not in get_renderer("html")(dataclasses.replace(MIXED, trend=trend(1)))
    page = get_renderer("html")(dataclasses.replace(MIXED, trend=trend(7)))
    assert page.count('<g class="run"') == 7
    assert len(re.findall(r'class="point point-error"', page)) == 7
    assert page.count("<circle") == 3 * 7  # a marker per series per run
    points = re.search(r'class="line-drifted"[^>]*points="([^"]+)"', page)
    assert points is not None and len(points.group(1).split()) == 7


def test_ignores_section_when_the_result_has_them() -> None:
    @dataclasses.dataclass(frozen=True)
    class Ignore:
        pattern: str
        file: str | None
        line: int | None
        reason: str | None
        owner: str | None
        until: str | None
        status: str
        silenced: int

    @dataclasses.dataclass(frozen=True)
    class WithIgnores:
        result: Any
        ignores: tuple[Ignore, ...]

        def __getattr__(self, name: str) -> Any:
            return getattr(self.result, name)

    ignore = Ignore(
        "deployment_metadata.*", "m.yaml", 4, "<rolls>", "@ml", "2026-12-31", "expiring", 2
    )
    page = get_renderer("html")(WithIgnores(MIXED, (ignore,)))
    assert 'id="ignores-title"' in page
    assert "&lt;rolls&gt;" in page and "expiring" in page and "m.yaml:4" in page
    assert 'id="ignores-title"' not in get_renderer("html")(MIXED)
    assert 'id="ignores-title"' not in get_renderer("html")(WithIgnores(MIXED, ()))


@pytest.mark.parametrize("case", sorted(CASES))
def test_metrics_parse(case: str) -> None:
    result = CASES[case][0]
    families = {
        f.name: f for f in text_string_to_metric_families(get_renderer("prometheus")(result))
    }
    assert set(families) == {
        "driftcheck_deployments",
        "driftcheck_deployment_drifted",
        "driftcheck_differences",
        "driftcheck_deployment_status",
        "driftcheck_last_run_timestamp_seconds",
        "driftcheck_run_duration_seconds",
        "driftcheck_run_success",
    }
    assert all(f.type == "gauge" for f in families.values())
    summary = result.summary
    counts = {s.labels["status"]: s.value for s in families["driftcheck_deployments"].samples}
    assert counts == {
        "in_sync": summary.in_sync,
        "drifted": summary.drifted,
        "missing": summary.missing,
        "error": summary.error,
    }
    assert len(families["driftcheck_deployment_status"].samples) == summary.total
    assert families["driftcheck_run_success"].samples[0].value == (0 if summary.error else 1)


def test_metric_labels_round_trip() -> None:
    families = {
        f.name: f for f in text_string_to_metric_families(get_renderer("prometheus")(SPECIAL))
    }
    names = {s.labels["name"] for s in families["driftcheck_deployment_status"].samples}
    assert 'ünï|code `x` 100%, a:b <&> "q"\nnext' in names
    drifted = families["driftcheck_deployment_drifted"].samples
    assert {s.labels["deployment_id"] for s in drifted} == {"dep:,1", "dep_3"}  # no error one
    duration = families["driftcheck_run_duration_seconds"].samples[0].value
    assert duration == 2.5


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_text_colours_meet_wcag_aa_contrast() -> None:
    page = get_renderer("html")(MIXED)
    colours = dict(re.findall(r"--([a-z-]+): (#[0-9a-f]{6})", page))
    pairs = [("fg", "bg"), ("muted", "bg"), ("muted", "panel"), ("fg", "panel")]
    pairs += [(f"{s}-fg", f"{s}-bg") for s in ("sync", "drift", "miss", "err")]
    for fg, bg in pairs:
        light, dark = sorted((_luminance(colours[fg]), _luminance(colours[bg])), reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, (fg, bg)
