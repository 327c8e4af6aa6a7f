"""A real HTTP/1.1 server on loopback that speaks the SGP deployment routes, with fault injection.

Tests use it in-process: it runs its own asyncio event loop in a daemon thread, so synchronous
test code can talk to it with any HTTP client::

    with Emulator([make_deployment("mi_1", "dep_1")]) as emu:
        emu.script("mi_1", "dep_1", Reply(status=503), Reply(reset=True))
        httpx.get(f"{emu.url}/v4/models/mi_1/deployments/dep_1")

Benchmarks run it as a separate process::

    python tests/emulator.py --deployments 10000 --latency 0.05

which prints one line ``READY http://127.0.0.1:PORT`` when it listens and serves until SIGTERM,
SIGINT or (when stdin is a pipe) end of stdin; then it prints one line ``REQUESTS <n>``: how many
requests it answered (counted even though this mode does not record them).

Only the standard library is used, so the emulator can run in any interpreter.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import gzip
import ipaddress
import itertools
import json
import os
import signal
import socket
import ssl
import stat
import struct
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from types import EllipsisType, FrameType, TracebackType
from typing import Any, Final
from urllib.parse import parse_qsl, unquote

__all__ = [
    "OMIT",
    "Emulator",
    "RecordedRequest",
    "Reply",
    "deflate_bomb",
    "generate_deployments",
    "gzip_bomb",
    "launch_config",
    "llmengine_config",
    "main",
    "make_deployment",
]

Route = tuple[str, ...]

DEFAULT_LIST_LIMIT: Final = 100
MAX_LIST_LIMIT: Final = 10_000
_MAX_HEAD: Final = 64 * 1024
_MAX_BODY: Final = 16 * 1024 * 1024
_REASONS: Final = {s.value: s.phrase for s in HTTPStatus}
_NO_BODY_STATUSES: Final = frozenset({204, 304})


@dataclass
class Reply:
    """One scripted response, consumed by one request to the route it was scripted for."""

    status: int = 200
    # dict/list/number -> compact JSON; str/bytes -> sent raw; None with status 200 -> the stored
    # state of the route (deployment, 404 or list page); None with another status -> empty body.
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    reset: bool = False
    truncate: bool = False
    content_type: str = "application/json"
    # Misbehaviours (issue #16):
    # compress the payload with this Content-Encoding ("gzip", "deflate", "gzip, gzip");
    # a bytes body is sent as given, so a test can hand over a ready-made compression bomb
    encoding: str | None = None
    # send the response one byte every `trickle` seconds
    trickle: float = 0.0
    # read the request, then close the connection in order (FIN) without a byte of response
    drop: bool = False
    # send these bytes as the whole response (not HTTP, or HTTP broken on purpose), then close
    raw: bytes | None = None


@dataclass
class RecordedRequest:
    method: str
    raw_path: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    time: float
    route: Route | None
    connection_id: int = 0
    body: bytes = b""


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"

    def __copy__(self) -> _Omit:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Omit:
        return self


#: Pass as a field value to ``make_deployment`` to leave that key out of the body.
OMIT: Final = _Omit()


def launch_config(**overrides: Any) -> dict[str, Any]:
    """A LAUNCH vendor configuration as the API returns it (every field filled)."""
    config: dict[str, Any] = {
        "vendor": "LAUNCH",
        "min_workers": 0,
        "max_workers": 1,
        "per_worker": 10,
    }
    return _apply(config, overrides)


def llmengine_config(**overrides: Any) -> dict[str, Any]:
    """An LLMENGINE vendor configuration as the API returns it (every field filled)."""
    config: dict[str, Any] = {
        "vendor": "LLMENGINE",
        "cpus": 3,
        "memory": "8Gi",
        "storage": "16Gi",
        "gpus": 1,
        "gpu_type": "nvidia-ampere-a10",
        "min_workers": 0,
        "max_workers": 1,
        "per_worker": 10,
        "high_priority": False,
        "num_shards": 1,
        "model_name": "llama-2-7b",
        "inference_framework_image_tag": "0.9.4",
    }
    return _apply(config, overrides)


def make_deployment(
    mi: str,
    dep: str,
    *,
    name: str | _Omit | None = None,
    vendor_configuration: dict[str, Any] | _Omit | EllipsisType | None = ...,
    **fields: Any,
) -> dict[str, Any]:
    """A full ModelDeploymentResponse body.

    ``vendor_configuration`` defaults to ``llmengine_config()``; ``None`` sends an explicit null.
    ``fields`` override or add top-level keys; a value of ``OMIT`` (also for ``name`` and
    ``vendor_configuration``) removes the key.
    """
    if vendor_configuration is ...:
        vendor_configuration = llmengine_config()
    body: dict[str, Any] = {
        "name": f"{mi}-{dep}" if name is None else name,
        "id": dep,
        "created_at": "2024-05-01T12:00:00.000000+00:00",
        "account_id": "acct_emulator",
        "created_by_user_id": "user_emulator",
        "created_by_identity_type": "user",
        "status": "READY",
        "model_instance_id": mi,
        "model_endpoint_id": f"ep_{dep}",
        "model_creation_parameters": {},
        "deployment_metadata": {},
        "vendor_configuration": copy.deepcopy(vendor_configuration),
    }
    return {key: value for key, value in _apply(body, fields).items() if value is not OMIT}


_GPU_TYPES: Final = (
    "nvidia-tesla-t4",
    "nvidia-ampere-a10",
    "nvidia-ampere-a100",
    "nvidia-hopper-h100",
)
_MEMORY: Final = ("8Gi", "16Gi", "32768Mi", "64Gi", "24Gi")
_STORAGE: Final = ("16Gi", "32Gi", "64Gi", "102400Mi")
_EPOCH: Final = datetime(2024, 1, 1, tzinfo=timezone.utc)


def generate_deployments(n: int) -> list[dict[str, Any]]:
    """``n`` deterministic deployments: ``dep_{i}`` under ``mi_{i // 100}``, LAUNCH every third."""
    deployments = []
    for i in range(n):
        created = (_EPOCH + timedelta(minutes=i)).isoformat(timespec="microseconds")
        vendor_configuration: dict[str, Any]
        if i % 3 == 0:
            vendor_configuration = launch_config(
                min_workers=i % 2, max_workers=1 + i % 4, per_worker=5 * (1 + i % 3)
            )
        else:
            gpus = 1 << (i % 4)
            vendor_configuration = llmengine_config(
                cpus=2 + i % 6,
                memory=_MEMORY[i % len(_MEMORY)],
                storage=_STORAGE[i % len(_STORAGE)],
                gpus=gpus,
                gpu_type=_GPU_TYPES[i % len(_GPU_TYPES)],
                max_workers=1 + i % 5,
                high_priority=i % 7 == 0,
                num_shards=gpus,
                model_name=f"model-{i % 10}",
            )
        deployments.append(
            make_deployment(
                f"mi_{i // 100}",
                f"dep_{i}",
                name=f"deployment-{i}",
                vendor_configuration=vendor_configuration,
                created_at=created,
                model_endpoint_id=f"ep_{i}",
                model_creation_parameters={"source": "hugging_face", "revision": f"r{i % 4}"},
                deployment_metadata={"last_rollout": created, "team": f"team-{i % 5}"},
            )
        )
    return deployments


def _apply(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if value is OMIT:
            base.pop(key, None)
        else:
            base[key] = value
    return base


def _json(value: Any) -> bytes:
    # The same encoding FastAPI uses, so byte-level expectations match the real API.
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _detail(message: str) -> bytes:
    return _json({"detail": message})


_NOT_FOUND: Final = _detail("Not Found")


@dataclass(slots=True)
class _Entry:
    raw: bytes
    account_id: Any


class _HttpError(Exception):
    """A request the emulator cannot frame; answered, then the connection is closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Emulator:
    """The SGP deployment routes on a loopback address, with scripted faults.

    State may be changed from any thread while the server runs.
    """

    def __init__(
        self,
        deployments: Iterable[dict[str, Any]] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        api_key: str | None = None,
        account_ids: Iterable[str] | None = None,
        record: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        close_after: int | None = None,
        echo_key: bool = False,
    ) -> None:
        _require_loopback(host)
        # with a server TLS context the emulator speaks https (tests of --ca-bundle and TLS)
        self.ssl_context = ssl_context
        self.host = host
        self.port = port
        self.latency = latency
        self.api_key = api_key
        self.account_ids = frozenset(account_ids) if account_ids is not None else None
        self.record = record
        # close each connection (FIN, unannounced: it said keep-alive) after this many responses
        self.close_after = close_after
        # error bodies (401, 403, 404) quote the x-api-key they received, as careless servers do
        self.echo_key = echo_key
        self.url = ""
        self.requests: list[RecordedRequest] = []
        # Every request dispatched (answered, scripted or reset), counted even when record=False.
        self.served = 0
        # Exceptions raised by the emulator itself (answered as 500); a test may assert it is empty.
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._by_key: dict[tuple[str, str], _Entry] = {}
        self._by_mi: dict[str, dict[str, _Entry]] = {}
        self._scripts: dict[Route, deque[Reply]] = {}
        self._unlisted: set[tuple[str, str]] = set()
        # rollout sequences: each GET of the route takes the next step; the last step repeats
        self._rollouts: dict[Route, list[Any]] = {}
        self._connection_ids = itertools.count(1)
        self._connections: dict[asyncio.StreamWriter, asyncio.Task[Any]] = {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        for body in deployments:
            self.put(body)

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Emulator:
        if self._thread is not None:
            raise RuntimeError("emulator already started")
        self._ready.clear()
        self._start_error = None
        self._thread = threading.Thread(
            target=self._run, name=f"sgp-emulator-{self.host}", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        if self._start_error is not None:
            self._thread.join()
            self._thread = None
            raise self._start_error
        return self

    def stop(self) -> None:
        thread, loop, event = self._thread, self._loop, self._stop_event
        if thread is None:
            return
        if loop is not None and event is not None:
            with suppress(RuntimeError):  # the loop already finished
                loop.call_soon_threadsafe(event.set)
        thread.join()
        self._thread = None
        self._loop = None
        self._stop_event = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- state -----------------------------------------------------------------------------------

    def put(
        self,
        body: dict[str, Any],
        *,
        model_instance_id: str | None = None,
        deployment_id: str | None = None,
    ) -> None:
        """Store ``body`` (serialized now: later changes to the dict are not seen).

        The key is ``(model_instance_id or body["model_instance_id"],
        deployment_id or body["id"])``.
        Putting an existing key replaces the body and keeps its place in list order.
        """
        mi = model_instance_id if model_instance_id is not None else body.get("model_instance_id")
        dep = deployment_id if deployment_id is not None else body.get("id")
        if not isinstance(mi, str) or not isinstance(dep, str):
            raise ValueError("put() needs string model_instance_id and id (in the body or as args)")
        entry = _Entry(raw=_json(body), account_id=body.get("account_id"))
        with self._lock:
            self._by_key[(mi, dep)] = entry
            self._by_mi.setdefault(mi, {})[dep] = entry

    def remove(self, model_instance_id: str, deployment_id: str) -> None:
        with self._lock:
            self._by_key.pop((model_instance_id, deployment_id), None)
            per_model = self._by_mi.get(model_instance_id)
            if per_model is not None:
                per_model.pop(deployment_id, None)
                if not per_model:
                    del self._by_mi[model_instance_id]

    def get(self, model_instance_id: str, deployment_id: str) -> dict[str, Any] | None:
        """A fresh copy of the stored body, or None."""
        with self._lock:
            entry = self._by_key.get((model_instance_id, deployment_id))
        return None if entry is None else dict(json.loads(entry.raw))

    def script(self, model_instance_id: str, deployment_id: str, *replies: Reply) -> None:
        """Queue replies for GET of one deployment; once used up, the route behaves normally."""
        self._enqueue(("deployment", model_instance_id, deployment_id), replies)

    def script_list(self, model_instance_id: str | None, page: int, *replies: Reply) -> None:
        """Queue replies for one list page (``None``: ``/v4/model-deployments``)."""
        key: Route = (
            ("list_all", str(page))
            if model_instance_id is None
            else ("list", model_instance_id, str(page))
        )
        self._enqueue(key, replies)

    def rollout(
        self,
        model_instance_id: str,
        deployment_id: str,
        *steps: dict[str, Any] | Reply | str | int | list[Any],
    ) -> None:
        """A deployment whose responses change over time, one step per GET, the last repeating.

        Each step is one response: a dict is a deployment body answered with 200
        (``make_deployment(..., status="DEPLOYING")``); a str is the stored deployment with its
        ``status`` set to it (``"DEPLOYING", "READY"``); an int is that HTTP status with a
        ``{"detail": ...}`` body (``404, "READY"``: created during the rollout); a
        :class:`Reply` is answered as scripted. Steps may also be given as one list. Scripted
        replies (:meth:`script`) still come first. Tests of ``--wait`` advance a rollout by
        requests, so they never sleep or depend on timing.
        """
        if len(steps) == 1 and isinstance(steps[0], list):
            steps = tuple(steps[0])
        if not steps:
            raise ValueError("rollout() needs at least one step")
        with self._lock:
            self._rollouts[("deployment", model_instance_id, deployment_id)] = list(steps)

    def _next_rollout_step(self, key: Route) -> Reply | None:
        with self._lock:
            steps = self._rollouts.get(key)
            if not steps:
                return None
            step = steps.pop(0) if len(steps) > 1 else steps[0]
            entry = self._by_key.get((key[1], key[2]))
        if isinstance(step, Reply):
            return step
        if isinstance(step, bool) or not isinstance(step, (dict, str, int)):
            raise TypeError(f"unknown rollout step {step!r}")
        if isinstance(step, int):
            return Reply(status=step, body={"detail": _REASONS.get(step, "Error")})
        if isinstance(step, str):
            if entry is None:
                raise ValueError(f"rollout status step {step!r} needs a stored deployment (put)")
            body = json.loads(entry.raw)
            body["status"] = step
            return Reply(body=body)
        return Reply(body=step)

    def _enqueue(self, key: Route, replies: tuple[Reply, ...]) -> None:
        with self._lock:
            self._scripts.setdefault(key, deque()).extend(replies)

    def _pop_script(self, key: Route) -> Reply | None:
        with self._lock:
            queue = self._scripts.get(key)
            if not queue:
                return None
            reply = queue.popleft()
            if not queue:
                del self._scripts[key]
            return reply

    # -- recorded requests -----------------------------------------------------------------------

    def requests_for(self, model_instance_id: str, deployment_id: str) -> list[RecordedRequest]:
        route = ("deployment", model_instance_id, deployment_id)
        with self._lock:
            return [r for r in self.requests if r.route == route]

    def start_times(self) -> list[float]:
        """When each recorded request's head arrived (``time.monotonic()``), in order."""
        with self._lock:
            return sorted(r.time for r in self.requests)

    def unlist(self, model_instance_id: str, deployment_id: str) -> None:
        """Leave a stored deployment out of every list page (its GET still answers): an
        inconsistent listing."""
        with self._lock:
            self._unlisted.add((model_instance_id, deployment_id))

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- server ----------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced by start(); a thread must not die silently
            self._start_error = exc
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        try:
            server = await asyncio.start_server(
                self._handle,
                self.host,
                self.port,
                limit=_MAX_HEAD,
                backlog=1024,
                ssl=self.ssl_context,
            )
        except OSError as exc:
            self._start_error = exc
            return
        self.port = server.sockets[0].getsockname()[1]
        netloc = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self.ssl_context is not None else "http"
        self.url = f"{scheme}://{netloc}:{self.port}"
        self._ready.set()
        try:
            await self._stop_event.wait()
        finally:
            server.close()
            await asyncio.sleep(0)  # let connections accepted just now register themselves
            for writer in list(self._connections):
                writer.transport.abort()
            tasks = list(self._connections.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[writer] = task
        connection_id = next(self._connection_ids)
        served = 0
        try:
            while await self._serve_one(reader, writer, connection_id):
                served += 1
                if self.close_after is not None and served >= self.close_after:
                    break  # an idle keep-alive connection the server closes
        except (OSError, asyncio.IncompleteReadError):
            pass  # the client went away; nothing to answer
        except asyncio.CancelledError:
            # Only stop() cancels handlers. Ending normally keeps Python 3.12.0-3.12.1 from
            # logging a spurious traceback for every cancelled connection.
            pass
        finally:
            self._connections.pop(writer, None)
            if not writer.is_closing():
                writer.close()
            with suppress(Exception):
                await writer.wait_closed()

    async def _serve_one(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, connection_id: int
    ) -> bool:
        """Answer one request; return whether the connection stays open."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False  # closed between requests (or mid-head): just close
        except asyncio.LimitOverrunError:
            await _send(writer, _response(431, _detail("Request Header Fields Too Large"), False))
            return False
        received = time.monotonic()
        try:
            method, target, version, headers = _parse_head(head)
            body = await _read_body(reader, headers)
        except _HttpError as exc:
            await _send(writer, _response(exc.status, _detail(str(exc)), False))
            return False
        keep_alive = _wants_keep_alive(version, headers)
        try:
            return await self._dispatch(
                writer, method, target, headers, body, received, connection_id, keep_alive
            )
        except (OSError, asyncio.CancelledError):
            raise
        except Exception as exc:  # an emulator bug must not pass for a network fault
            self.errors.append(exc)
            await _send(writer, _response(500, _detail(f"emulator error: {exc!r}"), False))
            return False

    async def _dispatch(
        self,
        writer: asyncio.StreamWriter,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        received: float,
        connection_id: int,
        keep_alive: bool,
    ) -> bool:
        path, _, query_string = target.partition("?")
        query = dict(parse_qsl(query_string, keep_blank_values=True)) if query_string else {}
        route = _route(path)
        self.served += 1  # only the event loop's thread writes it
        if self.record:
            recorded = RecordedRequest(
                method, target, path, query, headers, received, route, connection_id, body
            )
            with self._lock:
                self.requests.append(recorded)

        reply = None
        if method == "GET" and route is not None:
            key = _script_key(route, query)
            if key is not None:
                reply = self._pop_script(key)
                if reply is None:
                    reply = self._next_rollout_step(key)

        delay = self.latency + (reply.delay if reply is not None else 0.0)
        if delay > 0:
            await asyncio.sleep(delay)

        if reply is None:
            status, payload, extra = self._answer(method, route, query, headers)
            await _send(writer, _response(status, payload, keep_alive, extra_headers=extra))
            return keep_alive

        if reply.reset:
            _reset(writer)
            return False
        if reply.drop:
            return False  # _handle closes the connection in order
        if reply.raw is not None:
            await _send(writer, reply.raw)
            return False
        status, payload = reply.status, _encode_body(reply.body)
        if reply.body is None and reply.status == 200 and route is not None:
            status, payload = self._stored(route, query)
        extra = dict(reply.headers)
        if reply.encoding is not None:
            if not isinstance(reply.body, bytes):
                payload = _compress(payload, reply.encoding)
            extra.setdefault("content-encoding", reply.encoding)
        data = _response(status, payload, keep_alive, reply.content_type, extra)
        if reply.trickle > 0:
            for index in range(len(data)):
                await _send(writer, data[index : index + 1])
                await asyncio.sleep(reply.trickle)
            return False
        if reply.truncate:
            # The head still announces the full length; the client must notice what is missing.
            missing = 0 if status in _NO_BODY_STATUSES else (len(payload) + 1) // 2
            await _send(writer, data[: len(data) - missing])
            return False
        await _send(writer, data)
        return keep_alive and not _says_close(reply.headers)

    def _answer(
        self, method: str, route: Route | None, query: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        echo = f" (x-api-key: {headers.get('x-api-key')})" if self.echo_key else ""
        if self.api_key is not None and headers.get("x-api-key") != self.api_key:
            return 401, _detail("Unauthorized" + echo), {}
        if self.account_ids is not None:
            account = headers.get("x-selected-account-id")
            if account is not None and account not in self.account_ids:
                return 403, _detail("Forbidden" + echo), {}
        if route is None:
            return 404, _detail("Not Found" + echo), {}
        if method != "GET":
            return 405, _detail("Method Not Allowed"), {"allow": "GET"}
        status, payload = self._stored(route, query, echo)
        return status, payload, {}

    def _stored(self, route: Route, query: dict[str, str], echo: str = "") -> tuple[int, bytes]:
        if route[0] == "deployment":
            with self._lock:
                entry = self._by_key.get((route[1], route[2]))
            if entry is not None:
                return 200, entry.raw
            return 404, _detail(f"Not Found{echo}") if echo else _NOT_FOUND

        page = _int_param(query, "page", 1, 1, None)
        limit = _int_param(query, "limit", DEFAULT_LIST_LIMIT, 1, MAX_LIST_LIMIT)
        errors = [e for e in (page, limit) if isinstance(e, dict)]
        if errors:
            return 422, _json({"detail": errors})
        assert isinstance(page, int) and isinstance(limit, int)
        with self._lock:
            if route[0] == "list_all":
                entries = [e for k, e in self._by_key.items() if k not in self._unlisted]
            else:
                per_model = self._by_mi.get(route[1], {})
                entries = [
                    e for dep, e in per_model.items() if (route[1], dep) not in self._unlisted
                ]
        account = query.get("account_id")
        if account is not None:
            entries = [e for e in entries if e.account_id == account]
        items = b",".join(e.raw for e in entries[(page - 1) * limit : page * limit])
        return 200, (
            b'{"current_page":%d,"items":[%b],"items_per_page":%d,"total_item_count":%d}'
            % (page, items, limit, len(entries))
        )


# -- HTTP framing ----------------------------------------------------------------------------------


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    lines = head.lstrip(b"\r\n")[:-4].split(b"\r\n")
    parts = lines[0].decode("latin-1").split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[1]:
        raise _HttpError(400, "Bad Request")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not name.strip():
            raise _HttpError(400, "Bad Request")
        key = name.decode("latin-1").strip().lower()
        text = value.decode("latin-1").strip()
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return parts[0], parts[1], parts[2], headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    encoding = headers.get("transfer-encoding")
    if encoding is not None:
        if encoding.lower() != "chunked":
            raise _HttpError(501, "Not Implemented")
        return await _read_chunked(reader)
    length = headers.get("content-length")
    if not length:
        return b""
    if not length.isdigit():
        raise _HttpError(400, "Bad Request")
    size = int(length)
    if size > _MAX_BODY:
        raise _HttpError(413, "Content Too Large")
    return await reader.readexactly(size)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        line = await reader.readuntil(b"\r\n")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _HttpError(400, "Bad Request") from None
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailers
            return b"".join(chunks)
        total += size
        if total > _MAX_BODY:
            raise _HttpError(413, "Content Too Large")
        chunks.append((await reader.readexactly(size + 2))[:-2])


def _wants_keep_alive(version: str, headers: dict[str, str]) -> bool:
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    if version == "HTTP/1.0":
        return "keep-alive" in tokens
    return "close" not in tokens


def _says_close(headers: dict[str, str]) -> bool:
    return any(k.lower() == "connection" and "close" in v.lower() for k, v in headers.items())


def _response(
    status: int,
    body: bytes,
    keep_alive: bool,
    content_type: str = "application/json",
    extra_headers: dict[str, str] | None = None,
) -> bytes:
    headers = {"content-type": content_type}
    if status in _NO_BODY_STATUSES:
        body = b""  # the callers only cut into bodies of other statuses
    else:
        headers["content-length"] = str(len(body))
    headers["connection"] = "keep-alive" if keep_alive else "close"
    for name, value in (extra_headers or {}).items():
        headers[name.lower()] = value  # scripted headers win, even content-length
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _encode_body(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return _json(body)


def _compress(payload: bytes, encoding: str) -> bytes:
    """``payload`` with each listed content-coding applied in order."""
    for name in (token.strip().lower() for token in encoding.split(",")):
        if name in ("gzip", "x-gzip"):
            payload = gzip.compress(payload)
        elif name == "deflate":
            payload = zlib.compress(payload)
        elif name != "identity":
            raise ValueError(f"the emulator cannot encode {name!r}")
    return payload


def gzip_bomb(size: int, member: int = 1 << 20) -> bytes:
    """A gzip body (several members) that inflates to ``size`` zero bytes: ~1 KB per MiB."""
    one = gzip.compress(bytes(member), compresslevel=9)
    count, rest = divmod(size, member)
    return one * count + (gzip.compress(bytes(rest), compresslevel=9) if rest else b"")


def deflate_bomb(size: int) -> bytes:
    """A zlib-wrapped deflate body that inflates to ``size`` zero bytes."""
    compressor = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    parts = []
    for start in range(0, size, len(chunk)):
        parts.append(compressor.compress(chunk[: size - start]))
    parts.append(compressor.flush())
    return b"".join(parts)


async def _send(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(data)
    await writer.drain()


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        # Linger 0 turns the close into an RST instead of an orderly FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


# -- routing ---------------------------------------------------------------------------------------


def _route(path: str) -> Route | None:
    # Split the raw path first, then decode each segment once: an encoded "/" stays inside its
    # segment, so a test can tell whether the client encoded an ID or let it change the path.
    parts = path.split("/")
    if parts[0] != "" or len(parts) < 3 or unquote(parts[1]) != "v4":
        return None
    if len(parts) == 3:
        return ("list_all",) if unquote(parts[2]) == "model-deployments" else None
    if len(parts) not in (5, 6) or unquote(parts[2]) != "models":
        return None
    if unquote(parts[4]) != "deployments":
        return None
    mi = unquote(parts[3])
    if not mi:
        return None
    if len(parts) == 5:
        return ("list", mi)
    dep = unquote(parts[5])
    return ("deployment", mi, dep) if dep else None


def _script_key(route: Route, query: dict[str, str]) -> Route | None:
    if route[0] == "deployment":
        return route
    page = query.get("page", "1")
    if not page.isdigit():
        return None
    return (*route, str(int(page)))


def _int_param(
    query: dict[str, str], name: str, default: int, minimum: int, maximum: int | None
) -> int | dict[str, Any]:
    """The parameter's value, or a FastAPI-style validation error entry."""
    raw = query.get(name)
    if raw is None:
        return default
    loc = ["query", name]
    try:
        value = int(raw)
    except ValueError:
        return {
            "type": "int_parsing",
            "loc": loc,
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": raw,
        }
    if value < minimum:
        return {
            "type": "greater_than_equal",
            "loc": loc,
            "msg": f"Input should be greater than or equal to {minimum}",
            "input": raw,
            "ctx": {"ge": minimum},
        }
    if maximum is not None and value > maximum:
        return {
            "type": "less_than_equal",
            "loc": loc,
            "msg": f"Input should be less than or equal to {maximum}",
            "input": raw,
            "ctx": {"le": maximum},
        }
    return value


def _require_loopback(host: str) -> None:
    # Fake data and optional auth: never serve it beyond this machine.
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the emulator only listens on loopback addresses, not {host!r}")


# -- separate-process mode -------------------------------------------------------------------------


def _stdin_is_pipe() -> bool:
    # Only a pipe or socket has a meaningful end: /dev/null or a file would end at once.
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def _wait_for_eof(done: threading.Event) -> None:
    # os.read, not sys.stdin: a daemon thread blocked inside a buffered reader can abort
    # interpreter shutdown.
    with suppress(OSError):
        while os.read(0, 65536):
            pass
    done.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve generated SGP deployments on loopback.")
    parser.add_argument("--deployments", type=int, default=100, metavar="N")
    parser.add_argument("--latency", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-key", default=None, help="require this x-api-key")
    args = parser.parse_args(argv)

    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    emulator = Emulator(
        generate_deployments(args.deployments),
        host=args.host,
        port=args.port,
        latency=args.latency,
        api_key=args.api_key,
        record=False,  # a long benchmark must not grow memory without bound
    )
    with emulator:
        print(f"READY {emulator.url}", flush=True)
        if _stdin_is_pipe():
            threading.Thread(target=_wait_for_eof, args=(done,), daemon=True).start()
        while not done.wait(1.0):
            pass
    # After stop(): no request is in flight, so the count is final. The reader may be gone.
    with suppress(BrokenPipeError, OSError):
        print(f"REQUESTS {emulator.served}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
