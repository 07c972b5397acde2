"""Hostile load on the registry: the worst query the caps allow, in parallel, beside normal
traffic. The question: does normal traffic keep its latency (p99 under 2x its quiet value)?

    .venv/bin/python bench/hostile_bench.py [--rows 20000] [--seconds 20] [--normal 4]
                                            [--hostile 12]

The registry runs as its own process (`step-platform serve registry`, one uvicorn worker, the
default pool of 10 and statement deadline of 5 s) on a database loaded with `--rows` configs
in the configs service's shape (bench/registry_bench.py). Two phases of `--seconds` each:

* quiet — `--normal` clients loop the configs service's read
  (`project_id=P&account_id=A,null&object_type=<5 types>&meta_status=active`);
* hostile — the same, while `--hostile` clients loop the worst allowed list query: every cap
  at its maximum (`field` x30 over data paths, `search` with 20 terms, 20 `data` filters with
  `icontains`, 10 ordering tokens on data paths), unauthenticated as the registry allows.

Printed: normal traffic's p50/p99 in both phases and their ratio, and what the hostile
clients got (statuses, p50/p99). Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from common import machine, percentile, service
from registry_bench import LOAD, ROWS_PER_PROJECT, TYPES

from step_platform.core.limits import LIMITS
from step_platform.devstack.postgres import start_postgres
from step_platform.registry.db import connect_once
from step_platform.registry.migrations import migrate
from step_platform.seed import seed_config_set


def worst_query() -> list[tuple[str, str]]:
    """Every cap at its limit, each term reaching into `data` (text casts of JSON paths)."""
    words = [f"w{random.randrange(10**6)}" for _ in range(LIMITS.search_terms)]
    paths = [f"data__k{i}__v" for i in range(LIMITS.field_terms)]
    params = [("field", p) for p in paths] + [("search", " ".join(words))]
    params += [("data", f"k{i}__icontains=x{i}") for i in range(LIMITS.data_filters)]
    params += [("ordering", ",".join(f"-data__k{i}" for i in range(LIMITS.ordering_tokens)))]
    return params


async def loop(
    call: Callable[[], Awaitable[httpx.Response]],
    until: float,
    times: list[float],
    statuses: Counter[int],
) -> None:
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            response = await call()
            statuses[response.status_code] += 1
        except httpx.HTTPError as exc:
            statuses[type(exc).__name__] += 1  # type: ignore[index]
        times.append(time.perf_counter() - started)


async def phase(
    base: str, levels: list, seconds: float, normal: int, hostile: int
) -> tuple[list[float], Counter[int], list[float], Counter[int]]:
    limits = httpx.Limits(max_connections=normal + hostile + 2)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        types = ",".join(TYPES)

        def configs_read() -> Awaitable[httpx.Response]:
            project, account = random.choice(levels)
            return client.get(
                "/api/configs/",
                params={
                    "project_id": str(project),
                    "account_id": f"{account},null",
                    "object_type": types,
                    "meta_status": "active",
                },
            )

        def worst() -> Awaitable[httpx.Response]:
            return client.get("/api/configs/", params=worst_query())

        until = time.monotonic() + seconds
        normal_times: list[float] = []
        normal_statuses: Counter[int] = Counter()
        hostile_times: list[float] = []
        hostile_statuses: Counter[int] = Counter()
        await asyncio.gather(
            *(loop(configs_read, until, normal_times, normal_statuses) for _ in range(normal)),
            *(loop(worst, until, hostile_times, hostile_statuses) for _ in range(hostile)),
        )
    return normal_times, normal_statuses, hostile_times, hostile_statuses


async def bench(args: argparse.Namespace, url: str) -> str:
    log_dir = Path(tempfile.mkdtemp(prefix="hostile-bench-"))
    await migrate(url)
    conn = await connect_once(url)
    try:
        projects = args.rows // ROWS_PER_PROJECT
        await conn.execute(LOAD, 0, projects, json.dumps(seed_config_set()))
        await conn.execute("ANALYZE configs_config")
        rows = await conn.fetchval("SELECT count(*) FROM configs_config")
        levels = await conn.fetch(
            "SELECT DISTINCT project_id, account_id FROM configs_config "
            "WHERE account_id IS NOT NULL LIMIT 2000"
        )
    finally:
        await conn.close()
    env = {**os.environ, "STEP_DATABASE_URL": url, "ALLOWED_HOSTS": "127.0.0.1"}
    with service("registry", env, log_dir) as base:
        quiet, quiet_status, _, _ = await phase(base, levels, args.seconds, args.normal, 0)
        loud, loud_status, worst, worst_status = await phase(
            base, levels, args.seconds, args.normal, args.hostile
        )
    q99, l99 = percentile(quiet, 99), percentile(loud, 99)
    lines = [
        f"machine: {machine()}",
        f"rows: {rows}; {args.seconds:g} s per phase; {args.normal} normal clients, "
        f"{args.hostile} hostile clients",
        "",
        "| phase | normal requests | normal p50 ms | normal p99 ms | statuses |",
        "|---|---|---|---|---|",
        f"| quiet | {len(quiet)} | {percentile(quiet, 50):.1f} | {q99:.1f} | "
        f"{dict(quiet_status)} |",
        f"| hostile | {len(loud)} | {percentile(loud, 50):.1f} | {l99:.1f} | {dict(loud_status)} |",
        "",
        f"normal p99 hostile / quiet: {l99 / q99:.2f}x",
        f"hostile requests: {len(worst)}, statuses {dict(worst_status)}, "
        f"p50 {percentile(worst, 50):.0f} ms, p99 {percentile(worst, 99):.0f} ms",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--normal", type=int, default=4)
    parser.add_argument("--hostile", type=int, default=12)
    args = parser.parse_args()
    server = start_postgres()
    database = server.create_database()
    try:
        print(asyncio.run(bench(args, server.url(database))))
    finally:
        server.drop_database(database)
        server.stop()


if __name__ == "__main__":
    main()
