"""The scenarios: driftcheck check, the hand-written baselines, start-up and emulator capacity."""

from __future__ import annotations

import contextlib
import json
import os
import re
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.processes import REPO_ROOT, EmulatorProcess, Measurement, measure
from benchmarks.rows import Row, median_run
from benchmarks.workload import expected_summary, write_manifests

BASELINE = REPO_ROOT / "benchmarks" / "baseline_sdk.py"
LOADGEN = REPO_ROOT / "benchmarks" / "loadgen.py"
EXAMPLE_MANIFEST = REPO_ROOT / "manifests" / "example.yaml"


def _driftcheck_importable() -> bool:
    import importlib.util

    return importlib.util.find_spec("driftcheck") is not None


def driftcheck_command() -> list[str]:
    """The installed console script when it sits beside this interpreter, else ``-m``."""
    script = Path(sys.executable).parent / "driftcheck"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "driftcheck"]


MODE_LABELS = {
    "get": "check --fetch get",
    "list": "check --fetch list",
    "auto": "check (default: --fetch auto)",
    "": "check",
}


class Bench:
    def __init__(self, workdir: Path, repeat: int) -> None:
        self.workdir = workdir
        self.repeat = repeat
        self.manifests: dict[int, Path] = {}
        # Bytecode is cached (as in any installed copy) in a private directory, so the runs
        # neither pay for compiling driftcheck each time nor write into the work tree.
        self.pycache = workdir / "pycache"
        self.fetch_choices: list[str] = []
        self.modes = self._modes()

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        for name in ("SGP_CLIENT_BASE_URL", "SGP_ACCOUNT_ID", "HTTPS_PROXY", "HTTP_PROXY", "CI"):
            env.pop(name, None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(SGP_API_KEY="bench-key", PYTHONPYCACHEPREFIX=str(self.pycache), **extra)
        if not _driftcheck_importable():
            paths = [str(REPO_ROOT), env.get("PYTHONPATH", "")]
            env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        return env

    def _modes(self) -> list[str]:
        """``get`` and ``auto`` when this driftcheck has ``--fetch``, else just the default."""
        help_run = measure(
            [sys.executable, "-m", "driftcheck", "check", "--help"], env=self.env(), timeout=60
        )
        if help_run.returncode != 0:
            raise RuntimeError(f"driftcheck check --help failed: {help_run.stderr.strip()}")
        choices = re.search(r"--fetch \[([a-z|]+)\]", help_run.stdout)
        self.fetch_choices = choices.group(1).split("|") if choices else []
        return ["get", "auto"] if "--fetch" in help_run.stdout else [""]

    def manifest(self, n: int) -> Path:
        if n not in self.manifests:
            self.manifests[n] = write_manifests(self.workdir / f"manifest-{n}", n)
        return self.manifests[n]

    def warm_up(self) -> None:
        """One untimed run of each command, so every timed run finds its bytecode cached."""
        measure([*driftcheck_command(), "--version"], env=self.env(), timeout=60)
        measure(
            [*driftcheck_command(), "validate", str(EXAMPLE_MANIFEST)], env=self.env(), timeout=60
        )
        with EmulatorProcess(5, 0.0) as emu:
            for mode in [*self.modes, *(["list"] if "list" in self.fetch_choices else [])]:
                self._check_once(emu, 5, 4, mode, timeout=60)

    # -- driftcheck check ----------------------------------------------------------------------

    def _check_once(
        self, emu: EmulatorProcess, n: int, concurrency: int, mode: str, timeout: float
    ) -> Measurement:
        cmd = [
            sys.executable,
            "-m",
            "driftcheck",
            "check",
            str(self.manifest(n)),
            "--format",
            "json",
            "--base-url",
            emu.url,
            "--concurrency",
            str(concurrency),
        ]
        if mode:
            cmd += ["--fetch", mode]
        return measure(cmd, env=self.env(), timeout=timeout)

    def check(
        self,
        key: str,
        n: int,
        latency: float,
        concurrency: int,
        mode: str,
        *,
        emulator: EmulatorProcess | None = None,
        label: str = "",
    ) -> Row:
        scenario = f"{MODE_LABELS[mode]}: {n:,} @ {latency * 1000:g} ms, C={concurrency}{label}"
        row = Row(scenario, n, latency, concurrency, key=key, mode=mode)
        self.manifest(n)
        timeout = 60 + 10 * n * latency / concurrency + 0.05 * n
        runs: list[Measurement] = []
        busy: list[float] = []
        with contextlib.ExitStack() as stack:
            emu = emulator or stack.enter_context(EmulatorProcess(n, latency))
            for _ in range(self.repeat):
                before = emu.cpu_seconds()
                run = self._check_once(emu, n, concurrency, mode, timeout)
                after = emu.cpu_seconds()
                runs.append(run)
                if before is not None and after is not None and run.wall > 0:
                    busy.append((after - before) / run.wall)
                problem = self._verify_check(run, n)
                if problem:
                    row.ok = False
                    row.notes.append(problem)
                    break
        chosen = median_run(runs)
        row.wall, row.cpu, row.rss_mb = chosen.wall, chosen.cpu, chosen.maxrss_kb / 1024
        row.best_wall = min(r.wall for r in runs)
        row.emulator_cpu = statistics.median(busy) if busy else None
        row.runs = [
            {"wall": r.wall, "cpu": r.cpu, "maxrss_kb": r.maxrss_kb, "returncode": r.returncode}
            for r in runs
        ]
        if row.ok:
            if len(runs) > 1:
                row.notes.append(f"median of {len(runs)} runs (min {row.best_wall:.3f} s)")
            row.notes.append(f"{n / chosen.wall:,.0f} deployments/s")
            if mode == "auto" and n >= 100:  # below 100 declared, auto makes GETs
                models = -(-n // 100)
                row.notes.append(f"from list pages of {models:,} model instance(s), 100 each")
        return row

    def counted(self, key: str, n: int, latency: float, concurrency: int, mode: str) -> Row:
        """Like :meth:`check`, but each run gets a fresh emulator, so that the ``REQUESTS``
        line it prints on exit counts the HTTP requests of that one run."""
        scenario = f"{MODE_LABELS[mode]}: {n:,} @ {latency * 1000:g} ms, C={concurrency}"
        row = Row(scenario, n, latency, concurrency, key=key, mode=mode)
        if mode not in self.fetch_choices:
            row.ok = False
            row.notes.append(f"this driftcheck has no --fetch {mode}")
            return row
        self.manifest(n)
        timeout = 60 + 10 * n * latency / concurrency + 0.05 * n
        runs: list[tuple[Measurement, int | None, float | None]] = []
        for _ in range(self.repeat):
            with EmulatorProcess(n, latency) as emu:
                before = emu.cpu_seconds()
                run = self._check_once(emu, n, concurrency, mode, timeout)
                after = emu.cpu_seconds()
            busy = None
            if before is not None and after is not None and run.wall > 0:
                busy = (after - before) / run.wall
            runs.append((run, emu.requests_served, busy))
            problem = self._verify_check(run, n)
            if problem is None and emu.requests_served is None:
                problem = "the emulator printed no REQUESTS line"
            if problem:
                row.ok = False
                row.notes.append(problem)
                break
        ordered = sorted(runs, key=lambda r: r[0].wall)
        chosen, requests, busy = ordered[(len(ordered) - 1) // 2]  # the median run, as in check()
        row.wall, row.cpu, row.rss_mb = chosen.wall, chosen.cpu, chosen.maxrss_kb / 1024
        row.best_wall = min(r.wall for r, _, _ in runs)
        row.emulator_cpu = busy
        row.requests = requests
        row.runs = [
            {
                "wall": r.wall,
                "cpu": r.cpu,
                "maxrss_kb": r.maxrss_kb,
                "returncode": r.returncode,
                "requests": -1 if count is None else count,
            }
            for r, count, _ in runs
        ]
        if row.ok:
            counts = sorted({count for _, count, _ in runs if count is not None})
            row.notes.append(
                f"{requests:,} HTTP requests served"
                + ("" if len(counts) == 1 else f" (runs: {', '.join(f'{c:,}' for c in counts)})")
            )
            if len(runs) > 1:
                row.notes.append(f"median of {len(runs)} runs (min {row.best_wall:.3f} s)")
            row.notes.append(f"{n / chosen.wall:,.0f} deployments/s")
        return row

    @staticmethod
    def _verify_check(run: Measurement, n: int) -> str | None:
        if run.timed_out:
            return f"timed out after {run.wall:.0f}s"
        expected = expected_summary(n)
        want_code = 2 if expected["drifted"] else 0
        if run.returncode != want_code:
            return f"exit {run.returncode} (expected {want_code}): {run.stderr.strip()[-300:]}"
        try:
            summary = json.loads(run.stdout)["summary"]
        except (ValueError, KeyError, TypeError):
            return "stdout is not a JSON report"
        if summary != expected:
            return f"summary {summary} != expected {expected}"
        return None

    # -- baseline ------------------------------------------------------------------------------

    def baseline(
        self,
        n: int,
        latency: float,
        emu: EmulatorProcess,
        *,
        concurrent: int | None = None,
        runs: int = 1,
    ) -> Row:
        """The hand-written SDK loop: sequential, or ``concurrent`` in flight with
        ``AsyncSGPClient`` and ``asyncio.Semaphore``; the median of ``runs`` runs."""
        manifest = self.manifest(n)
        timeout = 60 + 3 * n * (latency + 0.05) / (concurrent or 1)
        env = self.env(SGP_CLIENT_BASE_URL=emu.url)
        cmd = [sys.executable, str(BASELINE), str(manifest)]
        if concurrent is not None:
            cmd += ["--concurrent", str(concurrent)]
        measured: list[tuple[Measurement, dict[str, Any] | None, float | None]] = []
        fell_back = ""
        for _ in range(runs):
            before = emu.cpu_seconds()
            run = measure(cmd, env=env, timeout=timeout)
            after = emu.cpu_seconds()
            summary = _json_line(run.stdout)
            from_sdk = str(summary.get("client")).startswith("scale-gp") if summary else False
            if summary and summary.get("errors") == n and from_sdk:
                fell_back = " (the SDK failed every request against the emulator)"
                cmd += ["--client", "httpx"]
                before = emu.cpu_seconds()
                run = measure(cmd, env=env, timeout=timeout)
                after = emu.cpu_seconds()
                summary = _json_line(run.stdout)
            busy = None
            if before is not None and after is not None and run.wall > 0:
                busy = (after - before) / run.wall
            measured.append((run, summary, busy))
        ordered = sorted(measured, key=lambda m: m[0].wall)
        run, summary, busy = ordered[(len(ordered) - 1) // 2]  # the median run
        client = str(summary.get("client", "?")) if summary else "?"
        shape = "sequential" if concurrent is None else "concurrent"
        reason = "" if client.startswith("scale-gp") else fell_back or " (scale-gp not installed)"
        row = Row(
            f"baseline: {client}{reason}, {shape} + DeepDiff",
            n,
            latency,
            concurrent or 1,
            key="baseline" if concurrent is None else "sdk-async",
        )
        row.wall, row.cpu, row.rss_mb = run.wall, run.cpu, run.maxrss_kb / 1024
        row.emulator_cpu = busy
        row.best_wall = min(m[0].wall for m in measured)
        expected = expected_summary(n)
        if run.timed_out or run.returncode != 0 or summary is None:
            row.ok = False
            row.notes.append(f"exit {run.returncode}: {run.stderr.strip()[-300:]}")
        elif summary.get("errors") or summary.get("checked") != n:
            row.ok = False
            row.notes.append(f"summary {summary}")
        else:
            if runs > 1:
                row.notes.append(f"median of {runs} runs (min {row.best_wall:.3f} s)")
            row.notes.append(
                f"plain DeepDiff of vendor_configuration: {summary.get('drifted')} drifted "
                f"(driftcheck: {expected['drifted']})"
            )
        row.runs = [
            {"wall": r.wall, "cpu": r.cpu, "maxrss_kb": r.maxrss_kb} for r, _, _ in measured
        ]
        return row

    # -- start-up ------------------------------------------------------------------------------

    def startup(self, key: str, scenario: str, args: Sequence[str], runs: int) -> Row:
        cmd = [*driftcheck_command(), *args]
        results = []
        row = Row(scenario, key=key)
        for _ in range(runs):
            run = measure(cmd, env=self.env(), timeout=60)
            if run.timed_out or run.returncode != 0:
                row.ok = False
                row.notes.append(f"exit {run.returncode}: {run.stderr.strip()[-300:]}")
                break
            results.append(run)
        if results:
            walls = [r.wall for r in results]
            row.wall = statistics.median(walls)
            row.cpu = statistics.median(r.cpu for r in results)
            row.rss_mb = max(r.maxrss_kb for r in results) / 1024
            row.notes.insert(
                0,
                f"median of {len(results)} runs (min {min(walls):.3f} s); "
                f"CPU {row.cpu * 1000:.0f} ms",
            )
            row.runs = [{"wall": r.wall, "cpu": r.cpu, "maxrss_kb": r.maxrss_kb} for r in results]
        return row

    # -- emulator capacity ---------------------------------------------------------------------

    def capacity(self, requests: int, concurrency: int = 32, deployments: int = 1000) -> Row:
        row = Row(
            f"emulator capacity (separate httpx load generator, C={concurrency})",
            requests,
            0.0,
            concurrency,
            key="capacity",
        )
        with EmulatorProcess(deployments, 0.0) as emu:
            before = emu.cpu_seconds()
            cmd = [
                sys.executable,
                str(LOADGEN),
                emu.url,
                "--deployments",
                str(deployments),
                "--requests",
                str(requests),
                "--concurrency",
                str(concurrency),
            ]
            run = measure(cmd, env=self.env(), timeout=60 + requests * 0.01)
            after = emu.cpu_seconds()
        figures = _json_line(run.stdout)
        if run.timed_out or run.returncode != 0 or figures is None:
            row.ok = False
            row.notes.append(f"exit {run.returncode}: {run.stderr.strip()[-300:]}")
            return row
        row.wall = float(figures["seconds"])
        row.notes.append(f"{figures['rps']:,.0f} requests/s served")
        if before is not None and after is not None:
            emulator_cpu = after - before
            row.emulator_cpu = emulator_cpu / run.wall
            per_request = emulator_cpu / (requests + concurrency)
            if per_request > 0:
                row.notes.append(
                    f"emulator CPU {per_request * 1e6:,.0f} µs/request, so one core serves "
                    f"≈ {1 / per_request:,.0f} requests/s"
                )
        busy = run.cpu / run.wall if run.wall > 0 else 0.0
        limit = "the limit here" if busy > 0.8 else "not saturated"
        row.notes.append(
            f"load generator (httpx): {run.cpu * 1e3 / requests:.2f} ms CPU/request, "
            f"{busy * 100:.0f} % of a core, {limit}"
        )
        return row


def _json_line(text: str) -> dict[str, Any] | None:
    for line in reversed(text.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None
