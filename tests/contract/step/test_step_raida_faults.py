"""Raida down, slow, failing or refusing the token: what a step client sees."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from raida_mock.app import Settings as RaidaSettings
from raida_mock.app import create_app as create_raida
from step_platform.contests.app import create_app
from step_platform.core.app import CommonSettings
from tests.fixtures.step import STEP_BASE_URL, step_settings, step_transports

from .conftest import C_ACTIVE, NODE, T_NEW, World, detail, raida_calls, world_fixture

pytestmark = pytest.mark.anyio

GETS = [
    "/contests/active/",
    "/contests/archive/",
    f"/contests/{C_ACTIVE}/",
    f"/contests/{C_ACTIVE}/task/",
    "/contests/user/my/tasks/",
    "/contests/user/my/history/",
]


@pytest.fixture
async def impatient_client(
    configs_app: Any, raida_app: Any, user_center: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A step service that gives Raida 0.3 s."""
    app = create_app(
        step_settings(
            user_center.public_key_pem,
            common=CommonSettings(instance_id="test", connect_timeout=0.1, timeout=0.2),
        ),
        transports=step_transports(configs_app, raida_app),
    )
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=STEP_BASE_URL) as client:
            yield client


@pytest.mark.parametrize("path", GETS)
async def test_raida_5xx_is_502(
    impatient_client: httpx.AsyncClient, world: World, raida_admin: Any, path: str
) -> None:
    await raida_admin.faults(route="/api/tasks", error_rate=1, error_status=500)
    response = await impatient_client.get(path, headers=world.headers())
    assert response.status_code == 502
    assert detail(response) == {
        "code": "UPSTREAM_ERROR",
        "message": "Сервис raida ответил ошибкой.",
        "upstream": "raida",
    }


@pytest.mark.parametrize("path", GETS)
async def test_slow_raida_is_504(
    impatient_client: httpx.AsyncClient, world: World, raida_admin: Any, path: str
) -> None:
    await raida_admin.faults(route="/api/tasks", latency_ms=1000)
    response = await impatient_client.get(path, headers=world.headers())
    assert response.status_code == 504
    assert detail(response)["code"] == "UPSTREAM_TIMEOUT"
    assert detail(response)["upstream"] == "raida"


@pytest.mark.parametrize("path", GETS)
async def test_raida_dropping_connections_is_503(
    impatient_client: httpx.AsyncClient, world: World, raida_admin: Any, path: str
) -> None:
    await raida_admin.faults(route="/api/tasks", drop_next=10)
    response = await impatient_client.get(path, headers=world.headers())
    assert response.status_code == 503
    assert detail(response)["code"] == "UPSTREAM_UNAVAILABLE"
    assert detail(response)["upstream"] == "raida"


async def test_a_raida_outage_is_not_reported_as_contest_not_found(
    impatient_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    await raida_admin.faults(route="/api/tasks", method="GET", fail_next=1, error_status=503)
    response = await impatient_client.post(
        "/contests/user/my/task/", json={"contest_id": C_ACTIVE}, headers=world.headers()
    )
    assert response.status_code == 502


async def test_a_failed_withdraw_patch_is_502(
    impatient_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    await raida_admin.faults(route="/api/tasks", method="PATCH", fail_next=1, error_status=500)
    response = await impatient_client.delete(
        f"/contests/user/my/task/{T_NEW}/", headers=world.headers()
    )
    assert response.status_code == 502


async def test_a_refused_service_token_is_502(
    impatient_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    await raida_admin.faults(route="/api/users/token", fail_next=1, error_status=401)
    response = await impatient_client.get("/contests/active/", headers=world.headers())
    assert response.status_code == 502
    assert detail(response)["upstream"] == "raida"
    second = await impatient_client.get("/contests/active/", headers=world.headers())
    assert second.status_code == 200


async def test_an_expired_service_token_is_renewed_transparently(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    assert (await step_client.get("/contests/active/", headers=world.headers())).status_code == 200
    await raida_admin.revoke_tokens()
    await raida_admin.clear_journal()
    response = await step_client.get("/contests/active/", headers=world.headers())
    assert response.status_code == 200
    assert [p for _, p in await raida_calls(raida_admin, tokens=True)] == [
        f"/api/tasks/rql/{NODE}",
        "/api/users/token/",
        f"/api/tasks/rql/{NODE}",
    ]


async def test_raida_recovers_after_a_fault(
    impatient_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    await raida_admin.faults(route="/api/tasks", fail_next=1, error_status=500)
    first = await impatient_client.get("/contests/active/", headers=world.headers())
    second = await impatient_client.get("/contests/active/", headers=world.headers())
    assert (first.status_code, second.status_code) == (502, 200)


async def test_a_short_lived_service_token_is_fetched_again_when_it_expires(
    configs_app: Any, user_center: Any, world: World
) -> None:
    raida = create_raida(RaidaSettings(token_ttl=1))
    async with LifespanManager(raida) as raida_manager:
        admin = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=raida_manager.app), base_url="http://raida.test"
        )
        app = create_app(
            step_settings(user_center.public_key_pem),
            transports=step_transports(configs_app, raida_manager.app),
        )
        async with admin, LifespanManager(app) as manager:
            assert (await admin.post("/__admin/seed", json=world_fixture())).is_success
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url=STEP_BASE_URL) as client:
                for pause in (0, 0, 1.0):
                    await asyncio.sleep(pause)
                    response = await client.get("/contests/active/", headers=world.headers())
                    assert response.status_code == 200
            journal = (await admin.get("/__admin/journal")).json()["entries"]
    token, search = "/api/users/token/", f"/api/tasks/rql/{NODE}"
    assert [(e["path"], e["status"]) for e in journal] == [
        (token, 200),
        (search, 200),
        (search, 200),
        (token, 200),  # expires_in 1 s: fetched again before Raida would refuse it
        (search, 200),
    ]
