"""Benchmarks: how close ``driftcheck check`` gets to the API's own limit, N·L/C.

One command, from the repository root, with driftcheck installed in the running interpreter::

    python -m benchmarks.run                  # full run: about 10 minutes on 2 cores
    python -m benchmarks.run --quick          # tiny N, ~15 s (the smoke test runs this)
    python -m benchmarks.run --json out.json  # also write the raw figures
    python -m benchmarks.run --repeat 5       # runs per check scenario (median shown)
    python -m benchmarks.run --only list-vs-get   # just the --fetch list vs get scenario
    python -m benchmarks.run --only async-sdk     # just 1,000 @ 50 ms vs AsyncSGPClient

``-m`` from the root puts the root on ``sys.path``, so ``benchmarks`` and ``tests.emulator``
import as packages, as they do under pytest. Modules: ``processes`` (measured, bounded child
processes, the emulator process), ``workload`` (manifests matching the emulator), ``bench``
(the scenarios), ``rows`` (table rows), ``targets`` (the issues' targets), ``run`` (plans, main).

Each scenario starts the loopback emulator (``tests/emulator.py``) as its own process with N
generated deployments and a fixed latency per request, writes a matching manifest (every
deployment declares its vendor configuration, name, status, endpoint and free-form keys, so every
deployment is really compared; one in 50 declares a different ``max_workers`` and so drifts) to a
temporary directory, and runs the real CLI as a child process::

    python -m driftcheck check MANIFEST_DIR --format json --base-url URL --concurrency C

with ``SGP_API_KEY=bench-key``; when this driftcheck has ``--fetch``, each check scenario runs
twice: ``--fetch get`` (one GET per deployment: the workload N·L/C models) and the default ``auto``
(list pages where they take fewer requests). The child is reaped with ``os.wait4``, which gives
its own wall time (including interpreter start), CPU time (user + sys) and peak RSS
(``ru_maxrss``). The JSON report is parsed afterwards and checked against what the manifest
implies, so a run that quietly failed requests cannot pass for a fast one.

Scenarios (full mode):

* 2,000 deployments at 50 ms with ``--concurrency 32`` (target: wall <= 1.15 x ideal);
* 1,000 at 50 ms with ``--concurrency 32`` (the acceptance check: <= 1.5 x ideal) beside, on
  the same emulator, the SDK's ``AsyncSGPClient`` with ``asyncio.Semaphore(32)`` and DeepDiff
  (issue 16: ``--fetch get`` >= 1.3 x faster than it, the default fetch <= 0.5 x ideal); the
  ``--fetch get`` row also gives the CPU of one GET (its CPU beyond ``auto``'s per extra request);
* 200 at 50 ms: driftcheck against the baseline (``benchmarks/baseline_sdk.py``: a sequential
  loop with the official ``scale-gp`` SDK plus a plain DeepDiff; falls back to a plain httpx loop,
  and says so in the row, when the SDK is not installed: ``pip install -e '.[bench]'``);
* 1k, 5k, 10k at 0 ms: CPU per deployment, peak RSS and linear growth;
* 10,000 at 50 ms with ``--concurrency 32``, ``--fetch list`` against ``--fetch get`` (issue 6):
  wall time and the number of HTTP requests the emulator served, each run against a fresh
  emulator that prints ``REQUESTS <n>`` when it stops (target: >= 20 x fewer requests and >= 5 x
  less wall time with ``list``);
* ``driftcheck --version`` and ``driftcheck validate manifests/example.yaml`` (median of 10);
* the emulator's own capacity, served to a separate httpx load generator at concurrency 32, with
  the emulator's CPU per request, so the table shows the emulator is not the bottleneck.

Before timing, one untimed run of each command fills a private bytecode cache
(``PYTHONPYCACHEPREFIX`` in a temporary directory), as an installed copy would have.
The "emulator CPU" column is the emulator's CPU time during the run divided by its wall time:
far below 100 % means it had room to spare. Every child process has a timeout and is killed when
this script exits. Exit status: 0 when every scenario ran and its results were verified, 1
otherwise (timing targets never change the exit status; they are listed after the table).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import platform
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.bench import EXAMPLE_MANIFEST, Bench
from benchmarks.processes import REPO_ROOT, EmulatorProcess, cleanup, on_sigterm
from benchmarks.rows import Row, render
from benchmarks.targets import targets

# ---------------------------------------------------------------------------------------------
# Plans


@dataclass
class Plan:
    capacity_requests: int
    checks: list[tuple[str, int, float, int]]  # (key, N, latency, concurrency)
    baseline: tuple[int, float, list[int]]  # N, latency, driftcheck concurrencies beside it
    linear: list[int]
    linear_concurrency: int
    startup_runs: int
    # (key, N, latency, C): driftcheck in each fetch mode and AsyncSGPClient with
    # asyncio.Semaphore(C) against one emulator (issue 16)
    versus_async: tuple[str, int, float, int]
    list_vs_get: tuple[int, float, int] | None = None  # N, latency, concurrency (issue 6)


FULL = Plan(
    capacity_requests=10_000,
    checks=[("2k50", 2000, 0.05, 32)],
    baseline=(200, 0.05, [32, 64]),
    linear=[1000, 5000, 10000],
    linear_concurrency=32,
    startup_runs=10,
    versus_async=("1k50", 1000, 0.05, 32),
    list_vs_get=(10_000, 0.05, 32),
)

QUICK = Plan(
    capacity_requests=300,
    checks=[],
    baseline=(10, 0.01, [32]),
    linear=[20],
    linear_concurrency=32,
    startup_runs=3,
    versus_async=("quick10", 20, 0.01, 4),
)


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cores": cores,
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


ONLY = ("list-vs-get", "async-sdk")  # scenarios --only can pick


def run_plan(plan: Plan, bench: Bench, show: bool, only: str | None = None) -> list[Row]:
    rows: list[Row] = []

    def add(row: Row) -> Row:
        rows.append(row)
        if show:
            wall = "—" if row.wall is None else f"{row.wall:.3f} s"
            print(f"  {row.scenario}: {wall}{'' if row.ok else ' FAILED'}", file=sys.stderr)
        return row

    if show:
        print("warming up (bytecode cache, manifests) ...", file=sys.stderr)
    bench.warm_up()
    if only == "list-vs-get":
        add_list_vs_get(plan, bench, add)
        return rows
    if only == "async-sdk":
        add_versus_async(plan, bench, add)
        return rows
    add(bench.capacity(plan.capacity_requests))
    for key, n, latency, concurrency in plan.checks:
        for mode in bench.modes:
            add(bench.check(key, n, latency, concurrency, mode))
    add_versus_async(plan, bench, add)

    n, latency, concurrencies = plan.baseline
    with EmulatorProcess(n, latency) as emu:
        baseline = add(bench.baseline(n, latency, emu))
        for mode in bench.modes:
            for concurrency in concurrencies if mode != "auto" else concurrencies[:1]:
                row = bench.check("vs-baseline", n, latency, concurrency, mode, emulator=emu)
                if row.ok and baseline.ok and row.wall and baseline.wall:
                    row.notes.insert(0, f"{baseline.wall / row.wall:.1f}x faster than the baseline")
                add(row)

    linear: dict[tuple[str, int], Row] = {}
    for mode in bench.modes:
        for n in plan.linear:
            row = bench.check("linear", n, 0.0, plan.linear_concurrency, mode)
            if row.ok and row.wall:
                row.notes.insert(0, f"{row.wall * 1e3 / n:.3f} ms wall/deployment")
            linear[mode, n] = row
    for n in plan.linear:
        note_cpu_per_get(linear.get(("get", n)), linear.get(("auto", n)))
    for row in linear.values():
        add(row)

    add_list_vs_get(plan, bench, add)
    add(bench.startup("version", "driftcheck --version", ["--version"], plan.startup_runs))
    add(
        bench.startup(
            "validate",
            "driftcheck validate manifests/example.yaml",
            ["validate", str(EXAMPLE_MANIFEST.relative_to(REPO_ROOT))],
            plan.startup_runs,
        )
    )
    return rows


def add_versus_async(plan: Plan, bench: Bench, add: Callable[[Row], Row]) -> None:
    """Issue 16: driftcheck against what a capable user writes, AsyncSGPClient with
    asyncio.Semaphore(C), on one emulator; and the CPU one GET costs driftcheck."""
    key, n, latency, concurrency = plan.versus_async
    with EmulatorProcess(n, latency) as emu:
        sdk = add(bench.baseline(n, latency, emu, concurrent=concurrency, runs=bench.repeat))
        rows = {}
        for mode in bench.modes:
            row = bench.check(key, n, latency, concurrency, mode, emulator=emu)
            if row.ok and sdk.ok and row.wall and sdk.wall:
                row.notes.insert(0, f"{sdk.wall / row.wall:.2f}x faster than AsyncSGPClient")
            rows[mode] = row
    note_cpu_per_get(rows.get("get"), rows.get("auto"))
    for row in rows.values():
        add(row)


def note_cpu_per_get(get: Row | None, auto: Row | None) -> None:
    """CPU of one GET: what ``--fetch get`` spends beyond ``auto`` on the same deployments,
    per extra request (both load, parse and compare the same N; ``auto`` reads N/100 list
    pages instead of N GETs). Only from 100 deployments on, where ``auto`` reads pages."""
    if get is None or auto is None or not (get.ok and auto.ok) or not get.n or get.n < 100:
        return
    if get.cpu is None or auto.cpu is None:
        return
    extra = get.n - -(-get.n // 100)
    get.cpu_per_get = (get.cpu - auto.cpu) / extra
    get.notes.insert(0, f"CPU per GET {get.cpu_per_get * 1e3:.2f} ms (vs auto's list pages)")


def add_list_vs_get(plan: Plan, bench: Bench, add: Callable[[Row], Row]) -> None:
    """Issue 6: the same 10k check with one GET per deployment and from list pages."""
    if plan.list_vs_get is None:
        return
    n, latency, concurrency = plan.list_vs_get
    get = add(bench.counted("list-vs-get", n, latency, concurrency, "get"))
    listed = bench.counted("list-vs-get", n, latency, concurrency, "list")
    if listed.ok and get.ok and listed.requests and get.requests and listed.wall and get.wall:
        listed.notes.insert(
            0,
            f"vs --fetch get: {get.requests / listed.requests:,.1f}x fewer requests, "
            f"{get.wall / listed.wall:.1f}x less wall time",
        )
    add(listed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark driftcheck against the loopback emulator and a hand-written "
        "SDK baseline; prints a Markdown table (see the docstring of this file).",
        epilog="One command: python -m benchmarks.run [--quick]. Full mode takes about 10 "
        "minutes on 2 cores, --quick about 15 s. Without scale-gp (pip install -e '.[bench]') "
        "the baseline is a plain httpx loop and its row says so. Figures and how to read them: "
        "benchmarks/README.md.",
    )
    parser.add_argument("--quick", action="store_true", help="tiny N: checks the script works")
    parser.add_argument("--json", metavar="PATH", help="also write the raw figures as JSON")
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs per check scenario; the median run is shown (default 3, with --quick 1)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument(
        "--only",
        choices=ONLY,
        help="run just this full-mode scenario and its targets (list-vs-get: 10,000 @ 50 ms, "
        "C=32, --fetch list vs --fetch get, with the HTTP requests each served; async-sdk: "
        "1,000 @ 50 ms, C=32, driftcheck vs AsyncSGPClient with asyncio.Semaphore(32))",
    )
    args = parser.parse_args(argv)
    if args.only and args.quick:
        parser.error("--only runs a full-mode scenario; it cannot be combined with --quick")

    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, on_sigterm)
    plan = QUICK if args.quick else FULL
    repeat = max(1, args.repeat or (1 if args.quick else 3))
    info = machine()
    with tempfile.TemporaryDirectory(prefix="driftcheck-bench-") as tmp:
        try:
            bench = Bench(Path(tmp), repeat)
            rows = run_plan(plan, bench, show=not args.quiet, only=args.only)
        finally:
            cleanup()
    checks = [] if args.quick else targets(rows)
    print(render(rows, info, checks), end="", flush=True)
    if args.json:
        document = {
            "mode": "quick" if args.quick else "full",
            "only": args.only,
            "machine": info,
            "rows": [row.as_dict() for row in rows],
            "targets": [
                {"target": t, "fetch_mode": m, "passed": p, "measured": f} for t, m, p, f in checks
            ],
        }
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
