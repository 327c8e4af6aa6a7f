"""One table row per scenario, the median run of a scenario, and the printed tables."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.processes import Measurement

HEADER = (
    "| scenario | N | latency | C | wall s | ideal s | wall/ideal | CPU ms/dep | peak RSS MB "
    "| emulator CPU | notes |"
)
Target = tuple[str, str, bool, str]  # (target, mode, passed, measured)
SEPARATOR = "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"


@dataclass
class Row:
    scenario: str
    n: int | None = None
    latency: float | None = None
    concurrency: int | None = None
    wall: float | None = None
    cpu: float | None = None
    rss_mb: float | None = None
    emulator_cpu: float | None = None  # fraction of one core during the run
    notes: list[str] = field(default_factory=list)
    ok: bool = True
    key: str = ""  # what the target checks look rows up by
    mode: str = ""  # "get", "auto" or "" (driftcheck without --fetch)
    runs: list[dict[str, float]] = field(default_factory=list)
    best_wall: float | None = None  # the fastest run: the least disturbed on a shared machine
    requests: int | None = None  # HTTP requests the emulator served in the shown run
    cpu_per_get: float | None = None  # seconds of driftcheck CPU one GET costs (--fetch get)

    @property
    def ideal(self) -> float | None:
        if self.n is None or self.latency is None or not self.concurrency:
            return None
        return self.n * self.latency / self.concurrency

    @property
    def ratio(self) -> float | None:
        ideal = self.ideal
        if ideal is None or ideal <= 0 or self.wall is None:
            return None
        return self.wall / ideal

    @property
    def cpu_ms_per_deployment(self) -> float | None:
        if self.cpu is None or not self.n:
            return None
        return self.cpu * 1000 / self.n

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            ideal=self.ideal, ratio=self.ratio, cpu_ms_per_deployment=self.cpu_ms_per_deployment
        )
        return data

    def markdown(self) -> str:
        def num(value: float | None, digits: int) -> str:
            return "—" if value is None else f"{value:,.{digits}f}"

        latency = "—" if self.latency is None else f"{self.latency * 1000:g} ms"
        emulator = "—" if self.emulator_cpu is None else f"{self.emulator_cpu * 100:.0f} %"
        notes = "; ".join(self.notes) if self.ok else "FAILED: " + "; ".join(self.notes)
        cells = [
            self.scenario,
            "—" if self.n is None else f"{self.n:,}",
            latency,
            "—" if self.concurrency is None else str(self.concurrency),
            num(self.wall, 3),
            num(self.ideal, 3),
            num(self.ratio, 2),
            num(self.cpu_ms_per_deployment, 3),
            num(self.rss_mb, 1),
            emulator,
            notes.replace("|", "/").replace("\n", " "),
        ]
        return "| " + " | ".join(cells) + " |"


def median_run(runs: list[Measurement]) -> Measurement:
    ordered = sorted(runs, key=lambda m: m.wall)
    return ordered[(len(ordered) - 1) // 2]


def render(rows: list[Row], info: dict[str, Any], checks: list[Target]) -> str:
    load = ", ".join(f"{x:.2f}" for x in info["load_average"] or ())
    lines = [
        f"Machine: {info['cores']} cores, {info['cpu']}, Python {info['python']}; "
        f"load average at start {load}",
        "",
        HEADER,
        SEPARATOR,
        *(row.markdown() for row in rows),
    ]
    if checks:
        lines += ["", "| target | fetch mode | result | measured |", "|---|---|---|---|"]
        for name, mode, passed, figure in checks:
            lines.append(f"| {name} | {mode} | {'PASS' if passed else 'MISS'} | {figure} |")
    return "\n".join(lines) + "\n"
