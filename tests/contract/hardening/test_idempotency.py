"""`Idempotency-Key`: the same key and request replays the first answer without writing
again; the same key with another request is 422. Registry (Postgres, across instances),
configs and step (join, send_solution)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from step_platform.core.app import CommonSettings
from step_platform.registry.app import Settings, create_app
from tests.contract.step.conftest import C_ACTIVE, STRANGER, T_NEW, World, live_applications
from tests.contract.step.test_step_send_solution import SENT, solution_file

pytestmark = pytest.mark.anyio

P = "e3eb60a2-3bb7-4983-8e2f-47490b979eb9"


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def rows(registry_client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return (await registry_client.get("/api/configs/")).json()


# --- registry ------------------------------------------------------------------------------


async def test_registry_create_repeated_with_its_key_is_replayed_not_written(
    registry_client: httpx.AsyncClient,
) -> None:
    headers = key()
    first = await registry_client.post("/api/config/", json={"project_id": P}, headers=headers)
    again = await registry_client.post("/api/config/", json={"project_id": P}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(await rows(registry_client)) == 1


async def test_registry_key_reused_with_another_body_is_422(
    registry_client: httpx.AsyncClient,
) -> None:
    headers = key()
    await registry_client.post("/api/config/", json={"project_id": P}, headers=headers)
    other = await registry_client.post(
        "/api/config/", json={"project_id": P, "data": {"x": 1}}, headers=headers
    )
    assert other.status_code == 422
    assert other.json()["detail"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(await rows(registry_client)) == 1


async def test_registry_without_a_key_writes_every_time(
    registry_client: httpx.AsyncClient,
) -> None:
    for _ in range(2):
        await registry_client.post("/api/config/", json={"project_id": P})
    assert len(await rows(registry_client)) == 2


async def test_registry_concurrent_repeats_write_once_and_answer_alike(
    registry_client: httpx.AsyncClient,
) -> None:
    headers = key()
    body = [{"project_id": P, "data": {"n": n}} for n in range(3)]
    answers = await asyncio.gather(
        *(registry_client.post("/api/configs/", json=body, headers=headers) for _ in range(8))
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.content for a in answers}) == 1
    assert len(await rows(registry_client)) == 3


async def test_registry_patch_and_delete_are_replayed_without_a_second_write(
    registry_client: httpx.AsyncClient,
) -> None:
    created = (await registry_client.post("/api/config/", json={"project_id": P})).json()
    url = f"/api/config/{created['id']}/"
    patch_key, delete_key = key(), key()
    first = await registry_client.patch(url, json={"data": {"a": 1}}, headers=patch_key)
    again = await registry_client.patch(url, json={"data": {"a": 1}}, headers=patch_key)
    assert again.headers["etag"] == first.headers["etag"]
    gone = await registry_client.delete(url, headers=delete_key)
    again = await registry_client.delete(url, headers=delete_key)
    assert again.headers["etag"] == gone.headers["etag"]
    assert (await registry_client.get(url)).headers["etag"] == gone.headers["etag"]


async def test_registry_a_refused_write_is_replayed_as_refused(
    registry_client: httpx.AsyncClient,
) -> None:
    headers = key()
    first = await registry_client.post("/api/config/", json={"project_id": "x"}, headers=headers)
    again = await registry_client.post("/api/config/", json={"project_id": "x"}, headers=headers)
    assert first.status_code == again.status_code == 400
    assert again.content == first.content


async def test_registry_keys_hold_across_instances(
    registry_client: httpx.AsyncClient, registry_database_url: str
) -> None:
    headers = key()
    first = await registry_client.post("/api/config/", json={"project_id": P}, headers=headers)
    other = create_app(
        Settings(database_url=registry_database_url, common=CommonSettings(instance_id="other"))
    )
    async with (
        LifespanManager(other) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://registry.test"
        ) as client,
    ):
        again = await client.post("/api/config/", json={"project_id": P}, headers=headers)
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert len(await rows(registry_client)) == 1


@pytest.mark.parametrize("value", [b"", b"a b", b"x" * 256, "ключ".encode()])
async def test_registry_an_invalid_key_is_400(
    registry_client: httpx.AsyncClient, value: bytes
) -> None:
    response = await registry_client.post(
        "/api/config/", json={"project_id": P}, headers={"Idempotency-Key": value}
    )
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "INVALID_HEADER"
    assert await rows(registry_client) == []


# --- configs -------------------------------------------------------------------------------


async def test_configs_create_repeated_with_its_key_calls_the_registry_once(
    configs_client: httpx.AsyncClient,
    writer: dict[str, str],
    registry_calls: list[httpx.Request],
) -> None:
    headers = {**writer, **key()}
    body = {"project_id": P, "object_type": "node_id", "data": {"v": 1}}
    first = await configs_client.post("/configs/", json=body, headers=headers)
    calls = len(registry_calls)
    again = await configs_client.post("/configs/", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert len(registry_calls) == calls


async def test_configs_key_reused_with_another_body_is_422(
    configs_client: httpx.AsyncClient, writer: dict[str, str]
) -> None:
    headers = {**writer, **key()}
    body = {"project_id": P, "object_type": "node_id", "data": {"v": 1}}
    await configs_client.post("/configs/", json=body, headers=headers)
    other = await configs_client.post("/configs/", json={**body, "data": {"v": 2}}, headers=headers)
    assert other.status_code == 422


async def test_configs_a_write_without_credentials_is_401_whatever_its_key(
    configs_client: httpx.AsyncClient, writer: dict[str, str]
) -> None:
    # neither a reused key (422) nor an invalid one (400) comes before the missing token
    headers = {k: v for k, v in writer.items() if k != "Authorization"}
    body = {"project_id": P, "object_type": "node_id", "data": {"v": 1}}
    shared = key()
    first = await configs_client.post("/configs/", json=body, headers={**headers, **shared})
    other = await configs_client.post(
        "/configs/", json={**body, "data": {"v": 2}}, headers={**headers, **shared}
    )
    invalid = await configs_client.post(
        "/configs/", json=body, headers={**headers, "Idempotency-Key": ""}
    )
    assert [first.status_code, other.status_code, invalid.status_code] == [401, 401, 401]


# --- step ----------------------------------------------------------------------------------


async def test_step_join_repeated_with_its_key_creates_one_application(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    headers = {**world.headers(STRANGER), **key()}
    body = {"contest_id": C_ACTIVE}
    first = await step_client.post("/contests/user/my/task/", json=body, headers=headers)
    again = await step_client.post("/contests/user/my/task/", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert len(await live_applications(raida_admin, STRANGER, C_ACTIVE)) == 1


async def test_step_send_repeated_with_its_key_is_replayed(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    headers = {**world.headers(), **key()}
    path = "/contests/user/my/task/send_solution"
    answers = [
        await step_client.post(
            path, data={"task_id": T_NEW}, files=solution_file(), headers=headers
        )
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[1].json() == SENT
    assert answers[1].headers["idempotent-replayed"] == "true"


async def test_step_keys_of_two_users_never_share_an_answer(
    step_client: httpx.AsyncClient, world: World
) -> None:
    shared = key()
    body = {"contest_id": C_ACTIVE}
    mine = await step_client.post(
        "/contests/user/my/task/", json=body, headers={**world.headers(STRANGER), **shared}
    )
    theirs = await step_client.post(
        "/contests/user/my/task/", json=body, headers={**world.headers(), **shared}
    )
    assert mine.status_code == 201
    assert "idempotent-replayed" not in theirs.headers


async def test_step_a_write_without_credentials_is_401_whatever_its_key(
    step_client: httpx.AsyncClient, world: World
) -> None:
    # a key already used (by another anonymous request) does not turn the 401 into a 422
    shared = key()
    headers = {k: v for k, v in world.headers().items() if k != "Authorization"}
    join = await step_client.post(
        "/contests/user/my/task/", json={"contest_id": C_ACTIVE}, headers={**headers, **shared}
    )
    send = await step_client.post(
        "/contests/user/my/task/send_solution",
        data={"task_id": T_NEW},
        files=solution_file(),
        headers={**headers, **shared},
    )
    assert [join.status_code, send.status_code] == [401, 401]
    assert send.json()["detail"]["code"] == "TOKEN_MISSING"
