"""Registry benchmark: throughput and latency at 1k, 10k and 100k configs.

    .venv/bin/python bench/registry_bench.py [--sizes 1000,10000,100000] [--requests 400]
                                             [--concurrency 8] [--output FILE]

Postgres comes from the devstack provider chain, the registry runs as its own process
(`step-platform serve registry`, one uvicorn worker) and is called over TCP with keep-alive.
Rows are loaded with SQL in the shape the configs service produces: per project 5 types at
project level and the same 5 for each of 3 accounts (20 rows), `object_code`
`{project}:{account}:{type}`. Scenarios:

* configs query — the configs service's read:
  `project_id=P&account_id=A,null&object_type=<5 types>&meta_status=active`
* data filter — `data=n__exact=<k>::int` over the whole table (about N/1000 matches)
* single create — `POST /api/config/`
* bulk create — `POST /api/configs/` with 100 items

At the largest size the plans of the configs query and of the data filter are printed
(`EXPLAIN (ANALYZE, BUFFERS)`). Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
from common import machine, percentile, service
from starlette.datastructures import QueryParams

from step_platform.devstack.postgres import PostgresServer, start_postgres
from step_platform.registry.db import connect_once
from step_platform.registry.filters import compile_list
from step_platform.registry.kinds import CONFIGS
from step_platform.registry.migrations import migrate
from step_platform.seed import seed_config_set

TYPES = sorted(seed_config_set())
ACCOUNTS_PER_PROJECT = 3
ROWS_PER_PROJECT = len(TYPES) * (1 + ACCOUNTS_PER_PROJECT)

LOAD = """
WITH projects AS (
    SELECT p, gen_random_uuid() AS project_id,
           ARRAY[gen_random_uuid(), gen_random_uuid(), gen_random_uuid()] AS accounts
    FROM generate_series($1::int, $2::int - 1) AS p
), levels AS (
    SELECT p, project_id, NULL::uuid AS account_id FROM projects
    UNION ALL
    SELECT p, project_id, unnest(accounts) FROM projects
), rows AS (
    SELECT l.*, t.type, t.data
    FROM levels l CROSS JOIN jsonb_each($3::jsonb) AS t(type, data)
)
INSERT INTO configs_config (id, created_date, modified_date, project_id, account_id,
                            object_type, object_code, name, meta, data)
SELECT gen_random_uuid(), now(), now(), project_id, account_id, type,
       project_id || ':' || coalesce(account_id::text, '') || ':' || type, type,
       jsonb_build_object('status', 'active', 'flags', 0,
                          'internal_id', nextval('configs_internal_id_seq')),
       jsonb_build_object('value', data, 'n', abs(hashtext(project_id::text || type
                          || coalesce(account_id::text, ''))) % 1000, 'tag', 'p' || p)
