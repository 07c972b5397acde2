"""Benchmark of the configs service: `GET /configs/{5 types}/` with and without the cache.

Starts a real chain as local processes on 127.0.0.1 (Postgres from the devstack provider
chain, `step-platform migrate`, the registry, and two configs services: CONFIGS_CACHE_TTL=0 and
CONFIGS_CACHE_TTL=<ttl>), loads the seed's section-8 config set, then drives each configs
service with N concurrent clients for a fixed time and prints requests/s, p50 and p95.

    .venv/bin/python bench/configs_bench.py [--clients 8] [--seconds 10] [--ttl 5]
                                           [--out FILE]

Only processes this script started are stopped (by PID), and its database is dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from common import (
    load_seed_configs,
    machine,
    percentile,
    service,
    token_env,
    user_center_env,
    workspace,
)

from step_platform.devstack.simulators import user_token
from step_platform.seed import DEMO_PROJECT_ID

TYPES = "node_id,task_status_id,task_process_id,contest_status_id,contest_process_id"


@dataclass
class Result:
    label: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        return percentile(self.latencies, p)


async def drive(
    label: str, url: str, headers: dict[str, str], clients: int, seconds: float
) -> Result:
    """`clients` concurrent clients, each sending requests back to back for `seconds`."""
    latencies: list[float] = []
    errors = 0
    path = f"/configs/{TYPES}/"

    async def client_loop(stop_at: float, record: bool) -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                response = await client.get(path)
                elapsed = time.perf_counter() - started
                if record:
                    if response.status_code == 200:
                        latencies.append(elapsed)
                    else:
                        errors += 1

    warmup_end = time.perf_counter() + 1.0
    await asyncio.gather(*(client_loop(warmup_end, False) for _ in range(clients)))
    started = time.perf_counter()
    await asyncio.gather(*(client_loop(started + seconds, True) for _ in range(clients)))
    return Result(label, len(latencies), errors, time.perf_counter() - started, latencies)


def markdown(results: list[Result], args: argparse.Namespace, command: str) -> str:
    lines = [
        "## Configs service",
        "",
        f"`GET /configs/{TYPES}/` (the seed's 5 config types, project level), "
        f"{args.clients} concurrent clients, {args.seconds:g} s per run after 1 s warm-up; "
        "registry, configs service, Postgres and the load generator (Python, httpx) share the "
        "machine: the ratio is the point.",
        "",
        "| run | requests/s | p50 ms | p95 ms | requests | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.label} | {r.rps:.0f} | {r.percentile(50):.1f} | {r.percentile(95):.1f} "
            f"| {r.requests} | {r.errors} |"
        )
    lines += [
        "",
        f"Machine: {machine()}; one uvicorn worker per service.",
        "",
        f"Command: `{command}`",
        "",
    ]
    return "\n".join(lines)


async def run_load(urls: dict[str, str], headers: dict[str, str], args) -> list[Result]:
    results = []
    for label, url in urls.items():
        probe = httpx.get(f"{url}/configs/{TYPES}/", headers=headers, timeout=10)
        if probe.status_code != 200 or len(probe.json()["data"]) != 5:
            raise RuntimeError(f"{label}: unexpected answer {probe.status_code} {probe.text}")
        results.append(await drive(label, url, headers, args.clients, args.seconds))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--ttl", type=float, default=5.0, help="CONFIGS_CACHE_TTL of the cached run"
    )
    parser.add_argument("--out", default=None, help="write the markdown section to this file")
    args = parser.parse_args()
    command = " ".join([".venv/bin/python", "bench/configs_bench.py", *sys.argv[1:]])

    with workspace("configs_bench") as ws:
        base_env, log_dir = ws.base_env, ws.log_dir
        with (
            service("registry", ws.registry_env, log_dir) as registry_url,
            service("user-center-mock", user_center_env(base_env, log_dir), log_dir) as uc_url,
        ):
            load_seed_configs(registry_url)
            token = user_token(uc_url, str(uuid.uuid4()), ttl=3600)
            headers = {"Authorization": f"Bearer {token}", "Project-ID": DEMO_PROJECT_ID}
            host, port = registry_url.rsplit(":", 1)
            configs_env = {
                **base_env,
                **token_env(uc_url),
                "REGISTRY_URL": host,
                "REGISTRY_PORT": port,
            }
            no_cache = {**configs_env, "CONFIGS_CACHE_TTL": "0"}
            cached = {**configs_env, "CONFIGS_CACHE_TTL": f"{args.ttl:g}"}
            with (
                service("configs", no_cache, log_dir) as plain_url,
                service("configs", cached, log_dir) as cached_url,
            ):
                urls = {
                    "no cache (CONFIGS_CACHE_TTL=0)": plain_url,
                    f"cache (CONFIGS_CACHE_TTL={args.ttl:g})": cached_url,
                }
                results = asyncio.run(run_load(urls, headers, args))

    text = markdown(results, args, command)
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
