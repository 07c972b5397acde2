"""REGISTRY_API_TOKEN: when set, every registry request needs it and the configs service
sends it; unset, the registry stays open (the original's behaviour)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from step_platform.configs.app import create_app as create_configs
from step_platform.core.app import CommonSettings
from step_platform.registry.app import Settings, create_app
from tests.fixtures.configs import configs_settings

pytestmark = pytest.mark.anyio

TOKEN = "s3cret-registry-token"
P = "e3eb60a2-3bb7-4983-8e2f-47490b979eb9"


@pytest.fixture
async def guarded_registry(
    registry_app: Starlette, registry_database_url: str
) -> AsyncIterator[Any]:
    app = create_app(
        Settings(
            database_url=registry_database_url,
            common=CommonSettings(allowed_hosts=("*",)),
            api_token=TOKEN,
        )
    )
    async with LifespanManager(app) as manager:
        yield manager.app


def client(app: Any, base_url: str, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=base_url, headers=headers
    )


async def test_without_the_token_every_registry_request_is_401(guarded_registry: Any) -> None:
    async with client(guarded_registry, "http://registry.test") as anonymous:
        response = await anonymous.get("/api/configs/")
        wrong = await anonymous.get("/api/configs/", headers={"Authorization": "Bearer nope"})
        write = await anonymous.post("/api/config/", json={"project_id": P})
    assert response.status_code == 401
    assert response.json()["detail"]["code"] == "TOKEN_MISSING"
    assert response.headers["www-authenticate"] == "Bearer"
    assert wrong.json()["detail"]["code"] == "TOKEN_INCORRECT"
    assert write.status_code == 401


async def test_with_the_token_the_registry_answers(guarded_registry: Any) -> None:
    async with client(
        guarded_registry, "http://registry.test", Authorization=f"Bearer {TOKEN}"
    ) as trusted:
        assert (await trusted.post("/api/config/", json={"project_id": P})).status_code == 201
        assert len((await trusted.get("/api/configs/")).json()) == 1


async def test_health_and_metrics_stay_open_for_probes_and_scrapers(
    guarded_registry: Any,
) -> None:
    async with client(guarded_registry, "http://registry.test") as anonymous:
        assert (await anonymous.get("/healthz")).status_code == 200
        assert (await anonymous.get("/readyz")).status_code == 200
        assert (await anonymous.get("/metrics")).status_code == 200


async def test_the_configs_service_sends_the_token(
    guarded_registry: Any, user_center: Any, writer: dict[str, str]
) -> None:
    settings = configs_settings(user_center.public_key_pem, registry_token=TOKEN)
    configs = create_configs(
        settings, transports={"registry": httpx.ASGITransport(app=guarded_registry)}
    )
    async with LifespanManager(configs) as manager, client(manager.app, "http://configs.test") as c:
        body = {"project_id": P, "object_type": "node_id", "data": {"v": 1}}
        response = await c.post("/configs/", json=body, headers=writer)
    assert response.status_code == 201, response.text


async def test_unset_the_registry_is_open(registry_client: httpx.AsyncClient) -> None:
    assert (await registry_client.get("/api/configs/")).status_code == 200
