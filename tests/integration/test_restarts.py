"""Services stopped and started again under nginx: clear answers meanwhile, recovery after.

A small stack of its own (registry, user-center-mock, configs, nginx; no step behind the step
block), since these tests stop things the other tests need.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from step_platform.devstack.postgres import PostgresServer
from step_platform.devstack.stack import Stack

from .conftest import Edge, make_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def small(
    backend: str, postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    stack = make_stack(
        backend,
        postgres_server,
        tmp_path_factory.mktemp("small"),
        step_instances=1,
        only=frozenset({"registry", "user-center-mock", "configs"}),
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def configs(small: Stack) -> Iterator[httpx.Client]:
    token = small.token(str(uuid.uuid4()))
    with Edge(small).configs(token) as client:
        yield client


def test_configs_answers_503_while_the_registry_is_down_and_recovers(
    small: Stack, configs: httpx.Client
) -> None:
    assert configs.get("/configs/node_id/").status_code == 200
    small.stop_service("registry")
    try:
        down = configs.get("/configs/node_id/")
        not_ready = configs.get("/readyz")
    finally:
        small.start_service("registry")
    assert down.status_code == 503
    assert down.json()["detail"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert down.json()["detail"]["upstream"] == "registry"
    assert down.headers["x-served-by"].startswith("configs/")
    assert not_ready.status_code == 503
    back = configs.get("/configs/node_id/")  # same configs process: no restart
    assert back.status_code == 200
    assert configs.get("/readyz").status_code == 200


def test_a_stopped_service_is_nginxs_502_envelope_and_comes_back(
    small: Stack, configs: httpx.Client
) -> None:
    small.stop_service("configs")
    try:
        down = configs.get("/configs/node_id/")
    finally:
        small.start_service("configs")
    assert down.status_code == 502
    assert down.headers["x-served-by"] == "edge/nginx"
    assert down.json()["detail"] == {
        "code": "UPSTREAM_ERROR",
        "message": "Сервис configs недоступен или ответил ошибкой.",
        "upstream": "configs",
    }
    assert down.headers["x-request-id"]
    assert configs.get("/configs/node_id/").status_code == 200


def test_no_step_behind_its_block_is_nginxs_502_for_step(small: Stack) -> None:
    for name in small.step_names():  # none runs in this stack: stopping is a no-op
        small.stop_service(name)
    with Edge(small).step() as client:
        response = client.get("/contests/active/")
    assert response.status_code == 502
    assert response.json()["detail"]["upstream"] == "step"
