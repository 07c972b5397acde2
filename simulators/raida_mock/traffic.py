"""The request journal and fault injection: what tests use to count and break upstream calls.

`TrafficMiddleware` sits outside everything else in the app (it is added last, so Starlette
puts it first), sees each request as the client sent it, records it in the `Journal` and
applies the active `Fault` rules:

* `latency_ms` — wait before answering (timeouts, benchmarks);
* `drop_next` — the next N matching requests get no response at all: over a real socket the
  connection is closed (the client sees "server disconnected"); in process (httpx's
  `ASGITransport`, which has no socket) the same `httpx.RemoteProtocolError` is raised;
* `fail_next` — the next N matching requests answer `error_status` (default 500);
* `error_rate` — each matching request fails with that probability.

Each entry carries `at` (arrival) and `answered_at`: `sequential_depth` reads from them how
many calls a client made one after another, so tests and benchmarks can tell concurrent calls
from sequential ones (clearest under a `latency_ms` fault).

Admin routes (`/__admin/...`) are never journaled or faulted. Health and docs routes are not
journaled and are faulted only by a rule whose `route` names them explicitly.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from step_platform.core.responses import dumps

ADMIN_PREFIX = "/__admin"
_QUIET = ("/healthz", "/readyz", "/docs")


def _is_quiet(path: str) -> bool:
    return path == "/" or any(path == p or path.startswith(p + "/") for p in _QUIET)


class Journal:
    """The last `size` requests, oldest first."""

    def __init__(self, size: int = 10000) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=size)

    def record(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)

    def clear(self) -> None:
        self.entries.clear()

    def list(self) -> list[dict[str, Any]]:
        return list(self.entries)


@dataclass
class Fault:
    """One rule; counters (`fail_next`, `drop_next`) count down as requests match."""

    route: str = ""
    method: str = ""
    latency_ms: float = 0
    error_rate: float = 0
    error_status: int = 500
    fail_next: int = 0
    drop_next: int = 0

    def applies(self, method: str, path: str) -> bool:
        if self.method and self.method != method:
            return False
        if self.route:
            return path.startswith(self.route)
        return not _is_quiet(path)

    def public(self) -> dict[str, Any]:
        return asdict(self)


FAULT_KEYS = frozenset(Fault.__dataclass_fields__)


def parse_fault(body: Any) -> Fault:
    """A validated rule from the admin body; `ValueError` names what is wrong."""
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    unknown = sorted(set(body) - FAULT_KEYS)
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(unknown)}")

    def number(key: str, low: float, high: float, integer: bool = False) -> Any:
        value = body.get(key, 0 if key != "error_status" else 500)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{key} must be a number")
        if integer and value != int(value):
            raise ValueError(f"{key} must be an integer")
        if not low <= value <= high:
            raise ValueError(f"{key} must be between {low:g} and {high:g}")
        return int(value) if integer else float(value)

    route = body.get("route") or ""
    method = body.get("method") or ""
    if not isinstance(route, str) or (route and not route.startswith("/")):
        raise ValueError("route must be a path prefix starting with '/'")
    if not isinstance(method, str):
        raise ValueError("method must be a string")
    return Fault(
        route=route,
        method=method.upper(),
        latency_ms=number("latency_ms", 0, 600_000),
        error_rate=number("error_rate", 0, 1),
        error_status=number("error_status", 400, 599, integer=True),
        fail_next=number("fail_next", 0, 1_000_000, integer=True),
        drop_next=number("drop_next", 0, 1_000_000, integer=True),
    )


@dataclass
class Faults:
    rules: list[Fault] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)

    def add(self, rule: Fault) -> None:
        self.rules.append(rule)

    def clear(self) -> None:
        self.rules.clear()

    def public(self) -> list[dict[str, Any]]:
        return [rule.public() for rule in self.rules]

    def decide(self, method: str, path: str) -> tuple[float, str | None, int]:
        """(latency in s, None / "drop" / "error", error status) for one request."""
        latency = 0.0
        action: str | None = None
        status = 500
        for rule in self.rules:
            if not rule.applies(method, path):
                continue
            latency += rule.latency_ms / 1000
            if action is not None:
                continue
            if rule.drop_next > 0:
                rule.drop_next -= 1
                action = "drop"
            elif rule.fail_next > 0:
                rule.fail_next -= 1
                action, status = "error", rule.error_status
            elif rule.error_rate and self.rng.random() < rule.error_rate:
                action, status = "error", rule.error_status
        return latency, action, status


def sequential_depth(entries: list[dict[str, Any]]) -> int:
    """The longest chain of journaled calls in which each began after the previous was answered.

    That is the number of Raida round trips a client waited for one after another: calls it
    made concurrently overlap and count once.
    """
    spans = sorted(
        (datetime.fromisoformat(e["at"]), datetime.fromisoformat(e["answered_at"])) for e in entries
    )
    depths: list[int] = []
    for start, _ in spans:
        before = [d for (_, end), d in zip(spans, depths, strict=False) if end <= start]
        depths.append(1 + max(before, default=0))
    return max(depths, default=0)


def _now() -> str:
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}Z"


class TrafficMiddleware:
    def __init__(self, app: ASGIApp, *, journal: Journal, faults: Faults) -> None:
        self.app = app
        self.journal = journal
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": scope.get("query_string", b"").decode("latin-1"),
            "status": None,
            "at": _now(),
        }
        record = not _is_quiet(path)
        recorded = False

        def log() -> None:
            nonlocal recorded
            if record and not recorded:
                recorded = True
                entry["answered_at"] = _now()  # with "at": which calls overlapped (concurrency)
                self.journal.record(entry)

        latency, action, status = self.faults.decide(method, path)
        if latency:
            entry["latency_ms"] = round(latency * 1000, 3)
            await asyncio.sleep(latency)
        if action is not None:
            entry["fault"] = action
        if action == "drop":
            log()
            await _drop(receive)
            return
        if action == "error":
            entry["status"] = status
            log()
            await _error(status, send)
            return

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
                log()
            await send(message)

        scope.setdefault("state", {})["journal_entry"] = entry
        try:
            await self.app(scope, receive, recording_send)
        finally:
            log()  # no response was started (the client went away)


async def _error(status: int, send: Send) -> None:
    body = dumps({"detail": f"Injected fault: status {status}"})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _drop(receive: Receive) -> None:
    """Close the connection without a response.

    Under uvicorn `receive` is a method of the request cycle, which holds the socket's
    transport: read the request, close the transport, wait for the disconnect so the server
    does not try to answer. Without a socket (in process), raise what httpx raises when a
    server hangs up.
    """
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not hasattr(transport, "close"):
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
    message = await receive()
    while message["type"] == "http.request" and message.get("more_body"):
        message = await receive()
    transport.close()
    while message["type"] != "http.disconnect":
        message = await receive()
