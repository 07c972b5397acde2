"""Prometheus metrics: requests by route and status, latencies, upstream calls, pool usage.

Every service serves `/metrics` in the Prometheus text format. Each app owns its own
`CollectorRegistry` (made in `create_app`, never at import), so tests can build many apps in one
process and each counts only its own traffic.

Several worker processes (`uvicorn --workers 2`) each count on their own, and a scrape reaches
one of them; set `PROMETHEUS_MULTIPROC_DIR` to an empty directory shared by the workers (the
client library writes each process's values there) and `/metrics` answers the sum over every
worker. In Kubernetes each pod runs one worker and the pods are scraped one by one, so the
variable is only needed where one host runs several workers.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Sequence

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .middleware import normalise_path

# Seconds. Our routes answer in 5-50 ms on one core (docs/benchmarks.md); the tail buckets catch
# upstream timeouts (UPSTREAM_TIMEOUT defaults to 10 s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNMATCHED = "<unmatched>"
METRICS_PATH = "/metrics"


class Metrics:
    """The metric families of one app, on a registry of its own."""

    def __init__(self, multiprocess_dir: str = "") -> None:
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "http_requests", "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"], registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "http_request_duration_seconds", "Time to answer an HTTP request, by route.",
            ["route", "method"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.in_progress = Gauge(
            "http_requests_in_progress", "HTTP requests being answered now.",
            registry=r, multiprocess_mode="livesum",
        )  # fmt: skip
        self.upstream_calls = Counter(
            "upstream_requests", "Calls to upstream services, by upstream and outcome "
            "(2xx 3xx 4xx 5xx timeout unavailable cancelled).",
            ["upstream", "outcome"], registry=r,
        )  # fmt: skip
        self.upstream_latency = Histogram(
            "upstream_request_duration_seconds", "Time to an upstream's response headers.",
            ["upstream"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.pool_in_use = Gauge(
            "db_pool_connections_in_use", "Database connections checked out of the pool now.",
            registry=r, multiprocess_mode="livesum",
        )  # fmt: skip
        self.pool_max = Gauge(
            "db_pool_connections_max", "The pool's size limit (DB_POOL_SIZE), per process.",
            registry=r, multiprocess_mode="livesum",
        )  # fmt: skip

    def upstream_call(self, upstream: str, outcome: str, seconds: float) -> None:
        self.upstream_calls.labels(upstream, outcome).inc()
        self.upstream_latency.labels(upstream).observe(seconds)

    def exposition(self) -> bytes:
        """The text format: this process's registry, or every worker's when multi-process.

        Raises `struct.error` while a worker that is just starting has created its file but
        not yet written its header (a scrape racing a worker's start): `exposition_retrying`.
        """
        if not self.multiprocess_dir:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(merged)

    async def exposition_retrying(self, attempts: int = 5, pause: float = 0.02) -> bytes:
        """`exposition`, read again while a starting worker's file is still empty."""
        for attempt in range(1, attempts + 1):
            try:
                return self.exposition()
            except struct.error:
                if attempt == attempts:
                    raise
                await asyncio.sleep(pause)
        raise AssertionError("unreachable")


def metrics_route(metrics: Metrics) -> Route:
    async def endpoint(request: Request) -> Response:
        return Response(await metrics.exposition_retrying(), media_type=CONTENT_TYPE_LATEST)

    return Route(METRICS_PATH, endpoint, methods=["GET", "HEAD"])


class RouteNames:
    """A request's route template (`/configs/{types}`), so labels stay few whatever the ids."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.routes = routes

    def __call__(self, scope: Scope) -> str:
        probe = {**scope, "path": normalise_path(scope.get("path", "/")), "root_path": ""}
        for route in self.routes:
            match, _ = route.matches(probe)
            if match is not Match.NONE:
                return getattr(route, "path", UNMATCHED)
        return UNMATCHED


class MetricsMiddleware:
    """Outermost, so it sees every answer: host rejections, 413s and the last-resort 500."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.route_of = RouteNames(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = self.route_of(scope)
        method = scope.get("method", "GET")
        status = 500
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.in_progress.dec()
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route, method).observe(time.perf_counter() - started)