FROM rows
"""


class Measure:
    def __init__(self) -> None:
        self.rows: list[tuple[int, str, int, float, float, float, int]] = []

    async def run(
        self,
        size: int,
        name: str,
        call: Callable[[int], Awaitable[httpx.Response]],
        requests: int,
        concurrency: int,
        expect: int,
    ) -> None:
        for i in range(min(10, requests)):  # warm-up: connections, prepared statements
            await call(-1 - i)
        latencies: list[float] = []
        errors = 0
        queue = iter(range(requests))

        async def worker() -> None:
            nonlocal errors
            for i in queue:
                started = time.perf_counter()
                response = await call(i)
                latencies.append(time.perf_counter() - started)
                errors += response.status_code != expect

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
        self.rows.append((size, name, requests, requests / elapsed, p50, p95, errors))
        print(
            f"{size:>7} {name:<15} {requests / elapsed:8.1f} req/s  p50 {p50:7.2f} ms"
            f"  p95 {p95:7.2f} ms  errors {errors}",
            flush=True,
        )


async def explain(url: str, query: str) -> str:
    select, params, _, _ = compile_list(CONFIGS, QueryParams(query)).sql(CONFIGS)
    conn = await connect_once(url)
    try:
        rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {select}", *params)
    finally:
        await conn.close()
    return "\n".join(r[0] for r in rows)


async def bench(args: argparse.Namespace, server: PostgresServer, url: str) -> str:
    await migrate(url)
    env = {
        **os.environ,
        "STEP_DATABASE_URL": url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DB_POOL_SIZE": str(max(10, args.concurrency)),
    }
    log_dir = Path(tempfile.mkdtemp(prefix="registry-bench-"))
    with service("registry", env, log_dir) as base:
        return await _bench(args, server, url, base)


async def _bench(args: argparse.Namespace, server: PostgresServer, url: str, base: str) -> str:
    conn: asyncpg.Connection = await connect_once(url)
    measure = Measure()
    plans: dict[str, str] = {}
    try:
        async with httpx.AsyncClient(
            base_url=base, timeout=60, limits=httpx.Limits(max_connections=args.concurrency)
        ) as client:
            seed = json.dumps(seed_config_set())
            loaded_projects = 0
            for size in args.sizes:
                await conn.execute("DELETE FROM configs_config WHERE object_type = 'bench_write'")
                target_projects = size // ROWS_PER_PROJECT
                started = time.perf_counter()
                await conn.execute(LOAD, loaded_projects, target_projects, seed)
                loaded_projects = target_projects
                await conn.execute("ANALYZE configs_config")
                count = await conn.fetchval("SELECT count(*) FROM configs_config")
                print(f"loaded {count} rows in {time.perf_counter() - started:.1f} s", flush=True)
                levels = await conn.fetch(
                    "SELECT DISTINCT project_id, account_id FROM configs_config "
                    "WHERE account_id IS NOT NULL LIMIT 2000"
                )
                types = ",".join(TYPES)

                def configs_query(i: int, levels=levels, types=types) -> Awaitable[httpx.Response]:
                    p, a = random.choice(levels)
                    return client.get(
                        "/api/configs/",
                        params={
                            "project_id": str(p),
                            "account_id": f"{a},null",
                            "object_type": types,
                            "meta_status": "active",
                        },
                    )

                def data_filter(i: int) -> Awaitable[httpx.Response]:
                    return client.get(
                        "/api/configs/", params={"data": f"n__exact={random.randrange(1000)}::int"}
                    )

                def single(i: int) -> Awaitable[httpx.Response]:
                    return client.post(
                        "/api/config/",
                        json={
                            "object_type": "bench_write",
                            "object_code": str(uuid.uuid4()),
                            "data": {"i": i},
                        },
                    )

                def bulk(i: int) -> Awaitable[httpx.Response]:
                    return client.post(
                        "/api/configs/",
                        json=[
                            {
                                "object_type": "bench_write",
                                "object_code": str(uuid.uuid4()),
                                "data": {"i": i, "j": j},
                            }
                            for j in range(100)
                        ],
                    )

                n, c = args.requests, args.concurrency
                await measure.run(size, "configs query", configs_query, n, c, 200)
                await measure.run(size, "data filter", data_filter, max(50, n // 4), c, 200)
                await measure.run(size, "single create", single, n, c, 201)
                await measure.run(size, "bulk create 100", bulk, max(20, n // 10), c, 201)
            level = random.choice(levels)
            plans["configs query"] = await explain(
                url,
                f"project_id={level[0]}&account_id={level[1]},null&object_type={types}"
                "&meta_status=active",
            )
            plans["data filter"] = await explain(url, "data=n__exact=123::int")
            version = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    return report(args, measure, plans, f"PostgreSQL {version} ({server.provider} provider)")


def report(args: argparse.Namespace, measure: Measure, plans: dict[str, str], pg: str) -> str:
    lines = [
        "## Registry",
        "",
        f"Machine: {machine()}; {pg}; registry: one uvicorn worker, pool "
        f"{max(10, args.concurrency)}; client: httpx over TCP, {args.concurrency} concurrent "
        "requests, keep-alive; the client, the server and Postgres share the machine.",
        "",
        "Command: `.venv/bin/python bench/registry_bench.py "
        f"--sizes {','.join(map(str, args.sizes))} --requests {args.requests} "
        f"--concurrency {args.concurrency}`",
        "",
        "| rows | scenario | requests | req/s | p50 ms | p95 ms | errors |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for size, name, n, rps, p50, p95, errors in measure.rows:
        lines.append(f"| {size:,} | {name} | {n} | {rps:.1f} | {p50:.2f} | {p95:.2f} | {errors} |")
    for name, plan in plans.items():
        lines += [
            "",
            f"EXPLAIN (ANALYZE, BUFFERS), {name}, at {args.sizes[-1]:,} rows:",
            "",
            "```",
            plan,
            "```",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1000,10000,100000", type=lambda s: [int(x) for x in s.split(",")]
    )
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--output", default=None, help="also write the markdown report here")
    args = parser.parse_args()
    server = start_postgres()  # synchronous: it runs its own event loop
    try:
        database = server.create_database()
        try:
            text = asyncio.run(bench(args, server, server.url(database)))
        finally:
            server.drop_database(database)
    finally:
        server.stop()
    print(text)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
