"""One overall deadline per step request (STEP_REQUEST_DEADLINE): past it, 504
`DEADLINE_EXCEEDED` from step itself and no half-done send."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from step_platform.contests.app import Settings, create_app
from step_platform.core.app import CommonSettings
from step_platform.devstack.nginx import Site
from tests.contract.step.conftest import C_ACTIVE, STRANGER, T_NEW, TS, World, raida_task
from tests.contract.step.test_step_send_solution import solution_file
from tests.fixtures.step import STEP_BASE_URL, step_settings, step_transports

pytestmark = pytest.mark.anyio

DEADLINE = 1.0
CALL_LATENCY_MS = 400  # each call within its own timeout, a chain of them past the deadline


@pytest.fixture
async def hurried_client(
    configs_app: Any, raida_app: Any, user_center: Any
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        step_settings(
            user_center.public_key_pem,
            common=CommonSettings(instance_id="test", connect_timeout=1.0, timeout=2.0),
            request_deadline=DEADLINE,
        ),
        transports=step_transports(configs_app, raida_app),
    )
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=STEP_BASE_URL) as client:
            yield client


def assert_deadline(response: httpx.Response, elapsed: float) -> None:
    assert response.status_code == 504, response.text
    detail = response.json()["detail"]
    assert detail["code"] == "DEADLINE_EXCEEDED"
    assert detail["deadline"] == DEADLINE
    assert elapsed < DEADLINE + 0.5


async def test_a_slow_join_is_504_at_the_deadline(
    hurried_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    await raida_admin.faults(route="/api/tasks", latency_ms=CALL_LATENCY_MS)
    started = time.monotonic()
    response = await hurried_client.post(
        "/contests/user/my/task/", json={"contest_id": C_ACTIVE}, headers=world.headers(STRANGER)
    )
    assert_deadline(response, time.monotonic() - started)


async def test_a_send_past_the_deadline_is_504_and_undone(
    hurried_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    await raida_admin.faults(route="/api/tasks", latency_ms=CALL_LATENCY_MS)
    started = time.monotonic()
    response = await hurried_client.post(
        "/contests/user/my/task/send_solution",
        data={"task_id": T_NEW},
        files=solution_file(),
        headers=world.headers(),
    )
    assert_deadline(response, time.monotonic() - started)
    await raida_admin.clear_faults()
    for _ in range(100):  # the undo finishes in the background, after the answer
        task = await raida_task(raida_admin, T_NEW)
        if task["status"]["id"] != TS["completed"]:
            break
        await asyncio.sleep(0.05)
    assert task["status"]["id"] == TS["new"]
    assert task["attachments"] == []


def test_the_deadline_defaults_to_three_calls_with_their_timeouts(user_center: Any) -> None:
    settings = Settings.from_env(
        {
            "BASE_URL": "http://raida",
            "USER_RAIDA": "u",
            "PASSWD_RAIDA": "p",
            "ACCESS_TOKEN_PUBLIC_KEY": user_center.public_key_pem,
            "JWT_ALGORITHM": "RS256",
            "CONFIGS_SERVICE_URL": "http://configs/",
            "DJANGO_ALLOWED_HOSTS": "*",
            "SECRET_KEY": "s",
            "UPSTREAM_TIMEOUT": "10",
        }
    )
    assert settings.deadline == 3 * (2.0 + 10.0)


def test_nginx_waits_longer_than_the_step_deadline() -> None:
    assert Site(upstream_timeout=10).proxy_read_timeout == 46
    assert Site(upstream_timeout=10, request_deadline=50).proxy_read_timeout == 60


async def test_readyz_fails_when_raida_stops_answering_despite_a_cached_token(
    step_client: httpx.AsyncClient, raida_admin: Any
) -> None:
    assert (await step_client.get("/readyz")).status_code == 200  # the token is now cached
    await raida_admin.faults(route="/api/users/token", latency_ms=5000)
    started = time.monotonic()
    response = await step_client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["raida"].startswith("fail")
    assert time.monotonic() - started < 4.0


def test_a_stack_setting_the_step_deadline_renders_nginx_longer(tmp_path: Any) -> None:
    from step_platform.devstack.ports import PortMap
    from step_platform.devstack.stack import Stack, StackConfig

    config = StackConfig(
        ports=PortMap.free(),
        state_dir=tmp_path,
        service_env={"step": {"STEP_REQUEST_DEADLINE": "55"}},
    )
    assert Stack(config).nginx_site().proxy_read_timeout == 65
