"""The benchmark never rots: ``python -m benchmarks.run --quick`` runs end to end and prints its
table.

No timing is asserted here (figures depend on the machine); the script itself checks that every
driftcheck run it times produced the report its manifest implies, and exits 1 otherwise.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emulator import Emulator, generate_deployments

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "benchmarks" / "baseline_sdk.py"
HEADER = (
    "| scenario | N | latency | C | wall s | ideal s | wall/ideal | CPU ms/dep | peak RSS MB "
    "| emulator CPU | notes |"
)


def test_quick_benchmark_prints_a_row_per_scenario(tmp_path: Path) -> None:
    figures = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--quiet", "--json", str(figures)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert HEADER in lines
    body = lines[lines.index(HEADER) + 2 :]
    rows = body[: body.index("")] if "" in body else body  # the targets table follows a gap
    assert rows and all(row.startswith("| ") for row in rows)
    scenarios = [row.split(" | ")[0].removeprefix("| ") for row in rows]

    def count(prefix: str, suffix: str = "") -> int:
        return sum(1 for s in scenarios if s.startswith(prefix) and s.endswith(suffix))

    assert count("emulator capacity") == 1
    assert count("baseline: ") == 2
    assert count("baseline: ") - count("baseline: ", "concurrent + DeepDiff") == 1
    assert count("driftcheck --version") == 1
    assert count("driftcheck validate") == 1
    checks = [s for s in scenarios if s.startswith("check")]
    modes = {s.rsplit(": ", 1)[0] for s in checks}
    # per fetch mode: N=20 @ 10 ms, N=10 @ 10 ms beside the baseline, N=20 @ 0 ms
    assert len(checks) == 3 * len(modes)
    for mode in modes:
        for shape in ("20 @ 10 ms, C=4", "10 @ 10 ms, C=32", "20 @ 0 ms, C=32"):
            assert f"{mode}: {shape}" in scenarios
    assert not any("FAILED" in row for row in rows)

    document = json.loads(figures.read_text(encoding="utf-8"))
    assert document["mode"] == "quick"
    assert [r["scenario"] for r in document["rows"]] == scenarios
    assert all(r["ok"] for r in document["rows"])
    assert document["machine"]["cores"] >= 1


@pytest.mark.parametrize("extra", [[], ["--concurrent", "4"]], ids=["sequential", "async"])
def test_baseline_falls_back_to_httpx_and_says_so(tmp_path: Path, extra: list[str]) -> None:
    """Without scale-gp the baseline still runs, and its output names the fallback client."""
    blocker = tmp_path / "no_sdk" / "scale_gp"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('scale-gp hidden by the test')\n")
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(
        "version: 1\ndeployments:\n"
        "  - model_instance_id: mi_0\n    deployment_id: dep_0\n"
        "    vendor_configuration:\n      vendor: LAUNCH\n      min_workers: 0\n"
        "      max_workers: 1\n      per_worker: 5\n"
        "  - model_instance_id: mi_0\n    deployment_id: dep_404\n",
        encoding="utf-8",
    )
    with Emulator(generate_deployments(1)) as emu:
        proc = subprocess.run(
            [sys.executable, str(BASELINE), str(manifest), *extra],
            capture_output=True,
            text=True,
            timeout=60,
            env={
                "PYTHONPATH": str(blocker.parent),
                "SGP_API_KEY": "bench-key",
                "SGP_CLIENT_BASE_URL": emu.url,
                "PATH": "/usr/bin:/bin",
            },
            stdin=subprocess.DEVNULL,
        )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "fallback, not the SDK" in summary["client"]
    assert ("AsyncClient" in summary["client"]) == bool(extra)
    assert summary["checked"] == 2
    assert summary["in_sync"] == 1
    assert summary["missing"] == 1
    assert summary["errors"] == 0
