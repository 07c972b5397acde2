"""Shared test set-up: fixture plugins (one module per component), anyio, hypothesis."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from step_platform.devstack.backend import choose_backends

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.registry",
    "tests.fixtures.simulators",
    "tests.fixtures.configs",
    "tests.fixtures.step",
]

# Shared CI machines are noisy: no per-example deadline .
settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


# --- containers: tests/containers and tests/consumer need a Docker daemon ------------------
# STEP_STACK_BACKEND=local is the explicit opt-out; it is said in the header, never silent.
CONTAINER_DIRS = ("containers", "consumer")


def _containers_opted_out() -> bool:
    return "docker" not in choose_backends(os.environ)[0]


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    here = Path(__file__).parent
    if collection_path.parent == here and collection_path.name in CONTAINER_DIRS:
        return True if _containers_opted_out() else None
    return None


def pytest_report_header(config: pytest.Config) -> str:
    if _containers_opted_out():
        return "container tests: not collected (STEP_STACK_BACKEND=local opts out)"
    return "container tests: tests/containers, tests/consumer and the [docker] integration runs"
