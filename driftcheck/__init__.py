"""driftcheck: declarative drift checking for Scale GP model deployments."""

from __future__ import annotations

__version__ = "0.1.0"
