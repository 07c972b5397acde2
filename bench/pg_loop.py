"""The database floor: the registry's own SQL in a raw asyncpg loop, no HTTP, no rendering.

`connections` connections each run the statement back to back for `seconds` (asyncpg's
statement cache prepares it once per connection, as the registry's pool does). Whatever the
registry does on top of this -- HTTP parsing, routing, middleware, the pool layer, turning rows
into JSON -- is what the ratio of the two rates shows.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from common import percentile
from wrk import Load

from step_platform.registry.db import connect_once


def run_like_uvicorn(work: Coroutine[Any, Any, Load]) -> Load:
    """Run on the event loop uvicorn's `--loop auto` picks (uvloop when installed), so the
    floor and the services it is compared with share that advantage."""
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if importlib.util.find_spec("uvloop") is not None:
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(work)


async def pg_loop(
    url: str, sql: str, params: Sequence[Any], *, connections: int, seconds: float
) -> Load:
    conns = [await connect_once(url) for _ in range(connections)]
    latencies: list[float] = []
    try:
        for conn in conns:  # warm-up: prepare on every connection
            await conn.fetch(sql, *params)
        stop_at = time.perf_counter() + seconds

        async def worker(conn: Any) -> None:
            while (started := time.perf_counter()) < stop_at:
                await conn.fetch(sql, *params)
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in conns))
        elapsed = time.perf_counter() - started
    finally:
        for conn in conns:
            await conn.close()
    return Load(
        rps=len(latencies) / elapsed,
        p50=percentile(latencies, 50),
        p99=percentile(latencies, 99),
        requests=len(latencies),
        errors=0,
        cpu_share=0.0,
    )
