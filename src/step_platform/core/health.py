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


def health_routes(checks: Mapping[str, Check], timeout: float = 3.0) -> list[Route]:
    async def healthz(request: Request) -> Response:
        return JSON({"status": "ok"})

    async def readyz(request: Request) -> Response:
        results: dict[str, str] = {}
        failed: list[str] = []
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(request), timeout)
                results[name] = "ok"
            except Exception as exc:  # a readiness probe reports, it never raises
                results[name] = f"fail: {type(exc).__name__}"
                failed.append(name)
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
