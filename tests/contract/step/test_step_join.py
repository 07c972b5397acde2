"""Route 8: apply to a contest; exactly one live application per user and contest."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from step_platform.contests.app import create_app
from tests.fixtures.step import STEP_BASE_URL, step_settings, step_transports

from .conftest import (
    C_ACTIVE,
    C_DONE_REJECTED,
    C_VOTING,
    NODE,
    ROUND_TRIP_MS,
    STRANGER,
    T_NEW,
    TASK_PROCESS,
    TS,
    World,
    detail,
    live_applications,
    raida_calls,
    raida_depth,
)

pytestmark = pytest.mark.anyio

EXISTS = {
    "detail": {
        "code": "ENTITY_EXISTS",
        "message": "Задача для участия в конкурсе уже существует.",
    },
    "info": {"api_version": "0.0.1"},
}


async def test_applying_creates_a_new_application(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    response = await step_client.post(
        "/contests/user/my/task/", json={"contest_id": C_ACTIVE}, headers=world.headers(STRANGER)
    )
    assert response.status_code == 201
    body = response.json()
    assert body["detail"] == {"code": "OK", "message": "Заявка на конкурс создана"}
    assert body["info"] == {"api_version": "0.0.1"}
    data = body["data"]
    assert list(data) == ["task_id", "status", "contest_id", "user_id"]
    assert data["status"] == "Новая"
    assert data["contest_id"] == C_ACTIVE
    assert data["user_id"] == STRANGER
    [task] = await live_applications(raida_admin, STRANGER, C_ACTIVE)
    assert task["id"] == data["task_id"]
    assert task["status"]["id"] == TS["new"]
    assert task["custom_fields"] == {
        "cf_konkurs_link": "",
        "cf_award": "",
        "cf_brief": "",
        "cf_startdate": "",
        "cf_konkurs_category": "",
        "cf_konkurs_id": C_ACTIVE,
        "cf_userid": STRANGER,
    }


async def test_the_contest_id_is_taken_in_any_uuid_form(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.post(
        "/contests/user/my/task",
        json={"contest_id": C_ACTIVE.upper().replace("-", "")},
        headers=world.headers(STRANGER),
    )
    assert response.status_code == 201
    assert response.json()["data"]["contest_id"] == C_ACTIVE


@pytest.mark.parametrize("kind", ["form", "multipart"])
async def test_form_bodies_are_accepted_too(
    step_client: httpx.AsyncClient, world: World, kind: str
) -> None:
    if kind == "form":
        response = await step_client.post(
            "/contests/user/my/task/",
            data={"contest_id": C_VOTING},
            headers=world.headers(STRANGER),
        )
    else:
        response = await step_client.post(
            "/contests/user/my/task/",
            data={"contest_id": C_VOTING},
            files={"unused": ("a.txt", b"x")},
            headers=world.headers(STRANGER),
        )
    assert response.status_code == 201


async def test_a_live_application_gives_409_with_info(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.post(
        "/contests/user/my/task/", json={"contest_id": C_ACTIVE}, headers=world.headers()
    )
    assert response.status_code == 409
    assert response.json() == EXISTS


async def test_a_withdrawn_application_does_not_block_applying_again(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.post(
        "/contests/user/my/task/", json={"contest_id": C_DONE_REJECTED}, headers=world.headers()
    )
    assert response.status_code == 201


@pytest.mark.parametrize("contest", ["00000000-0000-4000-8000-000000000000", T_NEW])
async def test_an_unknown_contest_is_404(
    step_client: httpx.AsyncClient, world: World, contest: str
) -> None:
    response = await step_client.post(
        "/contests/user/my/task/", json={"contest_id": contest}, headers=world.headers()
    )
    assert response.status_code == 404
    assert detail(response) == {"code": "NOT_FOUND", "message": "Конкурс не найден."}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"contest_id": ["Это поле обязательно."]}),
        ({"contest_id": None}, {"contest_id": ["Это поле не может быть null."]}),
        ({"contest_id": "nope"}, {"contest_id": ["Must be a valid UUID."]}),
        ({"contest_id": 5}, {"contest_id": ["Must be a valid UUID."]}),
        (
            [C_ACTIVE],
            {"non_field_errors": ["Недопустимые данные. Ожидался словарь, но был получен list."]},
        ),
    ],
)
async def test_a_bad_body_is_400_before_any_upstream_call(
    step_client: httpx.AsyncClient,
    world: World,
    raida_admin: Any,
    body: Any,
    fields: dict[str, list[str]],
) -> None:
    response = await step_client.post("/contests/user/my/task/", json=body, headers=world.headers())
    assert response.status_code == 400
    assert detail(response) == {
        "code": "BAD_REQUEST",
        "message": "Некорректный запрос.",
        "fields": fields,
    }
    assert await raida_calls(raida_admin, tokens=True) == []


async def test_malformed_json_is_400(step_client: httpx.AsyncClient, world: World) -> None:
    response = await step_client.post(
        "/contests/user/my/task/",
        content=b'{"contest_id": ',
        headers={**world.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert detail(response)["code"] == "BAD_REQUEST"
    assert detail(response)["message"].startswith("JSON parse error - ")


async def test_an_unsupported_media_type_is_415(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.post(
        "/contests/user/my/task/",
        content=b"contest_id",
        headers={**world.headers(), "Content-Type": "text/plain"},
    )
    assert response.status_code == 415
    assert detail(response) == {
        "code": "UNSUPPORTED_MEDIA_TYPE",
        "message": 'Неподдерживаемый тип данных "text/plain" в запросе.',
    }


async def test_applying_reads_the_contest_checks_creates_and_rechecks(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    await step_client.post(
        "/contests/user/my/task/", json={"contest_id": C_ACTIVE}, headers=world.headers(STRANGER)
    )
    calls = await raida_calls(raida_admin)
    # the contest read and the check run concurrently: either may be journaled first
    assert sorted(calls[:2]) == [
        ("GET", f"/api/tasks/{NODE}/{C_ACTIVE}"),
        ("POST", f"/api/tasks/rql/{NODE}"),
    ]
    assert calls[2:] == [
        ("POST", f"/api/tasks/{NODE}/{TASK_PROCESS}"),
        ("POST", f"/api/tasks/rql/{NODE}"),
    ]


async def test_applying_waits_for_three_sequential_raida_round_trips(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    await raida_admin.faults(latency_ms=ROUND_TRIP_MS)
    response = await step_client.post(
        "/contests/user/my/task/", json={"contest_id": C_ACTIVE}, headers=world.headers(STRANGER)
    )
    assert response.status_code == 201
    assert len(await raida_calls(raida_admin)) == 4
    assert await raida_depth(raida_admin) == 3


async def test_ten_concurrent_joins_leave_exactly_one_live_application(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    responses = await asyncio.gather(
        *(
            step_client.post(
                "/contests/user/my/task/",
                json={"contest_id": C_VOTING},
                headers=world.headers(STRANGER),
            )
            for _ in range(10)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 9
    [created] = [r.json()["data"]["task_id"] for r in responses if r.status_code == 201]
    live = await live_applications(raida_admin, STRANGER, C_VOTING)
    assert [t["id"] for t in live] == [created]


async def test_concurrent_joins_through_two_instances_leave_one_live_application(
    world: World,
    configs_app: Any,
    raida_app: Any,
    raida_admin: Any,
    user_center: Any,
) -> None:
    # Two step instances do not share their in-process locks: the re-check after creating
    # is what settles the race. A slow task creation lets the second instance's check run
    # while the first instance's creation is in flight, so both create.
    await raida_admin.faults(
        route=f"/api/tasks/{NODE}/{TASK_PROCESS}", method="POST", latency_ms=200
    )
    apps = [
        create_app(
            step_settings(user_center.public_key_pem),
            transports=step_transports(configs_app, raida_app),
        )
        for _ in range(2)
    ]
    async with LifespanManager(apps[0]) as one, LifespanManager(apps[1]) as two:
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=m.app), base_url=STEP_BASE_URL)
            for m in (one, two)
        ]
        try:
            responses = await asyncio.gather(
                *(
                    clients[i % 2].post(
                        "/contests/user/my/task/",
                        json={"contest_id": C_VOTING},
                        headers=world.headers(STRANGER),
                    )
                    for i in range(10)
                )
            )
        finally:
            for client in clients:
                await client.aclose()
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    [created] = [r.json()["data"]["task_id"] for r in responses if r.status_code == 201]
    live = await live_applications(raida_admin, STRANGER, C_VOTING)
    assert [t["id"] for t in live] == [created]
    for response in responses:
        if response.status_code == 409:
            assert response.json() == EXISTS
    # The race did happen: both instances created an application, one was withdrawn.
    calls = await raida_calls(raida_admin)
    assert calls.count(("POST", f"/api/tasks/{NODE}/{TASK_PROCESS}")) == 2
    assert [m for m, _ in calls].count("PATCH") == 1
