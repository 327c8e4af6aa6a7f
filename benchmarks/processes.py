"""Child processes of a benchmark: each one registered, bounded by a timeout, measured with
``os.wait4`` (its own CPU time and peak RSS), and killed when the run exits."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

REPO_ROOT = Path(__file__).resolve().parents[1]
EMULATOR = REPO_ROOT / "tests" / "emulator.py"

_LIVE: set[subprocess.Popen[bytes]] = set()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def cleanup() -> None:
    for proc in list(_LIVE):
        _kill_group(proc)
        with contextlib.suppress(Exception):
            proc.wait(timeout=5)
        _LIVE.discard(proc)


def on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@dataclass
class Measurement:
    wall: float
    user: float
    sys: float
    maxrss_kb: int
    returncode: int
    timed_out: bool
    stdout: str
    stderr: str

    @property
    def cpu(self) -> float:
        return self.user + self.sys


def measure(
    cmd: Sequence[str], *, env: dict[str, str], timeout: float, keep_stdout: bool = True
) -> Measurement:
    """Run ``cmd`` to completion; wall time, rusage (via wait4) and output of that child alone."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=out if keep_stdout else subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=REPO_ROOT,
            start_new_session=True,
        )
        _LIVE.add(proc)
        timed_out = threading.Event()

        def expire() -> None:
            timed_out.set()
            _kill_group(proc)

        timer = threading.Timer(timeout, expire)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            wall = time.perf_counter() - started
            _LIVE.discard(proc)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measurement(
            wall=wall,
            user=usage.ru_utime,
            sys=usage.ru_stime,
            maxrss_kb=usage.ru_maxrss,
            returncode=proc.returncode,
            timed_out=timed_out.is_set(),
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace")[-2000:],
        )


class EmulatorProcess:
    """``tests/emulator.py --deployments N --latency L`` in its own process group."""

    def __init__(self, deployments: int, latency: float, start_timeout: float = 120.0) -> None:
        self.stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(EMULATOR),
                "--deployments",
                str(deployments),
                "--latency",
                repr(latency),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            cwd=REPO_ROOT,
            start_new_session=True,
        )
        _LIVE.add(self.proc)
        # requests served, from the emulator's last line ``REQUESTS <n>``; set by close()
        self.requests_served: int | None = None
        try:
            self.url = self._wait_ready(start_timeout)
        except BaseException:
            self.close()
            raise

    def _wait_ready(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while b"\n" not in buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    raise RuntimeError(f"emulator did not print READY within {timeout:g}s")
                chunk = os.read(fd, 4096)
                if not chunk:
                    self.stderr.seek(0)
                    tail = self.stderr.read().decode("utf-8", "replace")[-1000:]
                    raise RuntimeError(f"emulator exited before READY: {tail}")
                buffer += chunk
        line = buffer.split(b"\n", 1)[0].decode().strip()
        if not line.startswith("READY "):
            raise RuntimeError(f"unexpected emulator output: {line!r}")
        return line.split(" ", 1)[1]

    def cpu_seconds(self) -> float | None:
        """User + system CPU the emulator has used so far (Linux /proc), or None."""
        try:
            with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _kill_group(self.proc)
                self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            with contextlib.suppress(OSError, ValueError):
                # The process has exited, so this ends; _wait_ready read only up to READY\n.
                for line in self.proc.stdout.read().decode("utf-8", "replace").splitlines():
                    word, _, count = line.partition(" ")
                    if word == "REQUESTS" and count.strip().isdigit():
                        self.requests_served = int(count)
            self.proc.stdout.close()
        self.stderr.close()
        _LIVE.discard(self.proc)

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
