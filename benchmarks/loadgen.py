"""A minimal async httpx load generator, to measure what the emulator serves on its own.

    python benchmarks/loadgen.py URL --deployments N --requests R --concurrency C

GETs ``/v4/models/mi_{i // 100}/deployments/dep_{i}`` (the ids of ``generate_deployments``)
round-robin, R requests with C in flight over C keep-alive connections, then prints one JSON line:
``{"requests": R, "seconds": S, "rps": R/S, "errors": E}``. Run by ``benchmarks.run`` in its
own process, so it does not share an interpreter with the emulator.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import httpx


async def load(url: str, deployments: int, requests: int, concurrency: int) -> dict[str, float]:
    paths = [f"/v4/models/mi_{i // 100}/deployments/dep_{i}" for i in range(max(1, deployments))]
    next_index = 0
    errors = 0
    # One single-connection client per worker: httpcore's shared pool costs milliseconds of
    # CPU per request at 32 connections, which would measure the load generator instead.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=url, limits=limits, verify=False, timeout=30)
        for _ in range(concurrency)
    ]
    try:
        # One warm-up request per connection: the timed part measures serving, not connecting.
        await asyncio.gather(*(client.get(paths[0]) for client in clients))

        async def worker(client: httpx.AsyncClient) -> None:
            nonlocal next_index, errors
            while next_index < requests:
                index = next_index
                next_index += 1
                response = await client.get(paths[index % len(paths)])
                if response.status_code != 200:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for client in clients))
        seconds = time.perf_counter() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return {
        "requests": requests,
        "seconds": seconds,
        "rps": requests / seconds if seconds > 0 else 0.0,
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--deployments", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args(argv)
    figures = asyncio.run(load(args.url, args.deployments, args.requests, args.concurrency))
    print(json.dumps(figures), flush=True)
    return 0 if figures["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
