"""Benchmark of watches: write -> woken watcher latency, and the cost of idle watchers.

Starts, as local processes on 127.0.0.1, Postgres (devstack provider chain), two registries
and two configs services on one database (configs-1 -> registry-1, configs-2 -> registry-2),
and user-center-mock. Then:

1. latency: `--rounds` times, a watcher blocks on configs-1 (`GET /configs/theme/?index=I
   &wait=60s`) and a PUT of that config goes through configs-2; measured from sending the PUT
   to the watcher's answer (and the PUT's own latency, for scale). The wake-up crosses
   instances only through Postgres (NOTIFY -> registry-1's LISTEN -> configs-1's change feed).
2. idle watchers: `--watchers` blocking reads held open on configs-1; its RSS (VmRSS of the
   process) before and while they wait; then one write wakes them all, timed to the last answer.

    .venv/bin/python bench/watch_bench.py [--rounds 100] [--watchers 1000] [--out FILE]

Only processes this script started are stopped (by PID), and its database is dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
from common import free_port, machine, percentile, report, token_env, user_center_env, workspace

from step_platform.devstack.processes import ManagedProcess, serve_argv, wait_http
from step_platform.devstack.simulators import user_token

PROJECT = str(uuid.uuid4())
TYPE = "theme"


@contextlib.contextmanager
def process(name: str, env: Mapping[str, str], log_dir: Path) -> Iterator[tuple[str, int]]:
    """`step-platform serve NAME` on a free port; yields (base URL, pid)."""
    port = free_port()
    managed = ManagedProcess(
        name, serve_argv(name, port), env=env, log_path=log_dir / f"{name}-{port}.log"
    )
    managed.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(managed, f"{url}/readyz", deadline=time.monotonic() + 60)
        assert managed.pid is not None
        yield url, managed.pid
    finally:
        managed.stop()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def raise_file_limit(wanted: int) -> int:
    """Sockets for both ends of every watcher (the services inherit the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(hard, max(soft, wanted))
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


async def latency(
    watch_url: str, write_url: str, headers: dict[str, str], rounds: int
) -> tuple[list[float], list[float]]:
    woken: list[float] = []
    writes: list[float] = []
    path = f"/configs/{TYPE}/"
    async with (
        httpx.AsyncClient(base_url=watch_url, headers=headers, timeout=90) as watcher,
        httpx.AsyncClient(base_url=write_url, headers=headers, timeout=30) as writer,
    ):
        for n in range(rounds):
            index = (await watcher.get(path)).headers["X-Config-Index"]
            answer = asyncio.create_task(watcher.get(path, params={"index": index, "wait": "60s"}))
            await asyncio.sleep(0.05)  # the watch is parked (the feed wakes it, not a race)
            sent = time.perf_counter()
            put = await writer.put(path, json={"data": {"round": n}})
            acknowledged = time.perf_counter()
            response = await answer
            arrived = time.perf_counter()
            if put.status_code != 200 or response.json()["data"][TYPE] != {"round": n}:
                raise RuntimeError(f"round {n}: {put.status_code} {response.text}")
            woken.append(arrived - sent)
            writes.append(acknowledged - sent)
    return woken, writes


async def idle_watchers(
    watch_url: str, write_url: str, headers: dict[str, str], count: int, pid: int
) -> dict[str, float]:
    path = f"/configs/{TYPE}/"
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=count + 10)
    async with (
        httpx.AsyncClient(base_url=watch_url, headers=headers, timeout=400, limits=limits) as c,
        httpx.AsyncClient(base_url=write_url, headers=headers, timeout=30) as writer,
    ):
        index = (await c.get(path)).headers["X-Config-Index"]
        before = rss_mib(pid)
        tasks = [
            asyncio.create_task(c.get(path, params={"index": index, "wait": "300s"}))
            for _ in range(count)
        ]
        await asyncio.sleep(5)  # every watcher has made its one registry read and is parked
        if any(t.done() for t in tasks):
            raise RuntimeError("a watcher answered before any write")
        holding = rss_mib(pid)
        await asyncio.sleep(5)
        still = rss_mib(pid)
        sent = time.perf_counter()
        await writer.put(path, json={"data": {"wake": True}})
        answers = await asyncio.gather(*tasks, return_exceptions=True)
        last = time.perf_counter() - sent
    woken = [
        a
        for a in answers
        if isinstance(a, httpx.Response)
        and a.status_code == 200
        and a.json()["data"][TYPE] == {"wake": True}
    ]
    failed = [repr(a) for a in answers if not isinstance(a, httpx.Response)]
    if failed:
        print(f"{len(failed)} watchers failed, e.g. {failed[0]}", file=sys.stderr)
    return {
        "before": before,
        "holding": holding,
        "still": still,
        "wake_all": last,
        "woken": len(woken),
    }


