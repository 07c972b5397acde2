"""Background tasks a service owns (change feeds, the LISTEN connection, step's registration):
stopping one is cancel and wait, so nothing of it runs after the lifespan ends. Concurrent
calls within a request likewise leave nothing running when the request ends (`gather`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel `task` (None: nothing to do) and wait until it has finished."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def gather(*aws: Awaitable[Any]) -> list[Any]:
    """Run concurrently; the first failure propagates and the others are cancelled."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        return await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        # Let the cancelled ones finish before the request ends (nothing left dangling).
        await asyncio.gather(*tasks, return_exceptions=True)
