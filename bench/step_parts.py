"""What step's "my tasks" costs in CPU, part by part, at 10, 50 and 200 contests.

The read waits for one Raida round trip; everything else is step's CPU on the two search
answers (the contests, the user's applications). This measures each part in one process,
against a real raida-mock over a socket (no latency fault), beside the least the same part
could cost with other parts: the bytes read from a raw asyncio stream instead of through httpx,
and step's parser (`core.upstream.loads`: orjson, with the checks that leave bodies with
19-digit runs or deep nesting to `json`) beside `json` alone and orjson alone. It is the
measured reason in docs/benchmarks.md for what remains between "my tasks" at 200 contests and
twice its floor.

    .venv/bin/python bench/step_parts.py [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import timeit
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import uvloop
from common import machine, report, service, workspace
from run import RAIDA_PASSWORD, RAIDA_USER, seed_contests

from raida_mock.fixtures import DEMO_USER_ID
from step_platform.contests import config_format as need
from step_platform.contests.config_format import ConfigSet, validate
from step_platform.contests.envelopes import ok_list
from step_platform.contests.presenters import my_task_item, with_application
from step_platform.contests.routes import my_tasks_searches
from step_platform.core.upstream import create_client, loads, loads_by_json
from step_platform.seed import seed_config_set

CONTESTS = (10, 50, 200)
ROUNDS = 200


async def cpu_per_call(run: Callable[[], Awaitable[Any]], rounds: int = ROUNDS) -> float:
    """This process's CPU per call of `run` in ms, best of three batches after a warm-up."""
    for _ in range(10):
        await run()
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(rounds):
            await run()
        best = min(best, (time.process_time() - started) / rounds)
    return best * 1000


def best_ms(call: Callable[[], Any], number: int = ROUNDS) -> float:
    return min(timeit.repeat(call, number=number, repeat=5)) / number * 1000


def measure(raida: str, token: str, cfg: ConfigSet) -> dict[str, Any]:
    path = f"/api/tasks/rql/{cfg['node_id.value']}"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    searches = my_tasks_searches(cfg, DEMO_USER_ID)
    requests = [json.dumps({"rql": q, "fields": []}).encode() for q in searches]

    async def socket_parts() -> tuple[list[bytes], float, float]:
        """Both answers through step's client, then the same requests on a raw stream; on
        uvloop, as the services run."""
        async with create_client(raida) as client:

            async def through_httpx() -> list[bytes]:
                return [
                    (await client.post(path, content=body, headers=headers)).content
                    for body in requests
                ]

            bodies = await through_httpx()
            httpx_ms = await cpu_per_call(through_httpx)
        host, port = raida.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))

        async def raw() -> None:
            for body in requests:
                head = (
                    f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}"
                    f"\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                )
                writer.write(head.encode() + body)
                lines = (await reader.readuntil(b"\r\n\r\n")).lower().split(b"\r\n")
                length = next(int(x.split(b":")[1]) for x in lines if x.startswith(b"content-l"))
                await reader.readexactly(length)

        try:
            raw_ms = await cpu_per_call(raw)
        finally:
            writer.close()
        return bodies, httpx_ms, raw_ms

    bodies, httpx_ms, raw_ms = uvloop.run(socket_parts())
    contests, tasks = (loads(b)["data"] for b in bodies)
    tz = ZoneInfo("Europe/Moscow")
    completed = cfg["task_status_id.completed"]

    def present() -> list[dict[str, Any]]:
        return [my_task_item(c, t, completed, tz) for c, t in with_application(contests, tasks)]

    items = present()
    return {
        "bytes": sum(len(b) for b in bodies),
        "httpx": httpx_ms,
        "raw": raw_ms,
        "loads": best_ms(lambda: [loads(b) for b in bodies]),
        "json": best_ms(lambda: [loads_by_json(b) for b in bodies]),
        "orjson": best_ms(lambda: [orjson.loads(b) for b in bodies]),
        "present": best_ms(present),
        "render": best_ms(lambda: ok_list("", items)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    cfg = validate(seed_config_set(), need.MY_TASKS)  # the set the bench loads
    results = {}
    with workspace("step-parts") as ws, ExitStack() as stack:
        env = {**ws.base_env, "USER_RAIDA": RAIDA_USER, "PASSWD_RAIDA": RAIDA_PASSWORD}
        raida = stack.enter_context(service("raida-mock", env, ws.log_dir))
        with httpx.Client(base_url=raida, timeout=60) as admin:
            credentials = {"username": RAIDA_USER, "password": RAIDA_PASSWORD}
            token = admin.post("/api/users/token", data=credentials).json()["access_token"]
            for contests in CONTESTS:
                seed_contests(admin, contests, 0)
                results[contests] = measure(raida, token, cfg)
    lines = [
        '## Step\'s CPU for "my tasks", part by part (`bench/step_parts.py`)',
        "",
        "In process against raida-mock over a socket (no latency fault), ms of CPU per request "
        "(both search answers); socket parts: this process's CPU per pair, best of 3 batches of "
        f"{ROUNDS}; pure parts: `timeit`, best of 5. Step's parts are in bold; the others are "
        "what the same part costs with other means.",
        "",
        "| contests | answer bytes | **httpx: send both, read the answers** | raw asyncio "
        "stream, same bytes | **parse (step's `loads`)** | `json` (finite-number check) | orjson "
        "alone "
        "| **join and present** | **render** |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for contests, r in results.items():
        lines.append(
            f"| {contests} | {r['bytes']:,} | {r['httpx']:.2f} | {r['raw']:.2f} | {r['loads']:.2f} "
            f"| {r['json']:.2f} | {r['orjson']:.2f} | {r['present']:.2f} | {r['render']:.2f} |"
        )
    lines += ["", f"Machine: {machine()}.", "", "Command: `.venv/bin/python bench/step_parts.py`"]
    report("\n".join(lines), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
