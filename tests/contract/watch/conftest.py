"""Two registry instances and two configs instances as separate processes over sockets, on
one migrated database: configs-1 in front of registry-1, configs-2 in front of registry-2
(module-scoped: tests keep apart by using projects of their own).
Nothing but Postgres connects the two sides, so a watcher woken on one side by a write on the
other was woken through Postgres."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from step_platform.devstack.ports import free_ports
from step_platform.devstack.postgres import PostgresServer
from step_platform.devstack.processes import ManagedProcess, serve_argv, wait_http
from step_platform.registry.migrations import migrate

READY_TIMEOUT = 60.0


@dataclass
class Instances:
    registry: list[str]  # base URLs of registry-1, registry-2
    configs: list[str]  # base URLs of configs-1, configs-2
    database_url: str


def _env(**values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DB_", "STEP_DATABASE_URL", "REGISTRY_", "CONFIGS_"))
    }
    env.update({"PYTHONUNBUFFERED": "1", "SECRET_KEY": "watch-tests", "DEBUG": "0"}, **values)
    return env


@pytest.fixture(scope="module")
def instances(
    postgres_server: PostgresServer, user_center, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Instances]:
    name = postgres_server.create_database()
    url = postgres_server.url(name)
    asyncio.run(migrate(url))
    logs: Path = tmp_path_factory.mktemp("watch-logs")
    ports = free_ports(4)
    processes: list[ManagedProcess] = []
    try:
        for n, port in enumerate(ports[:2], 1):
            env = _env(**postgres_server.env(name), ALLOWED_HOSTS="127.0.0.1", INSTANCE_ID=f"r{n}")
            processes.append(
                ManagedProcess(
                    f"registry-{n}", serve_argv("registry", port), env=env,
                    log_path=logs / f"registry-{n}.log",
                )
            )  # fmt: skip
        for n, (port, registry_port) in enumerate(zip(ports[2:], ports[:2], strict=True), 1):
            env = _env(
                REGISTRY_URL=f"http://127.0.0.1:{registry_port}",
                ALLOWED_HOSTS="127.0.0.1",
                INSTANCE_ID=f"c{n}",
                **user_center.env(),
            )
            processes.append(
                ManagedProcess(
                    f"configs-{n}", serve_argv("configs", port), env=env,
                    log_path=logs / f"configs-{n}.log",
                )
            )  # fmt: skip
        for process in processes:
            process.start()
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        deadline = time.monotonic() + READY_TIMEOUT
        for process, base in zip(processes, bases, strict=True):
            wait_http(process, base + "/readyz", deadline=deadline)
        yield Instances(registry=bases[:2], configs=bases[2:], database_url=url)
    finally:
        for process in processes:
            process.stop()
        postgres_server.drop_database(name)
