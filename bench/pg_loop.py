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

import asyncpg
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


async def pool_layer(url: str, sql: str, params: Sequence[Any], rounds: int) -> dict[str, Load]:
    """One statement, one at a time, through each way of holding a connection: what the pool
    layer adds to a request (p50 and mean over `rounds` statements each)."""
    from step_platform.registry.db import NoResetConnection, Store, connect_kwargs

    conn = await connect_once(url)
    store = Store(url, pool_size=2)
    await store.connect()
    pool = await asyncpg.create_pool(**connect_kwargs(url), min_size=1, max_size=2)
    bare = await asyncpg.create_pool(
        **connect_kwargs(url), min_size=1, max_size=2, connection_class=NoResetConnection
    )

    async def raw() -> None:
        await conn.fetch(sql, *params)

    async def registry_store() -> None:
        async with store.connection() as c:
            await c.fetch(sql, *params)

    async def pooled() -> None:
        async with pool.acquire() as c:
            await c.fetch(sql, *params)

    async def pooled_no_reset() -> None:
        async with bare.acquire() as c:
            await c.fetch(sql, *params)

    ways = {
        "one connection, no pool (the floor)": raw,
        "the registry's Store (registry/db.py: NoResetConnection)": registry_store,
        "asyncpg pool, default reset on release": pooled,
        "asyncpg pool, NoResetConnection, no deadlines": pooled_no_reset,
    }
    results: dict[str, Load] = {}
    try:
        for name, way in ways.items():
            for _ in range(20):
                await way()
            latencies = []
            for _ in range(rounds):
                started = time.perf_counter()
                await way()
                latencies.append(time.perf_counter() - started)
            results[name] = Load(
                rps=len(latencies) / sum(latencies),
                p50=percentile(latencies, 50),
                p99=percentile(latencies, 99),
                requests=rounds,
                errors=0,
                cpu_share=0.0,
            )
    finally:
        await conn.close()
        await store.disconnect()
        await pool.close()
        await bare.close()
    return results
