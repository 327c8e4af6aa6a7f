"""Reporter tests: golden files are the spec; direct assertions guard the key lines.

Set ``DRIFTCHECK_UPDATE_GOLDEN=1`` to rewrite tests/golden/ from the current output, then
review the diff by eye before committing it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from junitparser import Error, Failure, JUnitXml, TestSuite

from driftcheck.output import append_step_summary
from driftcheck.reporters import FORMATS, get_renderer
from driftcheck.reporters import _words as words
from driftcheck.reporters import github as github_reporter
from driftcheck.reporters import markdown as markdown_reporter
from driftcheck.result import (
    DeploymentResult,
    Difference,
    DiffKind,
    ErrorInfo,
    ErrorKind,
    RunResult,
    SourceLocation,
    Status,
)

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "golden"
UPDATE_GOLDEN = os.environ.get("DRIFTCHECK_UPDATE_GOLDEN") == "1"
GOLDEN_VERSION = "0.1.0"  # pinned so that a version bump does not rewrite every JSON golden

STARTED = dt.datetime(2026, 11, 27, 4, 0, 0, tzinfo=dt.timezone.utc)
FINISHED = dt.datetime(2026, 11, 27, 4, 0, 2, 500000, tzinfo=dt.timezone.utc)
PROD = "manifests/prod.yaml"
ANSI = re.compile("\x1b\\[[0-9;]*m")


def run(*deployments: DeploymentResult) -> RunResult:
    return RunResult(
        deployments=deployments, started_at=STARTED, finished_at=FINISHED, version=GOLDEN_VERSION
    )


def in_sync(mi: str, dep: str, name: str | None, line: int) -> DeploymentResult:
    return DeploymentResult(mi, dep, name, SourceLocation(PROD, line), Status.IN_SYNC)


def diff(
    path: str,
    desired: Any,
    live: Any,
    line: int,
    kind: DiffKind = DiffKind.CHANGED,
    segments: tuple[str | int, ...] = (),
) -> Difference:
    return Difference(path, kind, desired, live, line, segments=segments)


LLAMA = DeploymentResult(
    "mi_123",
    "dep_456",
    "llama-70b-prod",
    SourceLocation(PROD, 7),
    Status.DRIFTED,
    differences=(
        diff("vendor_configuration.max_workers", 4, 2, 12),
        diff("vendor_configuration.memory", "64Gi", "32Gi", 11),
    ),
)
GEMMA = in_sync("mi_123", "dep_457", "gemma-dev", 15)
MISTRAL = DeploymentResult(
    "mi_123", "dep_999", "mistral-canary", SourceLocation(PROD, 20), Status.MISSING
)
QWEN = DeploymentResult(
    "mi_777",
    "dep_1",
    "qwen-eval",
    SourceLocation("manifests/eval.yaml", 3),
    Status.ERROR,
    error=ErrorInfo(ErrorKind.HTTP, "HTTP 503 after 3 retries", http_status=503, attempts=4),
)

MIXED = run(LLAMA, GEMMA, MISTRAL, QWEN)
ALL_IN_SYNC = run(GEMMA, in_sync("mi_123", "dep_458", None, 25))
ERROR_ONLY = run(
    DeploymentResult(
        "mi_1",
        "dep_1",
        None,
        SourceLocation(PROD, 4),
        Status.ERROR,
        error=ErrorInfo(
            ErrorKind.AUTH, "authentication failed (HTTP 401): check SGP_API_KEY", 401, 1
        ),
    )
)
EMPTY = run()
KINDS = run(
    DeploymentResult(
        "mi_9",
        "dep_9",
        "strict-check",
        SourceLocation(PROD, 30),
        Status.DRIFTED,
        differences=(
            diff(
                "vendor_configuration",
                {"vendor": "LAUNCH", "max_workers": 2},
                None,
                31,
                DiffKind.MISSING_LIVE,
            ),
            diff("deployment_metadata.owner", None, "team-a", 30, DiffKind.EXTRA_LIVE),
            diff("model_creation_parameters.flags", [1, 2], [2, 1], 35),
            diff("vendor_configuration.high_priority", True, None, 33),
            diff("model_creation_parameters.ratio", 0.5, float("nan"), 36),
        ),
    )
)
SPECIAL = run(
    DeploymentResult(
        "mi_|`%",
        "dep:,1",
        'ünï|code `x` 100%, a:b <&> "q"\nnext',
        SourceLocation("manifests/we,ird:na%me.yaml", 2),
        Status.DRIFTED,
        differences=(
            diff("deployment_metadata.a|b`c", "x|y `z` 50% <&>", 'say "hi"\nbye', 5),
            diff("deployment_metadata.emoji", "🚀 ü", {"k|": ["`", "a,b:c"]}, 6),
            diff("deployment_metadata.ctl", "bell\x07esc\x1b[31m", "del\x7f", 7),
        ),
    ),
    DeploymentResult(
        "mi_2",
        "dep_2",
        "*bold* _it_ @team #12 [x](y)",
        SourceLocation(PROD, 40),
        Status.ERROR,
        error=ErrorInfo(
            ErrorKind.INVALID_RESPONSE,
            "bad body:\r\n<html>|`oops`| 100%\x00</html>",
            http_status=200,
        ),
    ),
    DeploymentResult("mi_3", "dep_3", "<script>", SourceLocation(PROD, 50), Status.MISSING),
)

CASES: dict[str, tuple[RunResult, bool]] = {
    "mixed": (MIXED, False),
    "mixed_verbose": (MIXED, True),
    "all_in_sync": (ALL_IN_SYNC, False),
    "all_in_sync_verbose": (ALL_IN_SYNC, True),
    "error_only": (ERROR_ONLY, False),
    "empty": (EMPTY, False),
    "kinds": (KINDS, False),
    "special": (SPECIAL, False),
}
# verbose changes only the formats that can list in-sync deployments.
VERBOSE_FORMATS = {"text", "markdown"}
GOLDEN_PARAMS = [
    (case, fmt)
    for case, (_, verbose) in CASES.items()
    for fmt in FORMATS
    if not verbose or fmt in VERBOSE_FORMATS
]


def render(fmt: str, result: RunResult, **options: bool) -> str:
    return get_renderer(fmt)(result, **options)


@pytest.mark.parametrize(("case", "fmt"), GOLDEN_PARAMS)
def test_golden(case: str, fmt: str) -> None:
    result, verbose = CASES[case]
    output = render(fmt, result, verbose=verbose)
    golden = GOLDEN_DIR / f"{case}.{fmt}"
    if UPDATE_GOLDEN:
        GOLDEN_DIR.mkdir(exist_ok=True)
        with golden.open("w", encoding="utf-8", newline="") as update:
            update.write(output)
    with golden.open(encoding="utf-8", newline="") as expected:
        assert output == expected.read()


def test_every_golden_file_is_used() -> None:
    expected = {f"{case}.{fmt}" for case, fmt in GOLDEN_PARAMS}
    assert {p.name for p in GOLDEN_DIR.iterdir()} == expected


# --- registry -----------------------------------------------------------------------------


def test_formats_and_renderers() -> None:
    assert FORMATS == (
        "text",
        "json",
        "junit",
        "markdown",
        "github",
        "patch",
        "sarif",
        "html",
        "prometheus",
    )
    for fmt in FORMATS:
        output = get_renderer(fmt)(MIXED, color=False, verbose=False)
        assert output.endswith("\n") and not output.endswith("\n\n")


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown report format 'xml'"):
        get_renderer("xml")


def test_package_import_is_lazy() -> None:
    import subprocess

    code = (
        "import sys, driftcheck.reporters as r; "
        "print(sorted(m for m in sys.modules if m.startswith('driftcheck.reporters.') "
        "or m in ('xml.etree.ElementTree', 'html')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- text ---------------------------------------------------------------------------------

DESIGN_EXAMPLE = """\
~ llama-70b-prod (mi_123/dep_456) drifted
    ~ vendor_configuration.max_workers: 4 -> 2
    ~ vendor_configuration.memory: "64Gi" -> "32Gi"
