"""What `/metrics` costs a request: the metrics middleware's time per request, in process.

Calls an ASGI app directly (no sockets, no server) `--requests` times, with and without
`MetricsMiddleware` around it, and reports the time per request of each and the difference.
The app is the registry's route table (the largest of the services: the route template is
found by matching it) answering from a stub endpoint, so only routing and the middleware run.

    .venv/bin/python bench/metrics_bench.py [--requests 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from common import machine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from step_platform.core.metrics import Metrics, MetricsMiddleware
from step_platform.registry.kinds import KINDS
from step_platform.registry.routes import KindRoutes


async def ok(request: Request) -> Response:
    return Response(b"{}", media_type="application/json")


def stub_routes() -> list[BaseRoute]:
    """The registry's routes, each answering `{}`."""
    routes: list[BaseRoute] = []
    for kind in KINDS:
        for route in KindRoutes(kind).routes():
            assert isinstance(route, Route)
            routes.append(Route(route.path, ok, methods=list(route.methods or ["GET"])))
    return routes


async def run(app, path: str, requests: int) -> float:
    """Seconds per request."""
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
        "root_path": "", "query_string": b"", "headers": [(b"host", b"registry")],
        "scheme": "http", "server": ("127.0.0.1", 8002), "client": ("127.0.0.1", 1),
        "asgi": {"version": "3.0"}, "http_version": "1.1",
    }  # fmt: skip
    for _ in range(200):  # warm-up
        await app(dict(scope), receive, send)
    started = time.perf_counter()
    for _ in range(requests):
        await app(dict(scope), receive, send)
    took = time.perf_counter() - started
    assert sent[-2]["status"] == 200, sent[-2]
    return took / requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    command = " ".join([".venv/bin/python", "bench/metrics_bench.py", *sys.argv[1:]])
    routes = stub_routes()
    plain = Starlette(routes=routes)
    metered = MetricsMiddleware(plain, metrics=Metrics(), routes=routes)
    path = "/api/config/6f1c1d2e-7a2b-4c3d-8e4f-5a6b7c8d9e0f"  # a late route in the table
    rows = []
    for name, app in (("without", plain), ("with metrics", metered)):
        rows.append((name, asyncio.run(run(app, path, args.requests))))
    overhead = rows[1][1] - rows[0][1]
    lines = [
        "## Metrics middleware (`bench/metrics_bench.py`)",
        "",
        f"{args.requests} in-process requests to `GET /api/config/{{id}}` over the registry's "
        f"{len(routes)} routes (stub endpoints), with and without `MetricsMiddleware`.",
        "",
        "| app | µs / request |",
        "|---|---:|",
        *(f"| {name} | {seconds * 1e6:.1f} |" for name, seconds in rows),
        f"| overhead | {overhead * 1e6:.1f} |",
        "",
        f"Machine: {machine()}.",
        "",
        f"Command: `{command}`",
        "",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
