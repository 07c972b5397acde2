"""The full chain for the integration tests, started once per session by devstack.

The backend is chosen by `devstack.backend.choose_backend` (containers from `deploy/` when a
Docker daemon answers, local processes otherwise) and printed. Local processes use free ports,
so the tests run beside a demo. The main chain has two step instances behind nginx, a 2 s
upstream timeout (the slow-Raida test stays short) and a 1 MiB upload limit (the edge's body
limit is then 2 MiB, cheap to exceed).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from step_platform.devstack.backend import choose_backend
from step_platform.devstack.ports import PortMap
from step_platform.devstack.postgres import PostgresServer
from step_platform.devstack.simulators import RaidaAdmin
from step_platform.devstack.stack import MIB, Stack, StackConfig

UPLOAD_LIMIT = 1 * MIB
UPSTREAM_TIMEOUT = 2.0


def announce(config: pytest.Config, text: str) -> None:
    """Print past pytest's output capture, so the choice shows in every run."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    if capture is None:
        reporter.write_line(text)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(text)


@pytest.fixture(scope="session")
def backend(pytestconfig: pytest.Config) -> str:
    name, reason = choose_backend(os.environ)
    announce(pytestconfig, f"\nintegration stack: {name} ({reason})")
    return name


def make_stack(
    backend: str,
    postgres_server: PostgresServer,
    tmp: Path,
    *,
    step_instances: int,
    registry_instances: int = 0,
    configs_instances: int = 0,
    only: frozenset[str] | None = None,
) -> Stack:
    """A stack on free ports in `tmp`; `only` limits the local processes (compose runs all)."""
    config = StackConfig(
        ports=PortMap.free(
            step_instances=step_instances,
            registry_instances=registry_instances,
            configs_instances=configs_instances,
        ),
        state_dir=tmp / "state",
        database=None,
        upstream_timeout=UPSTREAM_TIMEOUT,
        max_upload_bytes=UPLOAD_LIMIT,
        persist_raida=False,
        ready_timeout=120.0,
        only=only,
    )
    if backend == "docker":
        from step_platform.devstack.compose import ComposeStack

        return ComposeStack(config)  # type: ignore[return-value]
    return Stack(config, postgres=postgres_server)


@pytest.fixture(scope="session")
def chain(
    backend: str, postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The whole chain, two step instances behind nginx, for every test that only reads it."""
    stack = make_stack(backend, postgres_server, tmp_path_factory.mktemp("chain"), step_instances=2)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@dataclass
class Edge:
    """Requests through nginx with the Host header of one server block."""

    stack: Stack

    def client(self, host: str, **headers: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.stack.edge_url,
            headers={"Host": host, **headers},
            timeout=30.0,
            trust_env=False,
        )

    def step(self, token: str | None = None, project_id: str | None = None) -> httpx.Client:
        return self.client(self.stack.config.step_host, **_auth(self.stack, token, project_id))

    def configs(self, token: str | None = None, project_id: str | None = None) -> httpx.Client:
        return self.client(self.stack.config.configs_host, **_auth(self.stack, token, project_id))


def _auth(stack: Stack, token: str | None, project_id: str | None) -> dict[str, str]:
    headers = {"Project-ID": project_id or stack.config.project_id}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


@pytest.fixture(scope="session")
def edge(chain: Stack) -> Edge:
    return Edge(chain)


@pytest.fixture
def user_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def token(chain: Stack, user_id: str) -> str:
    return chain.token(user_id)


@contextmanager
def raida_admin(stack: Stack) -> Iterator[RaidaAdmin]:
    """raida-mock's Raida API and admin routes of `stack`; faults are cleared at the end."""
    admin = RaidaAdmin(
        stack.url("raida-mock"), stack.config.raida_user, stack.config.raida_password
    )
    try:
        yield admin
    finally:
        admin.clear_faults()


@pytest.fixture
def raida(chain: Stack) -> Iterator[RaidaAdmin]:
    """raida-mock of the main chain; faults are cleared after each test."""
    with raida_admin(chain) as admin:
        yield admin
