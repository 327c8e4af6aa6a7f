"""The HTML report in a real headless Chromium (Debian's package), loaded from disk.

Playwright drives ``/usr/bin/chromium``; it never downloads a browser of its own. In CI
(``CI=true``) a missing Chromium fails the test: ``.ci/run`` installs it, and a page that was
never opened in a browser is not tested. Locally the test skips without it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulator import Emulator, launch_config, make_deployment

CHROMIUM = os.environ.get("DRIFTCHECK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"  # git-ignored; kept by CI
# Without the background-networking flags Chromium phones home at start; a sandbox needs
# privileges a CI container lacks.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

MANIFEST = """\
version: 1
deployments:
  - model_instance_id: mi_1
    deployment_id: dep_a
    name: alpha
    vendor_configuration: {vendor: LAUNCH, max_workers: 4}
  - model_instance_id: mi_1
    deployment_id: dep_b
    name: beta <b>&amp;
    vendor_configuration: {vendor: LAUNCH, per_worker: 10}
  - model_instance_id: mi_1
    deployment_id: dep_c
  - model_instance_id: mi_2
    deployment_id: dep_d
"""


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium under Playwright. Started only after the driftcheck runs: the sync
    API keeps an event loop running in this thread, where ``asyncio.run`` cannot start."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is not installed at {CHROMIUM}; .ci/run installs it")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # launch() starts from a fresh temporary profile (user data dir) every time
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield instance
        finally:
            instance.close()


def nights(emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path) -> Path:
    """Three nightly runs with --history; returns the last night's HTML report."""
    from tests.emulator import Reply

    path = manifest(MANIFEST)
    history = str(tmp_path / "history")
    emulator.put(make_deployment("mi_2", "dep_d"))
    page = tmp_path / "site" / "report.html"
    page.parent.mkdir()
    for night, (a, b) in enumerate(((2, 10), (2, 20), (4, 20))):
        emulator.put(
            make_deployment(
                "mi_1", "dep_a", name="alpha", vendor_configuration=launch_config(max_workers=a)
            )
        )
        emulator.put(
            make_deployment(
                "mi_1",
                "dep_b",
                name="beta <b>&amp;",
                vendor_configuration=launch_config(per_worker=b),
            )
        )
        if night == 2:
            emulator.script("mi_2", "dep_d", Reply(status=503), Reply(status=503))
        result = run_check(path, "--retries", "1", "--history", history, "--report", f"html={page}")
        assert result.code == (1 if night == 2 else 2), result.stderr
    return page


def test_report_in_headless_chromium(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    report = nights(emulator, run_check, manifest, tmp_path)
    with chromium() as browser:
        look_at(browser, report)


def look_at(browser: Any, report: Path) -> None:
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1200, "height": 900}
    )
    page = context.new_page()
    problems: list[str] = []
    requests: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri(), wait_until="load")

    assert problems == []
    assert requests == [report.as_uri()]  # the page itself, nothing else
    # landmarks and labelled controls, as assistive technology sees them
    assert page.get_by_role("main").count() == 1
    assert page.get_by_role("banner").count() == 1
    assert page.get_by_role("radio", name="drifted (1)").count() == 1
    assert (
        page.get_by_role("img", name="Drifted, missing and error counts", exact=False).count() == 1
    )
    rows = page.locator("#deployments tbody.row")
    assert rows.count() == 4
    headers = [
        text.split("\n")[0] for text in page.locator("#deployments tbody.row th").all_inner_texts()
    ]
    assert headers == ["alpha", "beta <b>&amp;", "mi_1/dep_c", "mi_2/dep_d"]
    assert page.locator("svg g.run").count() == 3  # a point per run
    for series in ("drifted", "missing", "error"):
        assert page.locator(f"svg .point-{series}").count() == 3
    # the status filter works with scripts off: radio buttons and CSS
    page.locator("label[for=show-drifted]").click()
    visible = [row.is_visible() for row in rows.all()]
    assert visible == [False, True, False, False]  # night 3: only beta drifted
    page.locator("label[for=show-all]").click()
    assert all(row.is_visible() for row in rows.all())
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "html-report.png"), full_page=True)
    context.close()


EVIL = "<script>alert('x')</script><img src=x onerror=alert(2)>\"'"


def test_hostile_name_with_scripts_enabled(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    """A reader's browser runs scripts: a deployment name that is markup must stay text there
    too (no dialog, no extra request for ``x``, no console error), next to the other names."""
    path = manifest(
        "version: 1\ndeployments:\n"
        f"  - {{model_instance_id: mi_1, deployment_id: dep_a, name: {json.dumps(EVIL)}}}\n"
        "  - {model_instance_id: mi_1, deployment_id: dep_b, name: plain}\n"
    )
    emulator.put(make_deployment("mi_1", "dep_a", name=EVIL))
    report = tmp_path / "report.html"
    assert run_check(path, "--report", f"html={report}").code == 2  # dep_b missing
    with chromium() as browser:
        context = browser.new_context(java_script_enabled=True)
        page = context.new_page()
        seen: list[str] = []
        page.on(
            "console", lambda m: seen.append(m.text) if m.type in ("error", "warning") else None
        )
        page.on("pageerror", lambda exc: seen.append(str(exc)))
        page.on("dialog", lambda d: (seen.append("dialog " + d.message), d.dismiss()))
        page.on("request", lambda r: seen.append(r.url) if r.url != report.as_uri() else None)
        page.goto(report.as_uri(), wait_until="load")
        assert seen == []
        headers = page.locator("#deployments tbody.row th").all_inner_texts()
        assert [h.split("\n")[0] for h in headers] == [EVIL, "plain"]
        context.close()
