"""pytest plugin of the testing kit (entry point `pytest11`: loaded wherever the package is).

Fixtures (session-scoped, each started once and removed at the end):

- `step_backend`: where `step_chain` runs: `--step-backend`, else `STEP_STACK_BACKEND`,
  else `docker` (containers; a missing daemon is a loud error, never a silent skip);
- `step_chain`: the whole chain (`ChainContainers` or local processes), one step instance,
  the seed's config set, on free ports;
- `raida_mock`: a `RaidaMockContainer`; faults are cleared after each test that used it;
- `user_center_mock`: a `UserCenterMockContainer`.

Nothing heavy is imported until a fixture is used, so the plugin costs nothing to projects
that install step-platform without the `testing` extra.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .containers import RaidaMockContainer, UserCenterMockContainer


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("step-platform", "step-platform testing kit")
    group.addoption(
        "--step-backend",
        choices=("docker", "local"),
        default=None,
        help="where the step_chain fixture runs the chain (default: STEP_STACK_BACKEND, "
        "else docker)",
    )


@pytest.fixture(scope="session")
def step_backend(pytestconfig: pytest.Config) -> str:
    chosen = pytestconfig.getoption("--step-backend") or os.environ.get("STEP_STACK_BACKEND")
    return (chosen or "docker").strip().lower()


@pytest.fixture(scope="session")
def step_chain(step_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from .chain import start_chain

    chain = start_chain(step_backend, state_dir=tmp_path_factory.mktemp("step-chain"))
    try:
        yield chain
    finally:
        chain.stop()


@pytest.fixture(scope="session")
def _raida_mock_session() -> Iterator[RaidaMockContainer]:
    from .containers import RaidaMockContainer

    with RaidaMockContainer() as raida:
        yield raida


@pytest.fixture
def raida_mock(_raida_mock_session: RaidaMockContainer) -> Iterator[RaidaMockContainer]:
    try:
        yield _raida_mock_session
    finally:
        _raida_mock_session.clear_faults()


@pytest.fixture(scope="session")
def user_center_mock() -> Iterator[UserCenterMockContainer]:
    from .containers import UserCenterMockContainer

    with UserCenterMockContainer() as user_center:
        yield user_center
