"""`/healthz` (the process is up) and `/readyz` (its dependencies answer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .responses import JSON

Check = Callable[[Request], Awaitable[Any]]


READY_TIMEOUT = 3.0  # seconds a dependency has to answer a readiness probe


def health_routes(checks: Mapping[str, Check], timeout: float = READY_TIMEOUT) -> list[Route]:
    async def healthz(request: Request) -> Response:
        return JSON({"status": "ok"})

    async def probe(check: Check, request: Request) -> str:
        try:
            await asyncio.wait_for(check(request), timeout)
            return "ok"
        except Exception as exc:  # a readiness probe reports, it never raises
            return f"fail: {type(exc).__name__}"

    async def readyz(request: Request) -> Response:
        """Every dependency asked at once, each within `timeout`: one that does not answer
        in time is a failure, so the probe itself answers within `timeout`."""
        outcomes = await asyncio.gather(*(probe(check, request) for check in checks.values()))
        results = dict(zip(checks, outcomes, strict=True))
        failed = [name for name, outcome in results.items() if outcome != "ok"]
        if failed:
            return JSON(
                {
                    "status": "fail",
                    "checks": results,
                    "detail": {"code": "NOT_READY", "message": f"Not ready: {', '.join(failed)}."},
                },
                status_code=503,
            )
        return JSON({"status": "ok", "checks": results})

    return [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", readyz, methods=["GET", "HEAD"]),
    ]
