"""Step as a registered consumer of configs: it registers itself, and writes that would break
it never reach it (the property tests of issue "consumer contracts")."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import ASGIApp

from step_platform.contests.config_format import ALL_PATHS, REQUIRED, type_schemas
from step_platform.contests.registration import Registration
from step_platform.testing.strategies import broken_config_sets, config_sets, raida_seeds
from tests.fixtures.step import LifespanState, running_step

from .conftest import USER

pytestmark = pytest.mark.anyio

WRITE_ROLE = "configs:write"
STEP_TYPES = tuple(REQUIRED)
# routes that read configs and Raida only (no body, no ids of the world)
READ_ROUTES = (
    "/contests/active/",
    "/contests/archive/",
    "/contests/user/my/tasks/",
    "/contests/user/my/history/",
)


class FlakyTransport(httpx.AsyncBaseTransport):
    """The real configs service behind a connection that fails the first `failures` times."""

    def __init__(self, inner: httpx.AsyncBaseTransport, failures: int) -> None:
        self.inner = inner
        self.failures = failures

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.failures > 0:
            self.failures -= 1
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


async def settled(app: LifespanState, timeout: float = 10.0) -> str:
    """The registration's final state, waiting for the background task."""
    async with asyncio.timeout(timeout):
        while registered(app).state == "pending":
            await asyncio.sleep(0.01)
    return registered(app).state


def registered(app: LifespanState) -> Registration:
    registration = app.registration
    assert registration is not None
    return registration


@pytest.fixture
async def service_token(user_center: Any) -> str:
    return await user_center.token(roles=(WRITE_ROLE,))


