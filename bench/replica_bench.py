"""Per-replica cost of each service: CPU time and upstream calls per request, memory.

Capacity planning (docs/scaling.md) needs what one replica of each service can take, and the
machine here runs the load generator, every service and Postgres on two shared cores, so
throughput figures mostly measure the sharing. CPU time per request does not: each service's
CPU seconds (from /proc/<pid>/stat, one uvicorn worker per service) divided by the requests it
served is what a replica spends, and 1000 / (CPU ms per request) is the request rate one fully
used core sustains. Upstream calls per request are read from each service's own `/metrics`.

Starts Postgres (devstack provider chain), a migrated database, the registry, raida-mock (no
added latency, `build_fixture(N)`), user-center-mock, the configs service and step as local
processes on 127.0.0.1, loads the seed's config set, then for each scenario runs `--clients`
concurrent keep-alive clients for `--seconds` after a one-second warm-up.

    .venv/bin/python bench/replica_bench.py [--clients 8] [--seconds 10] [--contests 50]
                                            [--out FILE]

Only processes this script started are stopped (by PID), and its database is dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from common import (
    load_seed_configs,
    machine,
    percentile,
    report,
    service_process,
    token_env,
    user_center_env,
    workspace,
)
from prometheus_client.parser import text_string_to_metric_families

from raida_mock.fixtures import DEMO_USER_ID, build_fixture
from step_platform.devstack.processes import ManagedProcess
from step_platform.devstack.simulators import user_token
from step_platform.seed import DEMO_PROJECT_ID

RAIDA_USER, RAIDA_PASSWORD = "raida@raida.com", "raida"
TYPES = "node_id,task_status_id,task_process_id,contest_status_id,contest_process_id"
SERVICES = ("step", "configs", "registry", "raida-mock")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def upstream_calls(url: str) -> dict[str, float]:
    """`upstream_requests_total` of one service by upstream (all outcomes)."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "upstream_requests_total":
                out[s.labels["upstream"]] = out.get(s.labels["upstream"], 0) + s.value
    return out


@dataclass
class Scenario:
    name: str
    target: str  # the service the load is sent to
    path: str
    headers: dict[str, str]


@dataclass
class Result:
    scenario: Scenario
    requests: int
    seconds: float
    latencies: list[float]
    errors: int
    cpu_ms: dict[str, float] = field(default_factory=dict)  # per request, by service
    calls: dict[str, float] = field(default_factory=dict)  # per request, "from→to"
    rss: dict[str, float] = field(default_factory=dict)


async def load(
    url: str, sc: Scenario, clients: int, seconds: float
) -> tuple[list[float], int, int]:
    """Latencies of the measured phase, its errors, and every request sent (warm-up too)."""
    latencies: list[float] = []
    errors = sent = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers=sc.headers, limits=limits) as client:

        async def worker(until: float, record: bool) -> None:
            nonlocal errors, sent
            while time.monotonic() < until:
                started = time.perf_counter()
                response = await client.get(sc.path)
                sent += 1
                if record:
                    latencies.append(time.perf_counter() - started)
                    errors += response.status_code != 200

        await asyncio.gather(*(worker(time.monotonic() + 1, False) for _ in range(clients)))
        await asyncio.gather(*(worker(time.monotonic() + seconds, True) for _ in range(clients)))
    return latencies, errors, sent


def run(
    sc: Scenario,
    urls: Mapping[str, str],
    procs: Mapping[str, ManagedProcess],
    clients: int,
    seconds: float,
) -> Result:
    calls_before = {name: upstream_calls(urls[name]) for name in ("step", "configs")}
    cpu_before = {name: cpu_seconds(procs[name].pid or 0) for name in SERVICES}
    latencies, errors, total = asyncio.run(load(urls[sc.target], sc, clients, seconds))
    # CPU and calls are taken over the whole window, so they are divided by every request sent
    cpu_after = {name: cpu_seconds(procs[name].pid or 0) for name in SERVICES}
    calls_after = {name: upstream_calls(urls[name]) for name in ("step", "configs")}
    result = Result(sc, len(latencies), seconds, latencies, errors)
    for name in SERVICES:
        result.cpu_ms[name] = (cpu_after[name] - cpu_before[name]) * 1000 / total
        result.rss[name] = rss_mib(procs[name].pid or 0)
    for name in ("step", "configs"):
        for upstream, count in calls_after[name].items():
            done = count - calls_before[name].get(upstream, 0)
            result.calls[f"{name}→{upstream}"] = done / total
    return result