def markdown(
    args: argparse.Namespace,
    woken: list[float],
    writes: list[float],
    idle: dict[str, float],
    command: str,
) -> str:
    per_watcher = (idle["still"] - idle["before"]) * 1024 / args.watchers
    return "\n".join(
        [
            "## Watches (`bench/watch_bench.py`)",
            "",
            "Two registries and two configs services on one database (configs-1 -> registry-1, "
            "configs-2 -> registry-2), one uvicorn worker each; the watcher blocks on configs-1, "
            "the write (a configs PUT) goes through configs-2, so the wake-up travels "
            "Postgres NOTIFY -> registry-1's LISTEN -> its change feed -> configs-1. Client, "
            "services and Postgres share the machine.",
            "",
            f"| write -> woken watcher ({args.rounds} rounds) | p50 ms | p95 ms | max ms |",
            "|---|---:|---:|---:|",
            f"| PUT sent -> watcher's answer received | {percentile(woken, 50):.1f} "
            f"| {percentile(woken, 95):.1f} | {max(woken) * 1000:.1f} |",
            f"| the PUT itself (for scale) | {percentile(writes, 50):.1f} "
            f"| {percentile(writes, 95):.1f} | {max(writes) * 1000:.1f} |",
            "",
            f"| {args.watchers} idle watchers on configs-1 | value |",
            "|---|---:|",
            f"| RSS before they connect | {idle['before']:.1f} MiB |",
            f"| RSS while they wait (5 s in) | {idle['holding']:.1f} MiB |",
            f"| RSS while they wait (10 s in) | {idle['still']:.1f} MiB |",
            f"| per watcher | {per_watcher:.1f} KiB |",
            f"| one write -> every watcher answered (client included) "
            f"| {idle['wake_all'] * 1000:.0f} ms |",
            f"| watchers that saw the write | {idle['woken']:.0f} of {args.watchers} |",
            "",
            f"Machine: {machine()}.",
            "",
            f"Command: `{command}`",
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--out", default=None, help="write the markdown section to this file")
    args = parser.parse_args()
    command = " ".join([".venv/bin/python", "bench/watch_bench.py", *sys.argv[1:]])
    limit = raise_file_limit(4 * args.watchers + 256)
    if limit < 2 * args.watchers + 64:
        raise SystemExit(f"open-file limit {limit} is too low for {args.watchers} watchers")

    with workspace("watch_bench") as ws:
        base, log_dir = ws.base_env, ws.log_dir
        with contextlib.ExitStack() as stack:
            uc_url, _ = stack.enter_context(
                process("user-center-mock", user_center_env(base, log_dir), log_dir)
            )
            registries = [
                stack.enter_context(process("registry", ws.registry_env, log_dir))[0]
                for _ in range(2)
            ]
            configs = []
            for registry_url in registries:
                host, port = registry_url.rsplit(":", 1)
                env = {**base, **token_env(uc_url), "REGISTRY_URL": host, "REGISTRY_PORT": port}
                configs.append(stack.enter_context(process("configs", env, log_dir)))
            token = user_token(uc_url, str(uuid.uuid4()), roles=("configs:write",))
            headers = {"Authorization": f"Bearer {token}", "Project-ID": PROJECT}
            created = httpx.post(
                f"{configs[1][0]}/configs/",
                json={"project_id": PROJECT, "object_type": TYPE, "data": {"round": -1}},
                headers=headers,
            )
            created.raise_for_status()
            (watch_url, watch_pid), (write_url, _) = configs
            woken, writes = asyncio.run(latency(watch_url, write_url, headers, args.rounds))
            idle = asyncio.run(
                idle_watchers(watch_url, write_url, headers, args.watchers, watch_pid)
            )

    text = markdown(args, woken, writes, idle, command)
    report(text, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
