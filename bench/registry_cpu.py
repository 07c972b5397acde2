"""The registry's own CPU per request, by variant of its source, alternating (A/B).

Throughput on this shared 2-core machine mostly measures the sharing; a process's CPU time
per request does not (much). This starts one single-worker registry per variant (uvicorn with
the settings `make bench` uses: httptools, uvloop), each with `PYTHONPATH` set to that
variant's `src` directory (`current` is the installed tree), loads the seed's config set, then
runs wrk against the list (the configs query) and the retrieve, variant after variant, round
after round, and reports each worker's CPU ms per request (from /proc/<pid>/stat).

    .venv/bin/python bench/registry_cpu.py [--variant NAME=SRC_DIR ...] [--rounds 3]
        [--seconds 5] [--connections 8] [--profile DIR]

A variant's source is e.g. the previous commit's `src`: `git archive HEAD~1 src | tar -x -C
/tmp/base` then `--variant base=/tmp/base/src`. `--profile DIR` records the current variant
with py-spy (when installed) during one extra list run, as a flame graph and raw samples.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path

import httpx
from common import free_port, load_seed_configs, served, uvicorn_argv, workspace
from replica_bench import cpu_seconds
from run import configs_query
from wrk import run_wrk


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=SRC_DIR")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    variants = {"current": ""}
    for spec in args.variant:
        name, _, src = spec.partition("=")
        variants[name] = str(Path(src).resolve())

    with workspace("registry-cpu") as ws, ExitStack() as stack:
        running: dict[str, tuple[str, int]] = {}
        for name, src in variants.items():
            env = {**ws.registry_env, **({"PYTHONPATH": src} if src else {})}
            port = free_port()
            argv = uvicorn_argv("step_platform.asgi:registry", port, 1)
            url, process = stack.enter_context(
                served(f"registry-{name}", argv, env, ws.log_dir, port)
            )
            assert process.pid is not None
            running[name] = (url, process.pid)
        first = next(iter(running.values()))[0]
        load_seed_configs(first)
        rows = httpx.get(f"{first}/api/configs/", params=configs_query(), timeout=10).json()
        assert len(rows) == 5, rows
        config_id = rows[0]["id"]
        query = str(httpx.QueryParams(configs_query()))
        routes = {"list": f"/api/configs/?{query}", "retrieve": f"/api/config/{config_id}/"}

        def measure(url: str, pid: int) -> tuple[float, float]:
            before = cpu_seconds(pid)
            load = run_wrk(url, connections=args.connections, seconds=args.seconds)
            spent = cpu_seconds(pid) - before
            return 1000 * spent / load.requests, load.rps

        for url, _ in running.values():  # warm-up: statement caches, imports
            for path in routes.values():
                run_wrk(url + path, connections=args.connections, seconds=1)

        found: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
        for _ in range(args.rounds):
            for route, path in routes.items():
                for name, (url, pid) in running.items():
                    found[(route, name)].append(measure(url + path, pid))

        print(f"c={args.connections}, {args.seconds:g} s per run, {args.rounds} rounds")
        print("| route | variant | CPU ms / request (runs) | req/s (mean) |")
        print("|---|---|---:|---:|")
        for (route, name), runs in found.items():
            cpu = [f"{c:.3f}" for c, _ in runs]
            mean = statistics.fmean(c for c, _ in runs)
            rps = statistics.fmean(r for _, r in runs)
            print(f"| {route} | {name} | {mean:.3f} ({', '.join(cpu)}) | {rps:.0f} |")

        if args.profile:
            profile(running["current"], routes["list"], args, "list")
            profile(running["current"], routes["retrieve"], args, "retrieve")
    return 0


def profile(target: tuple[str, int], path: str, args: argparse.Namespace, label: str) -> None:
    url, pid = target
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    args.profile.mkdir(parents=True, exist_ok=True)
    seconds = max(4, round(args.seconds))
    raw = args.profile / f"{label}.txt"
    argv = [py_spy, "record", "-r", "250", "-d", str(seconds), "-f", "raw", "-o", str(raw)]
    recorder = subprocess.Popen([*argv, "-p", str(pid), "--nonblocking"])
    time.sleep(0.5)
    run_wrk(url + path, connections=args.connections, seconds=seconds)
    recorder.wait()


if __name__ == "__main__":
    sys.exit(main())
