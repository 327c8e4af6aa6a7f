"""The workload: manifests declaring exactly what the emulator serves, and the report they imply."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.emulator import generate_deployments

DRIFT_EVERY = 50  # deployment i declares a different max_workers when i % 50 == DRIFT_OFFSET
DRIFT_OFFSET = 7
PER_FILE = 1000  # deployments per manifest file (a file may hold at most 8 MiB)


def drifts(index: int) -> bool:
    return index % DRIFT_EVERY == DRIFT_OFFSET


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))  # a JSON string is a valid double-quoted YAML scalar


def write_manifests(directory: Path, n: int) -> Path:
    """Manifest files declaring the ``n`` deployments that ``generate_deployments(n)`` serves."""
    directory.mkdir(parents=True, exist_ok=True)
    deployments = generate_deployments(n)
    for start in range(0, max(n, 1), PER_FILE):
        lines = [
            "version: 1",
            "ignore:",
            "  - deployment_metadata.last_rollout",
            "deployments:",
        ]
        for index, body in enumerate(deployments[start : start + PER_FILE], start):
            config = dict(body["vendor_configuration"])
            if drifts(index):
                config["max_workers"] = config["max_workers"] + 1
            lines += [
                f"  - model_instance_id: {_scalar(body['model_instance_id'])}",
                f"    deployment_id: {_scalar(body['id'])}",
                f"    name: {_scalar(body['name'])}",
                f"    status: {_scalar(body['status'])}",
                f"    model_endpoint_id: {_scalar(body['model_endpoint_id'])}",
                "    vendor_configuration:",
                *(f"      {key}: {_scalar(value)}" for key, value in config.items()),
                "    model_creation_parameters:",
                *(
                    f"      {key}: {_scalar(value)}"
                    for key, value in body["model_creation_parameters"].items()
                ),
                "    deployment_metadata:",
                f"      team: {_scalar(body['deployment_metadata']['team'])}",
            ]
        path = directory / f"deployments-{start // PER_FILE:03d}.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def expected_summary(n: int) -> dict[str, int]:
    drifted = sum(1 for i in range(n) if drifts(i))
    return {"total": n, "in_sync": n - drifted, "drifted": drifted, "missing": 0, "error": 0}
