"""The baseline driftcheck is measured against: what a user would write by hand.

A sequential loop over the manifest with the official ``scale-gp`` SDK from PyPI
(``pip install -e '.[bench]'``) and a plain ``DeepDiff`` of the vendor configuration::

    SGP_API_KEY=bench SGP_CLIENT_BASE_URL=http://127.0.0.1:PORT \\
        python benchmarks/baseline_sdk.py MANIFEST [MANIFEST...] [--client auto|sdk|httpx]

A MANIFEST may be a file or a directory (every ``*.yaml`` / ``*.yml`` below it, sorted).
``--client httpx`` (or ``auto`` when ``scale-gp`` is not installed) uses a plain sequential
``httpx.Client`` loop instead of the SDK; the client used is part of the output, so a table never
passes off the fallback as the SDK. Prints one JSON line:
``{"client": ..., "checked": N, "in_sync": ..., "drifted": ..., "missing": ..., "errors": ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from deepdiff import DeepDiff


def manifest_files(paths: list[str]) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        else:
            yield path


def load(paths: list[str]) -> list[dict[str, Any]]:
    deployments: list[dict[str, Any]] = []
    for path in manifest_files(paths):
        with path.open(encoding="utf-8") as handle:
            deployments.extend(yaml.safe_load(handle)["deployments"])
    return deployments


def check_with_sdk(deployments: list[dict[str, Any]], base_url: str | None) -> dict[str, Any]:
    import scale_gp
    from scale_gp import APIError, NotFoundError, SGPClient

    client = SGPClient(api_key=os.environ.get("SGP_API_KEY", "bench"), base_url=base_url)
    counts = {"in_sync": 0, "drifted": 0, "missing": 0, "errors": 0}
    for declared in deployments:
        try:
            live = client.models.deployments.retrieve(
                deployment_id=declared["deployment_id"],
                model_instance_id=declared["model_instance_id"],
            )
        except NotFoundError:
            counts["missing"] += 1
            continue
        except APIError as exc:
            counts["errors"] += 1
            print(f"{declared['deployment_id']}: {exc}", file=sys.stderr)
            continue
        config = live.vendor_configuration
        live_config = config.model_dump(exclude_none=True) if config is not None else None
        diff = DeepDiff(declared.get("vendor_configuration"), live_config)
        counts["drifted" if diff else "in_sync"] += 1
    client.close()
    return {"client": f"scale-gp {scale_gp.__version__} SDK", **counts}


def check_with_httpx(deployments: list[dict[str, Any]], base_url: str | None) -> dict[str, Any]:
    import httpx

    counts = {"in_sync": 0, "drifted": 0, "missing": 0, "errors": 0}
    headers = {"x-api-key": os.environ.get("SGP_API_KEY", "bench")}
    with httpx.Client(base_url=base_url or "https://api.egp.scale.com", headers=headers) as client:
        for declared in deployments:
            mi, dep = declared["model_instance_id"], declared["deployment_id"]
            try:
                response = client.get(f"/v4/models/{mi}/deployments/{dep}")
            except httpx.HTTPError as exc:
                counts["errors"] += 1
                print(f"{dep}: {exc}", file=sys.stderr)
                continue
            if response.status_code == 404:
                counts["missing"] += 1
                continue
            if response.status_code != 200:
                counts["errors"] += 1
                continue
            live_config = response.json().get("vendor_configuration")
            diff = DeepDiff(declared.get("vendor_configuration"), live_config)
            counts["drifted" if diff else "in_sync"] += 1
    return {"client": f"httpx {httpx.__version__} loop (fallback, not the SDK)", **counts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", metavar="MANIFEST")
    parser.add_argument("--client", choices=("auto", "sdk", "httpx"), default="auto")
    parser.add_argument("--base-url", default=os.environ.get("SGP_CLIENT_BASE_URL"))
    args = parser.parse_args(argv)
    deployments = load(args.paths)
    client = args.client
    if client == "auto":
        try:
            import scale_gp  # noqa: F401
        except ImportError:
            client = "httpx"
        else:
            client = "sdk"
    if client == "sdk":
        summary = check_with_sdk(deployments, args.base_url)
    else:
        summary = check_with_httpx(deployments, args.base_url)
    summary["checked"] = len(deployments)
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
