"""`make bench`: every figure next to its floor, measured in the same run; tables and plots.

    .venv/bin/python bench/run.py [--quick] [--seconds S] [--repeat N] [--out DIR]

One chain of real processes on 127.0.0.1 (Postgres from the devstack provider chain, the
registry, configs and step services under uvicorn with `--workers 2` as deployed, raida-mock,
user-center-mock) and, beside it, the floors:

* **hello** -- the smallest Starlette app under the same uvicorn settings and workers;
* **database** -- the registry's own SQL in a raw asyncpg loop at the same concurrency;
* **Raida** -- raida-mock's latency fault times the fewest sequential Raida round trips a
  route needs (measured from raida-mock's journal for every route).

The load generator is wrk (Debian's package; its share of the CPUs is reported). Each
throughput figure is measured `--repeat` times, alternating with its floor, and the table
shows the mean and the range. The report (markdown) replaces the part of
`DIR/benchmarks.md` between the `bench:begin`/`bench:end` markers and the plots are written
beside it, so the hand-written text around them stays. `--quick` is the smoke run `make test`
executes (short runs, small sizes, output to a temporary directory): it keeps this code working,
its figures mean nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from common import (
    load_seed_configs,
    machine,
    percentile,
    service,
    token_env,
    user_center_env,
    workers,
    workspace,
)
from pg_loop import pg_loop, pool_layer, run_like_uvicorn
from starlette.datastructures import QueryParams
from wrk import Load, run_wrk

from raida_mock.fixtures import DEMO_USER_ID, build_fixture
from raida_mock.traffic import sequential_depth
from step_platform.configs.registry_client import list_params
from step_platform.devstack.simulators import step_service_token
from step_platform.registry.db import connect_once
from step_platform.registry.engine import Engine
from step_platform.registry.filters import compile_list
from step_platform.registry.kinds import CONFIGS
from step_platform.seed import DEMO_PROJECT_ID, seed_config_set

TYPES = sorted(seed_config_set())
WORKERS = 2
RAIDA_USER, RAIDA_PASSWORD = "raida@raida.com", "raida"
READ_LATENCY_MS = 5.0
WRITE_LATENCY_MS = 20.0
# The fewest sequential Raida round trips each step route needs (routes.py says why).
READ_DEPTH = 1
WRITE_DEPTH = {"join": 3, "quit": 2, "send_solution": 4}
ISSUE_TARGET = {"join": 3, "quit": 1, "send_solution": 4}
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

# Rows in the shape the configs service produces: per project its 5 types at project level
# and for each of 3 accounts (20 rows).
ROWS_PER_PROJECT = len(TYPES) * 4
LOAD = """
WITH projects AS (
    SELECT gen_random_uuid() AS project_id,
           ARRAY[gen_random_uuid(), gen_random_uuid(), gen_random_uuid()] AS accounts
    FROM generate_series(1, $1::int)
), levels AS (
    SELECT project_id, NULL::uuid AS account_id FROM projects
    UNION ALL
    SELECT project_id, unnest(accounts) FROM projects
)
INSERT INTO configs_config (id, created_date, modified_date, project_id, account_id,
                            object_type, object_code, name, meta, data)
SELECT gen_random_uuid(), now(), now(), project_id, account_id, t.type,
       project_id || ':' || coalesce(account_id::text, '') || ':' || t.type, t.type,
       jsonb_build_object('status', 'active', 'flags', 0,
                          'internal_id', nextval('configs_internal_id_seq')),
       t.data
