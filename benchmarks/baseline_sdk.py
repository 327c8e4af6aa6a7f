"""The baselines driftcheck is measured against: what a user would write by hand.

Loops over the manifest with the official ``scale-gp`` SDK from PyPI
(``pip install -e '.[bench]'``), each deployment followed by a plain ``DeepDiff`` of the vendor
configuration. Without ``--concurrent`` it is the sequential ``SGPClient`` loop; with
``--concurrent C`` it is what a capable user writes for speed: ``AsyncSGPClient``,
``asyncio.Semaphore(C)`` around each ``retrieve`` and ``asyncio.gather`` over the manifest::

    SGP_API_KEY=bench-key SGP_CLIENT_BASE_URL=http://127.0.0.1:PORT \\
        python benchmarks/baseline_sdk.py MANIFEST [MANIFEST...] [--client auto|sdk|httpx] \\
        [--concurrent C]

A MANIFEST may be a file or a directory (every ``*.yaml`` / ``*.yml`` below it, sorted).
``--client httpx`` (or ``auto`` when ``scale-gp`` is not installed) uses a plain ``httpx.Client``
loop (``httpx.AsyncClient`` with ``--concurrent``) instead of the SDK; the client used is part of
the output, so a table never passes off the fallback as the SDK. Prints one JSON line:
``{"client": ..., "checked": N, "in_sync": ..., "drifted": ..., "missing": ..., "errors": ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from deepdiff import DeepDiff

DEFAULT_BASE_URL = "https://api.egp.scale.com"


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


class Tally:
    """Counts per outcome; ``compare`` is the plain DeepDiff a user would write."""

    def __init__(self) -> None:
        self.counts = {"in_sync": 0, "drifted": 0, "missing": 0, "errors": 0}

    def compare(self, declared: dict[str, Any], live_config: Any) -> None:
        diff = DeepDiff(declared.get("vendor_configuration"), live_config)
        self.counts["drifted" if diff else "in_sync"] += 1

    def failed(self, declared: dict[str, Any], problem: object) -> None:
        self.counts["errors"] += 1
        print(f"{declared['deployment_id']}: {problem}", file=sys.stderr)


def _sdk_config(live: Any) -> Any:
    config = live.vendor_configuration
    return config.model_dump(exclude_none=True) if config is not None else None


def check_with_sdk(deployments: list[dict[str, Any]], base_url: str | None) -> dict[str, Any]:
    import scale_gp
    from scale_gp import APIError, NotFoundError, SGPClient

    client = SGPClient(api_key=os.environ.get("SGP_API_KEY", "bench-key"), base_url=base_url)
    tally = Tally()
    for declared in deployments:
        try:
            live = client.models.deployments.retrieve(
                deployment_id=declared["deployment_id"],
                model_instance_id=declared["model_instance_id"],
            )
        except NotFoundError:
            tally.counts["missing"] += 1
            continue
        except APIError as exc:
            tally.failed(declared, exc)
            continue
        tally.compare(declared, _sdk_config(live))
    client.close()
    return {"client": f"scale-gp {scale_gp.__version__} SDK", **tally.counts}


def _gather(
    deployments: list[dict[str, Any]],
    concurrent: int,
    one: Callable[[dict[str, Any]], Awaitable[Any]],
    close: Callable[[], Awaitable[Any]],
) -> None:
    """Each deployment through ``one`` with at most ``concurrent`` in flight, then ``close``."""

    async def run() -> None:
        limit = asyncio.Semaphore(concurrent)

        async def bounded(declared: dict[str, Any]) -> None:
            async with limit:
                await one(declared)

        try:
            await asyncio.gather(*(bounded(declared) for declared in deployments))
        finally:
            await close()

    asyncio.run(run())


def check_with_async_sdk(
    deployments: list[dict[str, Any]], base_url: str | None, concurrent: int
) -> dict[str, Any]:
    import scale_gp
    from scale_gp import APIError, AsyncSGPClient, NotFoundError

    tally = Tally()
    clients: list[AsyncSGPClient] = []

    async def one(declared: dict[str, Any]) -> None:
        if not clients:  # created inside the loop that uses it
            clients.append(
                AsyncSGPClient(
                    api_key=os.environ.get("SGP_API_KEY", "bench-key"), base_url=base_url
                )
            )
        try:
            live = await clients[0].models.deployments.retrieve(
                deployment_id=declared["deployment_id"],
                model_instance_id=declared["model_instance_id"],
            )
        except NotFoundError:
            tally.counts["missing"] += 1
            return
        except APIError as exc:
            tally.failed(declared, exc)
            return
        tally.compare(declared, _sdk_config(live))

    async def close() -> None:
        for client in clients:
            await client.close()

    _gather(deployments, concurrent, one, close)
    name = f"scale-gp {scale_gp.__version__} AsyncSGPClient, asyncio.Semaphore({concurrent})"
    return {"client": name, **tally.counts}


def _httpx_outcome(tally: Tally, declared: dict[str, Any], response: Any) -> None:
    if response.status_code == 404:
        tally.counts["missing"] += 1
    elif response.status_code != 200:
        tally.failed(declared, f"HTTP {response.status_code}")
    else:
        tally.compare(declared, response.json().get("vendor_configuration"))


def _path(declared: dict[str, Any]) -> str:
    return f"/v4/models/{declared['model_instance_id']}/deployments/{declared['deployment_id']}"


def check_with_httpx(deployments: list[dict[str, Any]], base_url: str | None) -> dict[str, Any]:
    import httpx

    tally = Tally()
    headers = {"x-api-key": os.environ.get("SGP_API_KEY", "bench-key")}
    with httpx.Client(base_url=base_url or DEFAULT_BASE_URL, headers=headers) as client:
        for declared in deployments:
            try:
                response = client.get(_path(declared))
            except httpx.HTTPError as exc:
                tally.failed(declared, exc)
                continue
            _httpx_outcome(tally, declared, response)
    return {"client": f"httpx {httpx.__version__} loop (fallback, not the SDK)", **tally.counts}


def check_with_async_httpx(
    deployments: list[dict[str, Any]], base_url: str | None, concurrent: int
) -> dict[str, Any]:
    import httpx

    tally = Tally()
    headers = {"x-api-key": os.environ.get("SGP_API_KEY", "bench-key")}
    clients: list[httpx.AsyncClient] = []

    async def one(declared: dict[str, Any]) -> None:
        if not clients:
            clients.append(
                httpx.AsyncClient(base_url=base_url or DEFAULT_BASE_URL, headers=headers)
            )
        try:
            response = await clients[0].get(_path(declared))
        except httpx.HTTPError as exc:
            tally.failed(declared, exc)
            return
        _httpx_outcome(tally, declared, response)

    async def close() -> None:
        for client in clients:
            await client.aclose()

    _gather(deployments, concurrent, one, close)
    name = (
        f"httpx {httpx.__version__} AsyncClient, asyncio.Semaphore({concurrent}) "
        "(fallback, not the SDK)"
    )
    return {"client": name, **tally.counts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", metavar="MANIFEST")
    parser.add_argument("--client", choices=("auto", "sdk", "httpx"), default="auto")
    parser.add_argument(
        "--concurrent",
        type=int,
        metavar="C",
        help="the async client with C requests in flight (default: a sequential loop)",
    )
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
    concurrent = None if args.concurrent is None else max(1, args.concurrent)
    if client == "sdk":
        summary = (
            check_with_sdk(deployments, args.base_url)
            if concurrent is None
            else check_with_async_sdk(deployments, args.base_url, concurrent)
        )
    elif concurrent is None:
        summary = check_with_httpx(deployments, args.base_url)
    else:
        summary = check_with_async_httpx(deployments, args.base_url, concurrent)
    summary["checked"] = len(deployments)
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
