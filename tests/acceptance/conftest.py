"""Acceptance fixtures: the real CLI against the loopback emulator."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from driftcheck.cli import cli
from tests.emulator import Emulator
from tests.schemas import OutputWatch

API_KEY = "sk-test-DO-NOT-LEAK-7f3a9c"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(api_key=API_KEY) as emu:
        yield emu


class FakeClock:
    """``--wait``'s time, injected through click's ``obj``: sleeping only moves ``now``."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def invoke(
    args: Sequence[str], env: dict[str, str] | None = None, clock: FakeClock | None = None
) -> Run:
    """Run ``driftcheck ARGS`` in-process; exceptions propagate so a traceback fails the test.
    ``clock``: the time ``--wait`` runs on (the system clock when not given)."""
    runner = CliRunner()
    watch = OutputWatch(args)  # every JSON report or snapshot the run writes must match its schema
    result = runner.invoke(cli, list(args), env=env or {}, catch_exceptions=False, obj=clock)
    assert API_KEY not in result.stdout and API_KEY not in result.stderr
    watch.check(result.stdout)
    return Run(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def run_check(emulator: Emulator, clock: FakeClock) -> Any:
    """``driftcheck check`` against the emulator, fast retries, the test key in the env, and
    the test's fake clock (the ``clock`` fixture), so ``--wait`` never really sleeps."""

    def run(*args: str, env: dict[str, str] | None = None) -> Run:
        full_env = {"SGP_API_KEY": API_KEY, "SGP_CLIENT_BASE_URL": emulator.url, "NO_COLOR": "1"}
        full_env.update(env or {})
        return invoke(["check", "--backoff", "0", *args], full_env, clock)

    return run


@pytest.fixture
def manifest(tmp_path: Path) -> Any:
    """Write a manifest from YAML text; returns its path."""

    def write(text: str, name: str = "manifest.yaml") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def declare_many(manifest: Any, count: int, mi: str = "mi") -> str:
    """A manifest declaring ``mi``/``d0`` .. ``d{count-1}``; returns its path."""
    lines = ["version: 1", "deployments:"]
    lines += [f"  - model_instance_id: {mi}\n    deployment_id: d{i}" for i in range(count)]
    path: str = manifest("\n".join(lines) + "\n")
    return path