FROM levels CROSS JOIN jsonb_each($2::jsonb) AS t(type, data)
"""


@dataclass(frozen=True)
class Plan:
    seconds: float
    repeat: int
    concurrency: tuple[int, ...]
    scale: tuple[int, ...]
    contests: tuple[int, ...]
    read_seconds: float
    writes: int
    pool_rounds: int


FULL = Plan(8, 2, (1, 8, 32), (1_000, 100_000, 1_000_000), (10, 50, 200), 4, 15, 2000)
QUICK = Plan(1, 1, (1, 8), (1_000, 3_000), (10,), 1, 2, 50)


@dataclass
class Figure:
    """One measured thing, `repeat` runs of it, and the floor it is compared with."""

    section: str
    name: str
    runs: list[Load]
    floor: float | None = None  # a rate (req/s) or a latency (ms), as `higher_is_better`
    floor_name: str = ""
    higher_is_better: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return statistics.fmean(r.rps for r in self.runs)

    @property
    def p50(self) -> float:
        return statistics.fmean(r.p50 for r in self.runs)

    @property
    def p99(self) -> float:
        return statistics.fmean(r.p99 for r in self.runs)

    @property
    def ratio(self) -> float | None:
        if not self.floor:
            return None
        return self.rps / self.floor if self.higher_is_better else self.p50 / self.floor


def rps_range(runs: Sequence[Load]) -> str:
    low, high = min(r.rps for r in runs), max(r.rps for r in runs)
    return f"{statistics.fmean(r.rps for r in runs):.0f} ({low:.0f}–{high:.0f})"


def cpu(runs: Sequence[Load]) -> str:
    shares = [r.cpu_share for r in runs if r.cpu_share]
    return f"{100 * statistics.fmean(shares):.0f}%" if shares else "–"


def load_average() -> str:
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return f"{one} / {five} / {fifteen}"


# --- the chain ------------------------------------------------------------------------------


@dataclass
class Chain:
    pg_url: str
    registry: str
    configs: str
    step: str
    hello: str
    raida: str
    user_center: str
    config_id: str


def start_chain(stack: ExitStack, ws: Any) -> Chain:
    base, logs = ws.base_env, ws.log_dir
    raida_env = {**base, "USER_RAIDA": RAIDA_USER, "PASSWD_RAIDA": RAIDA_PASSWORD}
    registry = stack.enter_context(
        workers("registry", "step_platform.asgi:registry", ws.registry_env, logs, WORKERS)
    )
    raida = stack.enter_context(service("raida-mock", raida_env, logs))
    uc = stack.enter_context(service("user-center-mock", user_center_env(base, logs), logs))
    # the registry's database settings and step's Raida settings too: hello's `/api/configs/`
    # is the bare-list floor, its `/contests/user/my/...` the bare step reads
    hello_env = {**ws.registry_env, "BASE_URL": raida, "USER_RAIDA": RAIDA_USER,
                 "PASSWD_RAIDA": RAIDA_PASSWORD, "BARE_USER_ID": DEMO_USER_ID,
                 "TIME_ZONE": "Europe/Moscow"}  # fmt: skip
    hello = stack.enter_context(workers("hello", "hello:app", hello_env, logs, WORKERS))
    load_seed_configs(registry)
    host, port = registry.rsplit(":", 1)
    keys = token_env(uc)
    configs_env = {**base, **keys, "REGISTRY_URL": host, "REGISTRY_PORT": port}
    configs = stack.enter_context(
        workers("configs", "step_platform.asgi:configs", configs_env, logs, WORKERS)
    )
    step_env = {
        **base,
        **keys,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1 localhost",
        "DJANGO_CORS_ALLOWED_ORIGINS": "http://127.0.0.1",
        "BASE_URL": raida,
        "USER_RAIDA": RAIDA_USER,
        "PASSWD_RAIDA": RAIDA_PASSWORD,
        "CONFIGS_SERVICE_URL": configs + "/",
        # as deployed (deploy/k8s/base/step.yaml) and in the devstack: step follows the configs
        # change feed, so it may cache config sets; without it every read asks configs first
        "CONFIGS_SERVICE_TOKEN": step_service_token(uc),
        "LANGUAGE_CODE": "ru",
        "TIME_ZONE": "Europe/Moscow",
    }
    step = stack.enter_context(workers("step", "step_platform.asgi:step", step_env, logs, WORKERS))
    rows = httpx.get(f"{registry}/api/configs/", params=configs_query(), timeout=10).json()
    return Chain(
        pg_url=database_url(ws.registry_env),
        registry=registry,
        configs=configs,
        step=step,
        hello=hello,
        raida=raida,
        user_center=uc,
        config_id=rows[0]["id"],
    )


def database_url(env: dict[str, str]) -> str:
    from step_platform.registry.db import database_url_from_env

    return database_url_from_env(env)


def configs_query() -> dict[str, str]:
    """The registry query the configs service makes for the demo project (no Account-ID)."""
    return list_params(DEMO_PROJECT_ID, None, TYPES)


def registry_list_url(chain: Chain) -> str:
    return str(httpx.URL(f"{chain.registry}/api/configs/", params=configs_query()))


def list_sql() -> tuple[str, list[Any]]:
    select, params, _, _ = compile_list(CONFIGS, QueryParams(configs_query())).sql(CONFIGS)
    return select, params


def get_sql() -> str:
    return Engine(CONFIGS, None).sql["get"]  # type: ignore[arg-type]


def db_floor(
    chain: Chain, sql: str, params: Sequence[Any], *, connections: int, seconds: float
) -> Load:
    work = pg_loop(chain.pg_url, sql, params, connections=connections, seconds=seconds)
    return run_like_uvicorn(work)


def interleave(repeat: int, *measures: Callable[[], Load]) -> list[list[Load]]:
    """`repeat` runs of every measure, taken in turn (the floor, passed last, first in each
    round), so a burst of load elsewhere hits them all alike."""
    runs: list[list[Load]] = [[] for _ in measures]
    for _ in range(repeat):
        for i in reversed(range(len(measures))):
            runs[i].append(measures[i]())
    return runs


# --- sections -------------------------------------------------------------------------------


def registry_and_configs(chain: Chain, plan: Plan, headers: dict[str, str]) -> list[Figure]:
    figures = []
    list_url = registry_list_url(chain)
    bare_url = chain.hello + list_url[len(chain.registry) :]
    select, params = list_sql()
    one = f"{chain.registry}/api/config/{chain.config_id}/"
    configs_url = f"{chain.configs}/configs/{','.join(TYPES)}/"
    db_name = "asyncpg loop, same SQL and concurrency"
    for c in plan.concurrency:
        wrk = partial(run_wrk, connections=c, seconds=plan.seconds)
        db = partial(db_floor, chain, connections=c, seconds=plan.seconds)
        hello = [wrk(chain.hello) for _ in range(plan.repeat)]
        figures.append(Figure("hello", f"hello c={c}", hello, extra={"c": c}))
        listed, bare, floor = interleave(
            plan.repeat, partial(wrk, list_url), partial(wrk, bare_url), partial(db, select, params)
        )
        figures.append(Figure("db", f"asyncpg list c={c}", floor, extra={"c": c}))
        figures.append(Figure("bare", f"bare list c={c}", bare, mean_rps(floor), db_name,
                              extra={"c": c}))  # fmt: skip
        figures.append(Figure("registry", f"list c={c}", listed, mean_rps(floor), db_name,
                              extra={"c": c}))  # fmt: skip
        if c == 8:
            key = [uuid.UUID(chain.config_id)]
            bare_one = chain.hello + one[len(chain.registry) :]
            ours, bare, floor = interleave(
                plan.repeat, partial(wrk, one), partial(wrk, bare_one), partial(db, get_sql(), key)
            )
            figures.append(Figure("bare", f"bare retrieve c={c}", bare, mean_rps(floor), db_name,
                                  extra={"c": c}))  # fmt: skip
            figures.append(Figure("registry", f"retrieve c={c}", ours, mean_rps(floor), db_name,
                                  extra={"c": c}))  # fmt: skip
        registry_rps = mean_rps(listed)
        configs = [wrk(configs_url, headers=headers) for _ in range(plan.repeat)]
        figures.append(Figure("configs", f"configs c={c}", configs, registry_rps,
                              "the registry call it makes, same concurrency",
                              extra={"c": c}))  # fmt: skip
    return figures


def mean_rps(runs: Sequence[Load]) -> float:
    return statistics.fmean(r.rps for r in runs)


def pool_figures(chain: Chain, plan: Plan) -> list[Figure]:
    select, params = list_sql()
    found = run_like_uvicorn(pool_layer(chain.pg_url, select, params, plan.pool_rounds))
    floor = next(iter(found.values())).p50
    return [
        Figure("pool", name, [load], floor, "one connection", higher_is_better=False)
        for name, load in found.items()
    ]


def seed_contests(raida: httpx.Client, contests: int, latency_ms: float) -> None:
    raida.post("/__admin/reset").raise_for_status()
    fixture = build_fixture(
        contests,
        contest_status=["acceptance_works", "voting", "done"],
        users=[DEMO_USER_ID],
        application_status=["new", "approved", "completed"],
        other_users=3,
    )
    raida.post("/__admin/seed", json=fixture).raise_for_status()
    raida.delete("/__admin/faults").raise_for_status()
    raida.post("/__admin/faults", json={"latency_ms": latency_ms}).raise_for_status()


def contest_id(index: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"raida-mock/contest/{index}"))


READ_ROUTES = {
    "active": "/contests/active/",
    "archive": "/contests/archive/",
    "details": f"/contests/{contest_id(0)}/",
    "contest tasks": f"/contests/{contest_id(2)}/task/",
    "my tasks": "/contests/user/my/tasks/",
    "my history": "/contests/user/my/history/",
    "user history": f"/contests/user/{DEMO_USER_ID}/history/",
}


# The reads above twice their floor at 200 contests, measured beside their bare versions
# (`bench/hello.py`: the same searches, parsing and presenters, nothing else).
BARE_READS = ("my tasks", "my history")


def journal(raida: httpx.Client) -> list[dict[str, Any]]:
    entries = raida.get("/__admin/journal").json()["entries"]
    return [e for e in entries if not e["path"].rstrip("/").endswith("/api/users/token")]


def depth_of(raida: httpx.Client, call: Callable[[], httpx.Response]) -> tuple[int, int, Any]:
    """(sequential Raida round trips, Raida calls, the response) of one step request."""
    raida.delete("/__admin/journal").raise_for_status()
    response = call()
    entries = journal(raida)
    return sequential_depth(entries), len(entries), response


def raida_time(entries: list[dict[str, Any]]) -> float:
    """raida-mock's p50 time (arrival to answer, the latency fault included) of the slowest of
    the calls every request of a route makes: what a request waits for Raida at the least."""
    by_call: dict[tuple[str, str, str], list[float]] = {}
    for e in entries:
        took = datetime.fromisoformat(e["answered_at"]) - datetime.fromisoformat(e["at"])
        key = (e["method"], e["path"], str(e.get("rql")))
        by_call.setdefault(key, []).append(took.total_seconds())
    return max((percentile(v, 50) for v in by_call.values()), default=0.0)


def step_reads(chain: Chain, plan: Plan, headers: dict[str, str], hello_p50: float) -> list[Figure]:
    figures = []
    floor = READ_LATENCY_MS * READ_DEPTH + hello_p50
    with (
        httpx.Client(base_url=chain.raida, timeout=60) as raida,
        httpx.Client(base_url=chain.step, headers=headers, timeout=60) as step,
    ):
        for contests in plan.contests:
            seed_contests(raida, contests, READ_LATENCY_MS)
            for route, path in READ_ROUTES.items():
                for _ in range(3):  # warm-up: Raida token, config cache, connections
                    step.get(path).raise_for_status()
                depth, calls, _ = depth_of(raida, lambda path=path: step.get(path))
                raida.delete("/__admin/journal").raise_for_status()
                wrk = partial(run_wrk, connections=1, seconds=plan.read_seconds, headers=headers)
                if route in BARE_READS:
                    if step.get(path).json() != httpx.get(chain.hello + path, timeout=60).json():
                        raise RuntimeError(f"the bare {route} answers unlike step's")
                    runs, bare = interleave(
                        plan.repeat,
                        partial(wrk, chain.step + path),
                        partial(wrk, chain.hello + path),
                    )
                    figures.append(Figure("step bare", route, bare, floor, higher_is_better=False,
                                          extra={"contests": contests}))  # fmt: skip
                else:
                    runs = [wrk(chain.step + path) for _ in range(plan.repeat)]
                figures.append(
                    Figure("step reads", route, runs, floor,
                           f"{READ_LATENCY_MS:g} ms × {READ_DEPTH} + hello p50",
                           higher_is_better=False,
                           extra={"contests": contests, "depth": depth, "calls": calls,
                                  "raida": raida_time(journal(raida))})
                )  # fmt: skip
    return figures


def step_writes(chain: Chain, plan: Plan) -> list[Figure]:
    """join, quit, join again and send, one request at a time, each by a fresh user."""
    samples: dict[str, list[tuple[float, int, int]]] = {r: [] for r in WRITE_DEPTH}
    contest = contest_id(0)  # acceptance_works
    with httpx.Client(base_url=chain.raida, timeout=60) as raida:
        seed_contests(raida, 10, WRITE_LATENCY_MS)
        for _ in range(plan.writes):
            user = str(uuid.uuid4())
            token = user_token_for(chain, user)
            headers = {"Authorization": f"Bearer {token}", "Project-ID": DEMO_PROJECT_ID}
            with httpx.Client(base_url=chain.step, headers=headers, timeout=60) as step:

                def timed(route: str, call: Callable[[], httpx.Response], status: int) -> Any:
                    started = time.perf_counter()
                    depth, calls, response = depth_of(raida, call)
                    elapsed = time.perf_counter() - started
                    if response.status_code != status:
                        raise RuntimeError(f"{route}: {response.status_code} {response.text}")
                    samples[route].append((elapsed, depth, calls))
                    return response

                def join() -> str:
                    response = timed(
                        "join",
                        lambda: step.post("/contests/user/my/task/", json={"contest_id": contest}),
                        201,
                    )
                    return response.json()["data"]["task_id"]

                task = join()
                timed("quit", lambda task=task: step.delete(f"/contests/user/my/task/{task}/"), 200)
                task = join()
                timed(
                    "send_solution",
                    lambda task=task: step.post(
                        "/contests/user/my/task/send_solution/",
                        data={"task_id": task},
                        files={"solution_file": ("essay.txt", b"my solution", "text/plain")},
                    ),
                    200,
                )
    figures = []
    for route, rows in samples.items():
        latencies = [r[0] for r in rows]
        load = Load(len(rows) / sum(latencies), percentile(latencies, 50),
                    percentile(latencies, 99), len(rows), 0, 0)  # fmt: skip
        figures.append(
            Figure("step writes", route, [load], WRITE_LATENCY_MS * WRITE_DEPTH[route],
                   f"{WRITE_LATENCY_MS:g} ms × {WRITE_DEPTH[route]}", higher_is_better=False,
                   extra={"depths": sorted({r[1] for r in rows}),
                          "calls": sorted({r[2] for r in rows})})
        )  # fmt: skip
    return figures


def user_token_for(chain: Chain, user: str) -> str:
    from step_platform.devstack.simulators import user_token

    return user_token(chain.user_center, user, ttl=3600)


async def grow(url: str, rows: int) -> tuple[float, str]:
    """Add configs rows until the table holds `rows`; (seconds it took, the EXPLAIN)."""
    conn: asyncpg.Connection = await connect_once(url)
    try:
        have = await conn.fetchval("SELECT count(*) FROM configs_config")
        started = time.perf_counter()
        projects = max(0, rows - have) // ROWS_PER_PROJECT
        if projects:
            await conn.execute(LOAD, projects, __import__("json").dumps(seed_config_set()))
            # Settle the tables before they are measured, as tables long in service are: the
            # vacuum sets the new rows' (and their revisions') hint bits and visibility, or
            # autovacuum and the first readers would during the runs; the checkpoint writes the
            # load's dirty pages out now, not under the runs. (The 1M-row dip was the load's
            # million notifications, one per row before migration 0004: docs/benchmarks.md.)
            await conn.execute("VACUUM (ANALYZE) configs_config, registry_revisions")
            await conn.execute("CHECKPOINT")
        took = time.perf_counter() - started
        select, params = list_sql()
        plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {select}", *params)
        return took, "\n".join(r[0] for r in plan)
    finally:
        await conn.close()


def scale(chain: Chain, plan: Plan) -> tuple[list[Figure], dict[int, str]]:
    figures, plans = [], {}
    url = registry_list_url(chain)
    select, params = list_sql()
    for rows in plan.scale:
        took, plans[rows] = asyncio.run(grow(chain.pg_url, rows))
        print(f"scale: {rows:,} rows ready (+{took:.0f} s)", flush=True)
        ours, floor = interleave(
            plan.repeat,
            lambda: run_wrk(url, connections=8, seconds=plan.seconds),
            lambda: db_floor(chain, select, params, connections=8, seconds=plan.seconds),
        )
        figures.append(
            Figure("scale", f"{rows:,} rows", ours, statistics.fmean(f.rps for f in floor),
                   "asyncpg loop", extra={"rows": rows, "db": floor})
        )  # fmt: skip
    return figures, plans


# --- the report -----------------------------------------------------------------------------


def ratio_text(figure: Figure) -> str:
    ratio = figure.ratio
    if ratio is None:
        return "–"
    return f"{100 * ratio:.0f}%" if figure.higher_is_better else f"{ratio:.2f}×"


def report(figures: list[Figure], plans: dict[int, str], run: dict[str, str]) -> str:
    by = {s: [f for f in figures if f.section == s] for s in {f.section for f in figures}}
    out = [
        f"Run of {run['date']} ({run['mode']}): `{run['command']}`, {run['took']}.",
        f"Machine: {run['machine']}; {run['postgres']}. Load average (1/5/15 min) before "
        f"{run['load_before']}, after {run['load_after']}. Services: uvicorn `--workers "
        f"{WORKERS}` each (raida-mock and user-center-mock: one process); every figure is the "
        f"mean of {run['repeat']} runs (range in brackets) of {run['seconds']} s, load by wrk.",
        "",
        "### Registry and configs against their floors",
        "",
        "| what | connections | req/s | p50 ms | p99 ms | floor | floor req/s | ratio | wrk CPU |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    floors = {f.extra["c"]: f for f in by.get("db", [])}
    for f in by.get("hello", []):
        out.append(f"| hello-world Starlette (floor) | {f.extra['c']} | {rps_range(f.runs)} "
                   f"| {f.p50:.2f} | {f.p99:.2f} | – | – | – | {cpu(f.runs)} |")  # fmt: skip
    for c, f in sorted(floors.items()):
        out.append(f"| asyncpg loop, the list SQL (floor) | {c} | {rps_range(f.runs)} "
                   f"| {f.p50:.2f} | {f.p99:.2f} | – | – | – | – |")  # fmt: skip
    for f in by.get("bare", []) + by.get("registry", []) + by.get("configs", []):
        label = {
            "bare": "bare list (floor): hello-world + the list SQL, pooled, orjson"
            if f.name.startswith("bare list")
            else "bare retrieve (floor): hello-world + the get SQL",
            "registry": "registry `GET /api/configs/?{configs query}`"
            if f.name.startswith("list")
            else "registry `GET /api/config/{id}/`",
            "configs": f"configs `GET /configs/{{{len(TYPES)} types}}/`",
        }[f.section]
        out.append(f"| {label} | {f.extra['c']} | {rps_range(f.runs)} | {f.p50:.2f} "
                   f"| {f.p99:.2f} | {f.floor_name} | {f.floor:.0f} | {ratio_text(f)} "
                   f"| {cpu(f.runs)} |")  # fmt: skip
    out += [
        "",
        "### The pool layer: the list SQL one statement at a time, in process",
        "",
        "| how the connection is held | p50 ms | p99 ms | mean ms | p50 against one connection |",
        "|---|---:|---:|---:|---:|",
    ]
    for f in by.get("pool", []):
        out.append(f"| {f.name} | {f.p50:.3f} | {f.p99:.3f} | {1000 / f.rps:.3f} "
                   f"| {ratio_text(f)} |")  # fmt: skip
    out += [
        "",
        f"### Step reads against their floor ({READ_LATENCY_MS:g} ms per Raida call)",
        "",
        "Floor: the Raida latency times the route's fewest sequential Raida round trips "
        f"({READ_DEPTH} for every read) plus hello-world's p50 on one connection. One "
        "connection (wrk `-c1`). raida-mock p50: its own time (arrival to answer, the latency "
        "included) for the slowest call of the route, from its journal; step's own: the rest.",
        "",
        "| contests | route | p50 ms | p99 ms | floor ms | ratio | raida-mock p50 ms "
        "| step's own ms | sequential Raida round trips | Raida calls | wrk CPU |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in by.get("step reads", []):
        raida = f.extra["raida"]
        out.append(f"| {f.extra['contests']} | {f.name} | {f.p50:.1f} | {f.p99:.1f} "
                   f"| {f.floor:.1f} | {ratio_text(f)} | {raida:.1f} | {f.p50 - raida:.1f} "
                   f"| {f.extra['depth']} | {f.extra['calls']} | {cpu(f.runs)} |")  # fmt: skip
    out += [
        "",
        "Bare reads (`bench/hello.py`): the same two searches sent at once on a pooled httpx "
        "client, parsed by step's `core.upstream.loads`, joined and presented by step's "
        "functions and rendered as step renders a list; no token check, config read, middleware, "
        "logging or metrics. Measured in turn with step's runs above.",
        "",
        "| contests | route | bare p50 ms | bare p99 ms | floor ms | bare ratio to floor "
        "| step p50 ms | step against bare |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    steps = {(f.extra["contests"], f.name): f for f in by.get("step reads", [])}
    for f in by.get("step bare", []):
        ours = steps[(f.extra["contests"], f.name)]
        out.append(f"| {f.extra['contests']} | {f.name} | {f.p50:.1f} | {f.p99:.1f} "
                   f"| {f.floor:.1f} | {ratio_text(f)} | {ours.p50:.1f} "
                   f"| {ours.p50 / f.p50:.2f}× |")  # fmt: skip
    out += [
        "",
        f"### Step writes ({WRITE_LATENCY_MS:g} ms per Raida call)",
        "",
        "One request at a time, each user fresh (join, quit, join, send_solution without a "
        "link or comment); depth and calls read from raida-mock's journal for every request.",
        "",
        "| route | requests | p50 ms | p99 ms | sequential Raida round trips | issue's target "
        "| Raida calls | floor ms | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in by.get("step writes", []):
        depths = "/".join(map(str, f.extra["depths"]))
        calls = "/".join(map(str, f.extra["calls"]))
        out.append(f"| {f.name} | {f.runs[0].requests} | {f.p50:.1f} | {f.p99:.1f} | {depths} "
                   f"| ≤ {ISSUE_TARGET[f.name]} | {calls} | {f.floor:.0f} "
                   f"| {ratio_text(f)} |")  # fmt: skip
    out += [
        "",
        "### Scale: the configs query against the table size (8 connections)",
        "",
        "| rows | req/s | p50 ms | p99 ms | asyncpg loop req/s | ratio |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for f in by.get("scale", []):
        out.append(f"| {f.extra['rows']:,} | {rps_range(f.runs)} | {f.p50:.2f} | {f.p99:.2f} "
                   f"| {rps_range(f.extra['db'])} | {ratio_text(f)} |")  # fmt: skip
    if plans:
        rows = max(plans)
        out += ["", f"EXPLAIN (ANALYZE, BUFFERS) of the configs query at {rows:,} rows:", "",
                "```", plans[rows], "```"]  # fmt: skip
    out += ["", "![step reads](bench-step-reads.png)", "",
            "![throughput](bench-throughput.png)"]  # fmt: skip
    return "\n".join(out) + "\n"


def plots(figures: list[Figure], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    reads = [f for f in figures if f.section == "step reads"]
    fig, ax = plt.subplots(figsize=(10, 5))
    for route in READ_ROUTES:
        points = sorted((f.extra["contests"], f.p50) for f in reads if f.name == route)
        ax.plot(*zip(*points, strict=True), marker="o", label=route)
    for route in BARE_READS:
        points = sorted(
            (f.extra["contests"], f.p50)
            for f in figures
            if f.section == "step bare" and f.name == route
        )
        if points:
            ax.plot(*zip(*points, strict=True), marker="x", linestyle="--",
                    label=f"bare {route} (floor)")  # fmt: skip
    if reads:
        ax.axhline(reads[0].floor or 0, color="black", linestyle="--", label="floor")
        ax.axhline(2 * (reads[0].floor or 0), color="grey", linestyle=":", label="2× floor")
    ax.set_xlabel("contests")
    ax.set_ylabel("p50 latency, ms (one connection)")
    ax.set_title(f"step reads, {READ_LATENCY_MS:g} ms per Raida call")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")  # off the lines
    fig.tight_layout()
    fig.savefig(out / "bench-step-reads.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 5))
    series = {
        "hello-world (floor)": "hello",
        "asyncpg loop (floor)": "db",
        "bare list: hello-world + the SQL (floor)": "bare",
        "registry list": "registry",
        "configs": "configs",
    }
    for label, section in series.items():
        points = sorted(
            (f.extra["c"], f.rps)
            for f in figures
            if f.section == section and "retrieve" not in f.name
        )
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("concurrent connections")
    ax.set_ylabel("requests (queries) per second")
    ax.set_title("throughput against concurrency")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "bench-throughput.png", dpi=100)
    plt.close(fig)


def write_report(text: str, doc: Path) -> None:
    """Replace what lies between the markers in `doc` (or create it with just the report)."""
    block = f"{BEGIN}\n{text}{END}\n"
    if not doc.exists():
        doc.write_text(block, encoding="utf-8")
        return
    current = doc.read_text(encoding="utf-8")
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        doc.write_text(head + block + ("\n" + tail if tail else ""), encoding="utf-8")
    else:
        doc.write_text(current.rstrip("\n") + "\n\n" + block, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (make test)")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--out", default=None, help="directory of benchmarks.md and the plots")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    if args.seconds:
        plan = replace(plan, seconds=args.seconds)
    if args.repeat:
        plan = replace(plan, repeat=args.repeat)
    out = Path(args.out or (tempfile.mkdtemp(prefix="bench-") if args.quick else "docs"))
    out.mkdir(parents=True, exist_ok=True)
    started, load_before = time.perf_counter(), load_average()
    figures: list[Figure] = []
    with workspace("bench") as ws, ExitStack() as stack:
        chain = start_chain(stack, ws)
        asyncio.run(grow(chain.pg_url, plan.scale[0]))
        token = user_token_for(chain, DEMO_USER_ID)
        headers = {"Authorization": f"Bearer {token}", "Project-ID": DEMO_PROJECT_ID}
        figures += registry_and_configs(chain, plan, headers)
        figures += pool_figures(chain, plan)
        print("registry and configs: done", flush=True)
        hello_p50 = next(f.p50 for f in figures if f.name == "hello c=1")
        figures += step_reads(chain, plan, headers, hello_p50)
        print("step reads: done", flush=True)
        figures += step_writes(chain, plan)
        print("step writes: done", flush=True)
        scaled, plans = scale(chain, plan)
        figures += scaled
        postgres = asyncio.run(server_version(chain.pg_url))
    run = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "mode": "quick smoke run, figures meaningless" if args.quick else "full",
        "command": " ".join([".venv/bin/python bench/run.py", *sys.argv[1:]]),
        "took": f"{(time.perf_counter() - started) / 60:.1f} min",
        "machine": machine(),
        "postgres": postgres,
        "load_before": load_before,
        "load_after": load_average(),
        "repeat": str(plan.repeat),
        "seconds": f"{plan.seconds:g}",
    }
    text = report(figures, plans, run)
    write_report(text, out / "benchmarks.md")
    plots(figures, out)
    print(text)
    print(f"written: {out / 'benchmarks.md'} and its plots", flush=True)
    return 0


async def server_version(url: str) -> str:
    conn = await connect_once(url)
    try:
        return "PostgreSQL " + str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


if __name__ == "__main__":
    sys.exit(main())