@pytest.fixture
async def writer(user_center: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {await user_center.token(user_id=USER, roles=(WRITE_ROLE,))}"}


@pytest.fixture
async def registered_step(
    configs_app: ASGIApp, raida_app: ASGIApp, user_center: Any, service_token: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with running_step(configs_app, raida_app, user_center.public_key_pem, service_token) as (
        app,
        client,
    ):
        assert await settled(app) == "registered"
        yield client


async def consumers(configs_client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict]:
    response = await configs_client.get("/configs/_consumers/", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["consumers"]


# --- registration at start-up ---------------------------------------------------------------


async def test_step_registers_its_published_schemas_at_start_up(
    registered_step, configs_client, writer
):
    (consumer,) = await consumers(configs_client, writer)
    assert consumer["name"] == "step"
    assert consumer["schemas"] == type_schemas()


async def test_step_serves_the_schemas_it_registers(registered_step):
    response = await registered_step.get("/config-schema/")
    assert response.status_code == 200
    assert response.json() == {"schemas": type_schemas()}


async def test_without_a_token_step_warns_once_and_does_not_register(
    configs_app, raida_app, user_center, configs_client, writer, caplog
):
    with caplog.at_level(logging.WARNING, logger="step_platform.contests.registration"):
        async with running_step(configs_app, raida_app, user_center.public_key_pem, "") as (
            app,
            client,
        ):
            assert (await client.get("/healthz")).status_code == 200
            assert app.registration is None
    warnings = [r for r in caplog.records if "CONFIGS_SERVICE_TOKEN" in r.getMessage()]
    assert len(warnings) == 1
    assert await consumers(configs_client, writer) == []


async def test_registration_is_retried_until_the_configs_service_answers(
    configs_app, raida_app, user_center, service_token, configs_client, writer
):
    async with running_step(
        configs_app,
        raida_app,
        user_center.public_key_pem,
        service_token,
        wrap=lambda inner: FlakyTransport(inner, failures=3),
    ) as (app, _):
        assert await settled(app) == "registered"
        assert registered(app).attempts == 4
    assert [c["name"] for c in await consumers(configs_client, writer)] == ["step"]


async def test_an_unreachable_configs_service_does_not_hold_up_start_up(
    configs_app, raida_app, user_center, service_token
):
    async with asyncio.timeout(5):
        async with running_step(
            configs_app,
            raida_app,
            user_center.public_key_pem,
            service_token,
            wrap=lambda inner: FlakyTransport(inner, failures=10**9),
        ) as (app, client):
            assert (await client.get("/healthz")).status_code == 200
            await asyncio.sleep(0.1)
            assert registered(app).state == "pending"
            assert registered(app).attempts >= 2


async def test_a_token_without_the_write_role_is_refused_once_and_not_retried(
    configs_app, raida_app, user_center, configs_client, writer, caplog
):
    token = await user_center.token()
    with caplog.at_level(logging.ERROR, logger="step_platform.contests.registration"):
        async with running_step(configs_app, raida_app, user_center.public_key_pem, token) as (
            app,
            _,
        ):
            assert await settled(app) == "refused"
            assert registered(app).attempts == 1
    assert any("403" in r.getMessage() for r in caplog.records)
    assert await consumers(configs_client, writer) == []


async def test_every_instance_registers_and_one_registration_results(
    registered_step, configs_app, raida_app, user_center, service_token, registry_client
):
    async with running_step(configs_app, raida_app, user_center.public_key_pem, service_token) as (
        app,
        _,
    ):
        assert await settled(app) == "registered"
    rows = await registry_client.get("/api/configs/", params={"object_type": "_consumer"})
    assert len(rows.json()) == 1


# --- the property tests ---------------------------------------------------------------------


async def write_set(
    configs_client: httpx.AsyncClient, headers: dict[str, str], data: dict[str, Any]
) -> None:
    for type_name in STEP_TYPES:
        body = {"project_id": headers["Project-ID"], "object_type": type_name}
        response = await configs_client.post(
            "/configs/", json={**body, "data": data[type_name]}, headers=headers
        )
        assert response.status_code == 201, response.text


async def step_answers_200(step: httpx.AsyncClient, headers: dict[str, str]) -> None:
    for path in READ_ROUTES:
        response = await step.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)


def with_world(valid: dict[str, Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    """(a valid set, the same set broken, a Raida world of the valid set's ids)."""
    return st.tuples(
        st.just(valid), broken_config_sets(base=st.just(valid)), raida_seeds(valid, max_contests=3)
    )


@settings(max_examples=15)
@given(world=config_sets().flatmap(lambda c: st.tuples(st.just(c), raida_seeds(c, max_contests=3))))
async def test_every_valid_set_is_accepted_and_step_serves_it(
    registered_step, configs_client, writer, raida_admin, user_center, world
):
    data, seed = world
    await raida_admin.seed(seed)
    headers = {**writer, "Project-ID": str(uuid.uuid4())}
    await write_set(configs_client, headers, data)
    await step_answers_200(registered_step, headers)


@settings(max_examples=30)
@given(case=config_sets().flatmap(with_world))
async def test_every_broken_set_is_refused_with_steps_paths_and_step_never_sees_it(
    registered_step, configs_client, writer, raida_admin, case
):
    valid, broken, seed = case
    await raida_admin.seed(seed)
    headers = {**writer, "Project-ID": str(uuid.uuid4())}
    await write_set(configs_client, headers, valid)

    refused: list[str] = []
    for type_name in STEP_TYPES:
        if type_name in broken.data:
            response = await configs_client.put(
                f"/configs/{type_name}/", json={"data": broken.data[type_name]}, headers=headers
            )
        else:
            response = await configs_client.delete(f"/configs/{type_name}/", headers=headers)
        if response.status_code == 422:
            detail = response.json()["detail"]
            assert detail["code"] == "BREAKS_CONSUMER"
            (found,) = detail["violations"]
            assert (found["consumer"], found["type"]) == ("step", type_name)
            refused += found["paths"]
        else:
            assert response.status_code == 200, response.text
    order = [p for path in ALL_PATHS for p in (path.split(".", 1)[0], path)]
    assert sorted(refused, key=order.index) == list(broken.paths)

    stored = await configs_client.get("/configs/", headers=headers)
    assert {t: stored.json()["data"][t] for t in STEP_TYPES} == {t: valid[t] for t in STEP_TYPES}
    await step_answers_200(registered_step, headers)
