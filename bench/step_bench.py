"""Benchmark of the step service: latency and Raida calls per request of every GET route.

Starts the chain as local processes on 127.0.0.1 — Postgres (devstack provider chain),
`step-platform migrate`, the registry, the configs service, raida-mock and step — loads the
seed's config set, and for 10, 50 and 200 contests (raida-mock `build_fixture`, one user with
an application to every contest, 3 other applicants per contest) adds 5 ms to every Raida call
and sends each GET route `--requests` times, one request at a time. Reports p50/p95 latency and
Raida calls per request (from raida-mock's journal, token calls excluded), next to the calls
the original made for the same data (the original's call pattern).

    .venv/bin/python bench/step_bench.py [--requests 50] [--latency-ms 5]
                                         [--contests 10,50,200] [--out FILE]

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

from raida_mock.fixtures import DEMO_USER_ID, build_fixture
from step_platform.devstack.simulators import user_token
from step_platform.seed import DEMO_PROJECT_ID

RAIDA_USER, RAIDA_PASSWORD = "raida@raida.com", "raida"
CONTEST_STATUSES = ["acceptance_works", "voting", "done"]
APPLICATION_STATUSES = ["new", "approved", "completed"]
OTHER_USERS = 3


def contest_id(index: int) -> str:
    """The id `build_fixture` gives its contest number `index`."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"raida-mock/contest/{index}"))


def routes() -> dict[str, str]:
    return {
        "1 active": "/contests/active/",
        "2 archive": "/contests/archive/",
        "3 details": f"/contests/{contest_id(0)}/",
        # contest 2 is done and its applications completed: the default filter lists them
        "4 contest tasks": f"/contests/{contest_id(2)}/task/",
        "5 my tasks": "/contests/user/my/tasks/",
        "6 my history": "/contests/user/my/history/",
        "7 user history": f"/contests/user/{DEMO_USER_ID}/history/",
    }


def original_calls(route: str, contests: int) -> int:
    """Raida calls the original made for this data (token cached), the original's call pattern."""
    running = contests  # every contest is in a status "my tasks" lists
    done = len([i for i in range(contests) if CONTEST_STATUSES[i % 3] == "done"])
    return {
        "1 active": 1,
        "2 archive": 1,
        "3 details": 3,
        "4 contest tasks": 1,
        "5 my tasks": 1 + running,
        "6 my history": 1 + done + done,  # every done contest has a completed application
        "7 user history": 1 + done + done,
    }[route]


@dataclass
class Row:
    contests: int
    route: str
    latencies: list[float]
    raida_calls: int
    items: int

    def percentile(self, p: float) -> float:
        return percentile(self.latencies, p)

    @property
    def calls_per_request(self) -> float:
        return self.raida_calls / len(self.latencies)


def journal_calls(raida: httpx.Client) -> int:
    entries = raida.get("/__admin/journal").json()["entries"]
    return len([e for e in entries if not e["path"].startswith("/api/users/token")])


async def measure(
    step_url: str, raida: httpx.Client, headers: dict[str, str], contests: int, requests: int
) -> list[Row]:
    rows = []
    async with httpx.AsyncClient(base_url=step_url, headers=headers, timeout=60) as client:
        for route, path in routes().items():
            for _ in range(3):  # warm-up: token, config cache, connections
                (await client.get(path)).raise_for_status()
            raida.delete("/__admin/journal").raise_for_status()
            latencies = []
            items = 0
            for _ in range(requests):
                started = time.perf_counter()
                response = await client.get(path)
                latencies.append(time.perf_counter() - started)
                response.raise_for_status()
                items = response.json()["info"].get("count", 1)
            rows.append(Row(contests, route, latencies, journal_calls(raida), items))
    return rows