+ mistral-canary (mi_123/dep_999) missing: not found on the API
! qwen-eval (mi_777/dep_1) error: HTTP 503 after 3 retries

4 deployments: 1 in sync, 1 drifted, 1 missing, 1 error.
"""


def test_text_design_example() -> None:
    assert render("text", MIXED) == DESIGN_EXAMPLE


def test_text_verbose_lists_in_sync_in_order() -> None:
    lines = render("text", MIXED, verbose=True).splitlines()
    assert lines[3] == "  gemma-dev (mi_123/dep_457) in sync"
    assert lines[4].startswith("+ mistral-canary")


def test_text_all_in_sync_is_summary_only() -> None:
    assert (
        render("text", ALL_IN_SYNC) == "2 deployments: 2 in sync, 0 drifted, 0 missing, 0 errors.\n"
    )
    assert render("text", ALL_IN_SYNC, verbose=True) == (
        "  gemma-dev (mi_123/dep_457) in sync\n"
        "  mi_123/dep_458 in sync\n"
        "\n"
        "2 deployments: 2 in sync, 0 drifted, 0 missing, 0 errors.\n"
    )


def test_text_empty_and_singular() -> None:
    assert render("text", EMPTY) == "0 deployments: 0 in sync, 0 drifted, 0 missing, 0 errors.\n"
    assert render("text", ERROR_ONLY).endswith(
        "\n\n1 deployment: 0 in sync, 0 drifted, 0 missing, 1 error.\n"
    )


def test_text_difference_kinds() -> None:
    lines = render("text", KINDS).splitlines()
    assert lines[1] == (
        '    + vendor_configuration: {"vendor": "LAUNCH", "max_workers": 2} -> (absent)'
    )
    assert lines[2] == '    - deployment_metadata.owner: (undeclared) -> "team-a"'
    assert lines[3] == "    ~ model_creation_parameters.flags: [1, 2] -> [2, 1]"
    assert lines[4] == "    ~ vendor_configuration.high_priority: true -> null"
    assert lines[5] == '    ~ model_creation_parameters.ratio: 0.5 -> "nan"'


def test_text_keeps_one_line_per_finding() -> None:
    output = render("text", SPECIAL)
    assert "\x1b" not in output and "\x07" not in output and "\x00" not in output
    assert output.splitlines()[0] == (
        '~ ünï|code `x` 100%, a:b <&> "q"\\nnext (mi_|`%/dep:,1) drifted'
    )
    assert len(output.splitlines()) == 8


def test_text_color() -> None:
    plain = render("text", MIXED, verbose=True)
    colored = render("text", MIXED, color=True, verbose=True)
    assert "\x1b[" not in plain
    assert "\x1b[33m~ llama-70b-prod" in colored
    assert "\x1b[32m+ mistral-canary" in colored
    assert "\x1b[31m! qwen-eval" in colored
    assert ANSI.sub("", colored) == plain


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_color_codes_without_color(fmt: str) -> None:
    for result, verbose in CASES.values():
        assert "\x1b" not in render(fmt, result, verbose=verbose, color=False)


# --- json ---------------------------------------------------------------------------------


def test_json_report_v1() -> None:
    report = json.loads(render("json", MIXED))
    assert list(report) == [
        "report_version",
        "driftcheck_version",
        "started_at",
        "finished_at",
        "exit_code",
        "summary",
        "deployments",
    ]
    assert report["report_version"] == 1
    assert report["started_at"] == "2026-11-27T04:00:00Z"
    assert report["finished_at"] == "2026-11-27T04:00:02Z"
    assert report["exit_code"] == 1
    assert report["summary"] == {"total": 4, "in_sync": 1, "drifted": 1, "missing": 1, "error": 1}
    llama = report["deployments"][0]
    assert list(llama) == [
        "model_instance_id",
        "deployment_id",
        "name",
        "manifest",
        "status",
        "differences",
        "error",
    ]
    assert llama["manifest"] == {"file": PROD, "line": 7}
    assert llama["differences"][0] == {
        "path": "vendor_configuration.max_workers",
        "segments": ["vendor_configuration", "max_workers"],
        "kind": "changed",
        "desired": 4,
        "live": 2,
        "line": 12,
    }
    assert llama["error"] is None
    assert report["deployments"][3]["error"] == {
        "kind": "http",
        "message": "HTTP 503 after 3 retries",
        "http_status": 503,
    }  # exactly DESIGN's error object: the attempts are in the message


def test_json_version_is_the_runs_version() -> None:
    result = dataclasses.replace(EMPTY, version="9.8.7")
    assert json.loads(render("json", result))["driftcheck_version"] == "9.8.7"


def test_json_round_trips_special_values() -> None:
    output = render("json", SPECIAL)
    assert "🚀 ü" in output  # ensure_ascii=False
    report = json.loads(output)
    first = report["deployments"][0]
    assert first["name"] == SPECIAL.deployments[0].name
    assert first["differences"][1]["live"] == {"k|": ["`", "a,b:c"]}
    assert first["differences"][2]["desired"] == "bell\x07esc\x1b[31m"
    kinds = json.loads(render("json", KINDS))["deployments"][0]["differences"]
    assert kinds[4]["live"] == "nan"  # NaN is not JSON


def test_json_falls_back_to_str() -> None:
    odd = run(
        DeploymentResult(
            "m",
            "d",
            None,
            SourceLocation(PROD, 1),
            Status.DRIFTED,
            differences=(diff("deployment_metadata.when", dt.date(2026, 1, 2), {1: {2}}, 3),),
        )
    )
    assert json.loads(render("json", odd))["deployments"][0]["differences"][0] == {
        "path": "deployment_metadata.when",
        "segments": ["deployment_metadata", "when"],
        "kind": "changed",
        "desired": "2026-01-02",
        "live": {"1": "{2}"},
        "line": 3,
    }


# --- junit --------------------------------------------------------------------------------


def parse_junit(output: str) -> TestSuite:
    xml = JUnitXml.fromstring(output)
    suites = list(xml) if isinstance(xml, JUnitXml) else [xml]
    assert len(suites) == 1
    suite: TestSuite = suites[0]
    return suite


def test_junit_counts_and_results() -> None:
    output = render("junit", MIXED)
    assert output.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')
    suite = parse_junit(output)
    assert suite.name == "driftcheck"
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (4, 2, 1, 0)
    assert suite.time == 2.5
    cases = list(suite)
    assert [c.name for c in cases] == [d.label for d in MIXED.deployments]
    assert [c.classname for c in cases] == [PROD, PROD, PROD, "manifests/eval.yaml"]
    llama, gemma, mistral, qwen = cases
    (failure,) = llama.result
    assert isinstance(failure, Failure)
    assert failure.type == "drifted"
    assert failure.message == "drifted: 2 differences"
    assert failure.text == (
        "~ vendor_configuration.max_workers: 4 -> 2\n"
        '~ vendor_configuration.memory: "64Gi" -> "32Gi"'
    )
    assert gemma.is_passed
    (missing,) = mistral.result
    assert isinstance(missing, Failure) and missing.type == "missing"
    (error,) = qwen.result
    assert isinstance(error, Error)
    assert error.type == "http"
    assert error.message == "HTTP 503 after 3 retries"


def test_junit_special_characters(tmp_path: Path) -> None:
    output = render("junit", SPECIAL)
    assert "\x00" not in output and "\x07" not in output and "\x1b" not in output
    path = tmp_path / "report.xml"
    path.write_text(output, encoding="utf-8")
    suite = parse_junit(path.read_text(encoding="utf-8"))
    assert (suite.tests, suite.failures, suite.errors) == (3, 2, 1)
    first, second, third = list(suite)
    assert first.name == SPECIAL.deployments[0].label
    assert first.classname == "manifests/we,ird:na%me.yaml"
    (error,) = second.result
    assert error.message == "bad body:\r\n<html>|`oops`| 100%</html>"
    assert third.name == "<script> (mi_3/dep_3)"


def test_junit_empty_and_in_sync() -> None:
    empty = parse_junit(render("junit", EMPTY))
    assert (empty.tests, empty.failures, empty.errors) == (0, 0, 0)
    passing = parse_junit(render("junit", ALL_IN_SYNC))
    assert (passing.tests, passing.failures, passing.errors) == (2, 0, 0)
    assert all(case.is_passed for case in passing)


# --- github -------------------------------------------------------------------------------


def test_github_annotations() -> None:
    assert render("github", MIXED).splitlines() == [
        "::error file=manifests/prod.yaml,line=12,title=drift%3A llama-70b-prod (mi_123/dep_456)"
        "::vendor_configuration.max_workers: 4 -> 2 (desired -> live)",
        "::error file=manifests/prod.yaml,line=11,title=drift%3A llama-70b-prod (mi_123/dep_456)"
        '::vendor_configuration.memory: "64Gi" -> "32Gi" (desired -> live)',
        "::error file=manifests/prod.yaml,line=20,title=missing%3A mistral-canary (mi_123/dep_999)"
        "::not found on the API",
        "::error file=manifests/eval.yaml,line=3,title=error%3A qwen-eval (mi_777/dep_1)"
        "::HTTP 503 after 3 retries",
        "::notice::4 deployments: 1 in sync, 1 drifted, 1 missing, 1 error.",
    ]


def test_github_escaping() -> None:
    assert github_reporter.escape_data("a%b\r\nc:d,e") == "a%25b%0D%0Ac:d,e"
    assert github_reporter.escape_property("a%b\r\nc:d,e") == "a%25b%0D%0Ac%3Ad%2Ce"
    assert github_reporter.escape_data("nul\x00esc\x1b[0m\ttab") == "nulesc[0m\ttab"
    lines = render("github", SPECIAL).splitlines()
    # One physical line per command: nothing in the data can start a new command.
    assert len(lines) == 6
    assert lines[0].startswith(
        "::error file=manifests/we%2Cird%3Ana%25me.yaml,line=5,title=drift%3A ünï|code `x` 100%25"
        '%2C a%3Ab <&> "q"%0Anext (mi_|`%25/dep%3A%2C1)::'
    )
    assert lines[3] == (
        "::error file=manifests/prod.yaml,line=40,title=error%3A *bold* _it_ @team #12 [x](y)"
        " (mi_2/dep_2)::bad body:%0D%0A<html>|`oops`| 100%25</html>"
    )


def test_github_all_in_sync_is_notice_only() -> None:
    assert render("github", ALL_IN_SYNC) == (
        "::notice::2 deployments: 2 in sync, 0 drifted, 0 missing, 0 errors.\n"
    )


def test_append_step_summary(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    target.write_text("earlier step\n", encoding="utf-8")
    append_step_summary(str(target), MIXED)
    assert target.read_text(encoding="utf-8") == "earlier step\n" + markdown_reporter.render(MIXED)


# --- markdown -----------------------------------------------------------------------------


def test_markdown_mixed() -> None:
    output = render("markdown", MIXED)
    lines = output.splitlines()
    assert lines[0] == "### driftcheck: errors"
    assert "4 deployments: 1 in sync, 1 drifted, 1 missing, 1 error." in lines
    assert "| Deployment | Status | Details |" in lines
    assert "| llama-70b-prod (mi\\_123/dep\\_456) | drifted | 2 differences |" in lines
    assert "| mistral-canary (mi\\_123/dep\\_999) | missing | not found on the API |" in lines
    assert "| qwen-eval (mi\\_777/dep\\_1) | error | HTTP 503 after 3 retries |" in lines
    assert "gemma-dev" not in output
    assert "<details><summary>llama-70b-prod (mi_123/dep_456) — 2 differences</summary>" in lines
    assert "| `vendor_configuration.max_workers` | `4` | `2` |" in lines
    assert '| `vendor_configuration.memory` | `"64Gi"` | `"32Gi"` |' in lines


def test_markdown_verdicts() -> None:
    assert (
        render("markdown", ALL_IN_SYNC) == "### driftcheck: in sync\n\nAll 2 deployments in sync.\n"
    )
    assert render("markdown", EMPTY) == "### driftcheck: in sync\n\nNo deployments to check.\n"
    assert render("markdown", KINDS).startswith("### driftcheck: drift detected\n")
    assert "| gemma-dev (mi\\_123/dep\\_457) | in sync |  |" in render(
        "markdown", MIXED, verbose=True
    )


def test_markdown_escaping() -> None:
    assert markdown_reporter.code_cell("a|b") == "`a\\|b`"
    assert markdown_reporter.code_cell("x `y` z") == "``x `y` z``"
    assert markdown_reporter.code_cell("`edge``") == "``` `edge`` ```"
    assert markdown_reporter.text_cell("a|b\nc <d> & *e*") == "a\\|b<br>c \\<d\\> \\& \\*e\\*"
    output = render("markdown", SPECIAL)
    assert "<script>" not in output and "<html>" not in output
    # Every table row keeps exactly its three cells: no unescaped pipe inside a cell.
    for line in output.splitlines():
        if line.startswith("| "):
            assert len(re.findall(r"(?<!\\)\|", line)) == 4, line


def test_markdown_kinds() -> None:
    lines = render("markdown", KINDS).splitlines()
    assert (
        '| `vendor_configuration` | `{"vendor": "LAUNCH", "max_workers": 2}` | _(absent)_ |'
        in lines
    )
    assert '| `deployment_metadata.owner` | _(undeclared)_ | `"team-a"` |' in lines


def test_value_helpers() -> None:
    assert words.format_value({"a": [1, None, True, "é"]}) == '{"a": [1, null, true, "é"]}'
    assert words.printable("a\nb\x1b\u2028") == "a\\nb\\u001b\\u2028"
    loop: list[Any] = [1]
    loop.append(loop)
    assert words.jsonable(loop) == [1, "[circular]"]
    assert words.jsonable({None: float("inf"), 2: (1,)}) == {"null": "inf", "2": [1]}


def test_json_difference_segments_keep_a_dotted_key_whole() -> None:
    dotted = diff("deployment_metadata.k.dot", 1, 2, 8, segments=("deployment_metadata", "k.dot"))
    listed = diff("model_creation_parameters.layers", [1], [2], 9)
    result = run(
        DeploymentResult(
            "mi", "dep", None, SourceLocation(PROD, 1), Status.DRIFTED, (dotted, listed)
        )
    )
    (deployment,) = json.loads(render("json", result))["deployments"]
    assert [d["segments"] for d in deployment["differences"]] == [
        ["deployment_metadata", "k.dot"],
        ["model_creation_parameters", "layers"],
    ]
    assert all("note" not in d for d in deployment["differences"])
