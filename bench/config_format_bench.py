"""Benchmark of the config-format checks: what validating a config set costs in process.

Step validates the config set of every request against its published JSON Schemas
(`contests/config_format.py`, with `jsonschema`, memoised per type value); the configs service
checks each write against every registered consumer (`configs/contracts.py`). Both are pure
CPU, so `timeit` in one process measures them; no services are started.

    .venv/bin/python bench/config_format_bench.py [--out FILE]
"""

from __future__ import annotations

import argparse
import sys
import timeit
from pathlib import Path
from typing import Any

from common import machine, report

from step_platform.configs.consumers import CONSUMERS_PROJECT, ConsumerBook
from step_platform.configs.contracts import violations
from step_platform.contests import config_format as cf
from step_platform.contests.config_format import type_schemas
from step_platform.core.json_schema import error_paths
from step_platform.seed import seed_config_set


def per_call_us(statement: Any, number: int) -> float:
    """Best of 5 runs of `number` calls, in microseconds per call."""
    return min(timeit.repeat(statement, number=number, repeat=5)) / number * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    seed = seed_config_set()
    broken = seed_config_set()
    broken["node_id"] = {}
    book = ConsumerBook()
    row = {
        "id": "r",
        "modified_date": "m",
        "project_id": CONSUMERS_PROJECT,
        "object_type": "_consumer",
        "meta": {"status": "active"},
        "data": {"name": "step", "schemas": type_schemas()},
    }
    statuses = seed["contest_status_id"]
    cold = cf._validator("contest_status_id")  # the validator itself, without the memo
    rows = [
        (
            "step: validate a route's set (my tasks, 10 paths, 5 types), memo warm",
            per_call_us(lambda: cf.validate(seed, cf.MY_TASKS), 5000),
        ),
        (
            "step: every path of a broken set (5 types), memo warm",
            per_call_us(lambda: cf.broken_paths(broken, cf.ALL_PATHS), 5000),
        ),
        (
            "jsonschema alone: contest_status_id (8 keys), no memo",
            per_call_us(lambda: error_paths(cold, "contest_status_id", statuses), 2000),
        ),
        (
            "configs: check one write (contest_status_id) against step",
            per_call_us(
                lambda: violations(book.consumers([row]), {"contest_status_id": statuses}), 2000
            ),
        ),
    ]
    lines = [
        "## Config format and consumer checks (`bench/config_format_bench.py`)",
        "",
        "In process, `timeit` best of 5; microseconds per call.",
        "",
        "| what | µs per call |",
        "|---|---:|",
        *(f"| {name} | {us:.1f} |" for name, us in rows),
        "",
        f"Machine: {machine()}.",
        "",
        "Command: `.venv/bin/python bench/config_format_bench.py`",
    ]
    text = "\n".join(lines)
    report(text, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
