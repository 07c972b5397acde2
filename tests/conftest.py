"""Shared test set-up: fixture plugins (one module per component), anyio, hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

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
