"""wrk (Debian's package) as the load generator: one run, its figures and its share of the CPUs.

wrk is written in C with one event loop per thread, so at these rates it is not the
bottleneck the Python client was; how much of the machine it took is measured (its user +
system CPU time over the run's wall time and the machine's cores) and printed beside every
figure, since it shares the two cores with the services.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class Load:
    """What one load run measured (latencies in ms)."""

    rps: float
    p50: float
    p99: float
    requests: int
    errors: int
    cpu_share: float  # of all the machine's cores, 0..1, taken by the load generator


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is missing: run ./scripts/ensure-system-deps (make bench does)")
    return found


def run_wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: Mapping[str, str] | None = None,
) -> Load:
    """`wrk --latency` against `url` with keep-alive connections; fails on any error answer."""
    argv = [
        wrk_binary(),
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    argv.append(url)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    load = parse(done.stdout, cpu_share=cpu / (wall * (os.cpu_count() or 1)))
    if load.errors or load.requests == 0:
        raise RuntimeError(f"wrk against {url}: {load.errors} errors\n{done.stdout}")
    return load


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * UNITS[unit]


def parse(output: str, *, cpu_share: float) -> Load:
    """The figures of wrk's text report (`--latency` gives the percentiles)."""
    percentiles = dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+(?:us|ms|s|m))", output, re.M))
    if len(percentiles) != 2:
        raise RuntimeError(f"wrk's report lacks its latency distribution:\n{output}")
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = 0
    if bad := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(bad.group(1))
    if sockets := re.search(r"Socket errors: (.*)", output):
        errors += sum(int(n) for n in re.findall(r"\d+", sockets.group(1)))
    return Load(
        rps=rps,
        p50=_ms(percentiles["50"]),
        p99=_ms(percentiles["99"]),
        requests=requests,
        errors=errors,
        cpu_share=cpu_share,
    )
