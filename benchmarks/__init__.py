"""Benchmarks of driftcheck against the loopback emulator: run ``python -m benchmarks.run``
from the repository root (see benchmarks/README.md)."""