def markdown(rows: list[Row], args: argparse.Namespace, command: str) -> str:
    lines = [
        "## Step service",
        "",
        f"Every GET route, {args.requests} sequential requests after 3 warm-up requests, "
        f"{args.latency_ms:g} ms added to every Raida call (raida-mock fault), "
        f"CONFIG_CACHE_TTL=5. Data: raida-mock `build_fixture(N)` — N contests cycling "
        f"{', '.join(CONTEST_STATUSES)}; the measured user has an application to every contest "
        f"(new, approved, completed in turn), {OTHER_USERS} other users too. "
        "Raida calls counted in raida-mock's journal (token calls excluded); "
        '"original" is what the original service made for the same data (spec section 9).',
        "",
        "| contests | route | items | p50 ms | p95 ms | Raida calls / request | original |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.contests} | {r.route} | {r.items} | {r.percentile(50):.1f} "
            f"| {r.percentile(95):.1f} | {r.calls_per_request:g} "
            f"| {original_calls(r.route, r.contests)} |"
        )
    lines += [
        "",
        "Raida calls per request are the same at 10, 50 and 200 contests: lists are one search, "
        "details one read plus one search (concurrently), my tasks and history two searches "
        "(concurrently) joined in memory, attachments taken from the task objects.",
        "",
        f"Machine: {machine()}; one uvicorn worker per service, all services, Postgres "
        "and the load generator on the same machine.",
        "",
        f"Command: `{command}`",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=5.0)
    parser.add_argument("--contests", default="10,50,200")
    parser.add_argument("--out", default=None, help="write the markdown section to this file")
    args = parser.parse_args()
    command = " ".join([".venv/bin/python", "bench/step_bench.py", *sys.argv[1:]])
    sizes = [int(n) for n in args.contests.split(",")]

    rows: list[Row] = []
    with workspace("step_bench") as ws:
        base_env, log_dir = ws.base_env, ws.log_dir
        raida_env = {**base_env, "USER_RAIDA": RAIDA_USER, "PASSWD_RAIDA": RAIDA_PASSWORD}
        with (
            service("registry", ws.registry_env, log_dir) as registry_url,
            service("raida-mock", raida_env, log_dir) as raida_url,
            service("user-center-mock", user_center_env(base_env, log_dir), log_dir) as uc_url,
        ):
            load_seed_configs(registry_url)
            token = user_token(uc_url, DEMO_USER_ID, ttl=24 * 3600)
            headers = {"Authorization": f"Bearer {token}", "Project-ID": DEMO_PROJECT_ID}
            host, port = registry_url.rsplit(":", 1)
            key_env = token_env(uc_url)
            configs_env = {**base_env, **key_env, "REGISTRY_URL": host, "REGISTRY_PORT": port}
            with service("configs", configs_env, log_dir) as configs_url:
                step_env = {
                    **base_env,
                    **key_env,
                    "DJANGO_ALLOWED_HOSTS": "127.0.0.1 localhost",
                    "DJANGO_CORS_ALLOWED_ORIGINS": "http://127.0.0.1",
                    "BASE_URL": raida_url,
                    "USER_RAIDA": RAIDA_USER,
                    "PASSWD_RAIDA": RAIDA_PASSWORD,
                    "CONFIGS_SERVICE_URL": configs_url + "/",
                    "LANGUAGE_CODE": "ru",
                    "TIME_ZONE": "Europe/Moscow",
                }
                with (
                    service("step", step_env, log_dir) as step_url,
                    httpx.Client(base_url=raida_url, timeout=60) as raida,
                ):
                    for contests in sizes:
                        raida.post("/__admin/reset").raise_for_status()
                        fixture = build_fixture(
                            contests,
                            contest_status=CONTEST_STATUSES,
                            users=[DEMO_USER_ID],
                            application_status=APPLICATION_STATUSES,
                            other_users=OTHER_USERS,
                        )
                        raida.post("/__admin/seed", json=fixture).raise_for_status()
                        raida.delete("/__admin/faults").raise_for_status()
                        raida.post(
                            "/__admin/faults", json={"latency_ms": args.latency_ms}
                        ).raise_for_status()
                        rows += asyncio.run(
                            measure(step_url, raida, headers, contests, args.requests)
                        )

    text = markdown(rows, args, command)
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