def markdown(results: list[Result], args: argparse.Namespace, command: str) -> str:
    lines = [
        "## Per replica (`bench/replica_bench.py`)",
        "",
        f"{args.clients} concurrent clients, {args.seconds:g} s per scenario after a 1 s "
        f"warm-up; raida-mock without added latency, `build_fixture({args.contests})`; step "
        "with CONFIG_CACHE_TTL=5, configs with CONFIGS_CACHE_TTL=0. CPU ms per request = the "
        "service process's CPU time over the run / the requests sent in it (one uvicorn worker "
        "per service); req/s per core = 1000 / that. Upstream calls per request from each "
        "service's `/metrics` (`upstream_requests_total`, token calls included).",
        "",
        "| scenario | req/s (shared machine) | p50 ms | p95 ms | errors "
        "| CPU ms / request: step | configs | registry | raida-mock | upstream calls / request |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        calls = ", ".join(f"{k} {v:.2f}" for k, v in sorted(r.calls.items()) if v >= 0.005)
        p50, p95 = percentile(r.latencies, 50), percentile(r.latencies, 95)
        lines.append(
            f"| {r.scenario.name} | {r.requests / r.seconds:.0f} | {p50:.1f} | {p95:.1f}"
            f" | {r.errors} | "
            + " | ".join(f"{r.cpu_ms[s]:.2f}" for s in SERVICES)
            + f" | {calls or '—'} |"
        )
    last = results[-1]
    lines += [
        "",
        "Resident memory after the runs (MiB): "
        + ", ".join(f"{s} {last.rss[s]:.0f}" for s in SERVICES)
        + ".",
        "",
        f"Machine: {machine()}; the load generator, every service and Postgres share the "
        "machine (Postgres's CPU is not in the table).",
        "",
        f"Command: `{command}`",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--contests", type=int, default=50)
    parser.add_argument("--out", default=None, help="write the markdown section to this file")
    args = parser.parse_args()
    command = " ".join([".venv/bin/python", "bench/replica_bench.py", *sys.argv[1:]])

    results: list[Result] = []
    with workspace("replica_bench") as ws, ExitStack() as stack:
        base, logs = ws.base_env, ws.log_dir
        urls: dict[str, str] = {}
        procs: dict[str, ManagedProcess] = {}

        def start(name: str, env: Mapping[str, str]) -> None:
            urls[name], procs[name] = stack.enter_context(service_process(name, env, logs))

        start("registry", ws.registry_env)
        start("raida-mock", {**base, "USER_RAIDA": RAIDA_USER, "PASSWD_RAIDA": RAIDA_PASSWORD})
        start("user-center-mock", user_center_env(base, logs))
        load_seed_configs(urls["registry"])
        keys = token_env(urls["user-center-mock"])
        host, port = urls["registry"].rsplit(":", 1)
        # the cache off (it is on by default): the scenario measures the uncached read
        configs_env = {"REGISTRY_URL": host, "REGISTRY_PORT": port, "CONFIGS_CACHE_TTL": "0"}
        start("configs", {**base, **keys, **configs_env})
        start(
            "step",
            {
                **base,
                **keys,
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1 localhost",
                "DJANGO_CORS_ALLOWED_ORIGINS": "http://127.0.0.1",
                "BASE_URL": urls["raida-mock"],
                "USER_RAIDA": RAIDA_USER,
                "PASSWD_RAIDA": RAIDA_PASSWORD,
                "CONFIGS_SERVICE_URL": urls["configs"] + "/",
                "CONFIG_CACHE_TTL": "5",
                "LANGUAGE_CODE": "ru",
                "TIME_ZONE": "Europe/Moscow",
            },
        )
        fixture = build_fixture(
            args.contests,
            contest_status=["acceptance_works", "voting", "done"],
            users=[DEMO_USER_ID],
            application_status=["new", "approved", "completed"],
            other_users=3,
        )
        with httpx.Client(base_url=urls["raida-mock"], timeout=60) as raida:
            raida.post("/__admin/reset").raise_for_status()
            raida.post("/__admin/seed", json=fixture).raise_for_status()
        token = user_token(urls["user-center-mock"], DEMO_USER_ID, ttl=24 * 3600)
        user = {"Authorization": f"Bearer {token}", "Project-ID": DEMO_PROJECT_ID}
        registry_query = (
            f"/api/configs/?project_id={DEMO_PROJECT_ID}&account_id=null"
            f"&object_type={TYPES}&meta_status=active"
        )
        scenarios = [
            Scenario("registry: configs query", "registry", registry_query, {}),
            Scenario("configs: 5 types, no cache", "configs", f"/configs/{TYPES}/", user),
            Scenario("step: active contests", "step", "/contests/active/", user),
            Scenario("step: my tasks", "step", "/contests/user/my/tasks/", user),
        ]
        for sc in scenarios:
            results.append(run(sc, urls, procs, args.clients, args.seconds))

    text = markdown(results, args, command)
    report(text, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
