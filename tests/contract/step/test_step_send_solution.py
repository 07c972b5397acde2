"""Route 10: submit a solution (multipart) to one's own open application."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from step_platform.contests.app import create_app
from tests.fixtures.step import STEP_BASE_URL, step_settings, step_transports

from .conftest import (
    NODE,
    ROUND_TRIP_MS,
    T_APPROVED,
    T_COMPLETED,
    T_NEW,
    T_OTHER_ACTIVE,
    T_REJECTED,
    TS,
    World,
    detail,
    raida_calls,
    raida_depth,
    raida_task,
)

pytestmark = pytest.mark.anyio

PATH = "/contests/user/my/task/send_solution"
SENT = {"detail": {"code": "OK", "message": "Решение успешно отправлено"}}


def solution_file(content: bytes = b"my solution", name: str = "essay.txt") -> dict[str, Any]:
    return {"solution_file": (name, content, "text/plain")}


async def test_sending_a_solution_attaches_the_file_and_completes_the_application(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    response = await step_client.post(
        PATH,
        data={"task_id": T_NEW, "solution_link": "https://example.org/x", "comments": "Готово"},
        files=solution_file(),
        headers=world.headers(),
    )
    assert response.status_code == 200
    assert response.json() == SENT
    task = await raida_task(raida_admin, T_NEW)
    assert task["status"]["id"] == TS["completed"]
    assert task["custom_fields"]["solution_link"] == "https://example.org/x"
    assert task["custom_fields"]["comments"] == "Готово"
    [attachment] = task["attachments"]
    assert attachment["name"].endswith("-essay.txt")
    assert attachment["content_type"] == "text/plain"
    stored = await raida_admin.client.get("/" + attachment["url"])
    assert stored.content == b"my solution"


async def test_the_slash_form_works_too(step_client: httpx.AsyncClient, world: World) -> None:
    response = await step_client.post(
        PATH + "/", data={"task_id": T_APPROVED}, files=solution_file(), headers=world.headers()
    )
    assert response.status_code == 200


async def test_without_link_and_comments_only_the_claim_is_added_to_custom_fields(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    before = (await raida_task(raida_admin, T_APPROVED))["custom_fields"]
    await step_client.post(
        PATH, data={"task_id": T_APPROVED}, files=solution_file(), headers=world.headers()
    )
    task = await raida_task(raida_admin, T_APPROVED)
    [claim] = [k for k in task["custom_fields"] if k.startswith("solution_claim_")]
    assert {k: v for k, v in task["custom_fields"].items() if k != claim} == before
    assert task["status"]["id"] == TS["completed"]


async def test_sending_reads_claims_then_uploads(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    await step_client.post(
        PATH, data={"task_id": T_NEW}, files=solution_file(), headers=world.headers()
    )
    assert await raida_calls(raida_admin) == [
        ("GET", f"/api/tasks/{NODE}/{T_NEW}"),
        ("PATCH", f"/api/tasks/{NODE}/{T_NEW}"),  # claim
        ("GET", f"/api/tasks/{NODE}/{T_NEW}"),  # still ours?
        ("POST", f"/api/attachments/{NODE}/{T_NEW}"),
    ]


async def test_a_link_or_comment_is_written_once_the_claim_holds_before_the_upload(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    await step_client.post(
        PATH,
        data={"task_id": T_NEW, "comments": "Готово"},
        files=solution_file(),
        headers=world.headers(),
    )
    assert await raida_calls(raida_admin) == [
        ("GET", f"/api/tasks/{NODE}/{T_NEW}"),
        ("PATCH", f"/api/tasks/{NODE}/{T_NEW}"),  # claim
        ("GET", f"/api/tasks/{NODE}/{T_NEW}"),  # still ours?
        ("PATCH", f"/api/tasks/{NODE}/{T_NEW}"),  # comment
        ("POST", f"/api/attachments/{NODE}/{T_NEW}"),
    ]


async def test_sending_waits_for_four_sequential_raida_round_trips(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    await raida_admin.faults(latency_ms=ROUND_TRIP_MS)
    response = await step_client.post(
        PATH, data={"task_id": T_NEW}, files=solution_file(), headers=world.headers()
    )
    assert response.status_code == 200
    assert await raida_depth(raida_admin) == 4


async def test_a_link_or_comment_adds_one_sequential_raida_round_trip(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    await raida_admin.faults(latency_ms=ROUND_TRIP_MS)
    response = await step_client.post(
        PATH,
        data={"task_id": T_NEW, "solution_link": "https://example.org/work"},
        files=solution_file(),
        headers=world.headers(),
    )
    assert response.status_code == 200
    assert await raida_depth(raida_admin) == 5


async def test_a_second_send_is_task_completed(
    step_client: httpx.AsyncClient, world: World
) -> None:
    first = await step_client.post(
        PATH, data={"task_id": T_NEW}, files=solution_file(), headers=world.headers()
    )
    second = await step_client.post(
        PATH, data={"task_id": T_NEW}, files=solution_file(), headers=world.headers()
    )
    assert first.status_code == 200
    assert second.status_code == 400
    assert detail(second) == {"code": "TASK_COMPLETED", "message": "Решение уже отправлено"}


async def test_a_completed_application_is_task_completed(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.post(
        PATH, data={"task_id": T_COMPLETED}, files=solution_file(), headers=world.headers()
    )
    assert response.status_code == 400
    assert detail(response)["code"] == "TASK_COMPLETED"


@pytest.mark.parametrize(
    "task", ["00000000-0000-4000-8000-000000000000", T_OTHER_ACTIVE, T_REJECTED]
)
async def test_unknown_foreign_or_withdrawn_applications_are_404(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any, task: str
) -> None:
    response = await step_client.post(
        PATH, data={"task_id": task}, files=solution_file(), headers=world.headers()
    )
    assert response.status_code == 404
    assert detail(response) == {"code": "TASK_DOES_NOT_EXIST", "message": "Заявка не найдена"}
    assert [m for m, _ in await raida_calls(raida_admin)] == ["GET"]


@pytest.mark.parametrize(
    ("data", "files", "fields"),
    [
        (
            {"task_id": T_NEW},
            {"other": ("a.txt", b"x", "text/plain")},
            {"solution_file": ["Не был загружен файл."]},
        ),
        (
            {"task_id": T_NEW},
            {"solution_file": ("empty.txt", b"", "text/plain")},
            {"solution_file": ["Загруженный файл пуст."]},
        ),
        (
            {"task_id": T_NEW, "solution_file": "not a file"},
            {"other": ("a.txt", b"x", "text/plain")},
            {"solution_file": ["Загруженный файл не является корректным файлом."]},
        ),
        ({}, solution_file(), {"task_id": ["Это поле обязательно."]}),
        ({"task_id": "42"}, solution_file(), {"task_id": ["Must be a valid UUID."]}),
        (
            {"task_id": T_NEW, "solution_link": "  ", "comments": ""},
            solution_file(),
            {
                "solution_link": ["Это поле не может быть пустым."],
                "comments": ["Это поле не может быть пустым."],
            },
        ),
        (
            {"task_id": T_NEW},
            [
                ("solution_file", ("a.txt", b"a", "text/plain")),
                ("solution_file", ("b.txt", b"b", "text/plain")),
            ],
            {"solution_file": ["Можно загрузить только один файл."]},
        ),
    ],
)
async def test_a_bad_form_is_400_before_any_upstream_call(
    step_client: httpx.AsyncClient,
    world: World,
    raida_admin: Any,
    data: dict[str, str],
    files: Any,
    fields: dict[str, list[str]],
) -> None:
    response = await step_client.post(PATH, data=data, files=files, headers=world.headers())
    assert response.status_code == 400
    assert detail(response) == {
        "code": "BAD_REQUEST",
        "message": "Некорректный запрос.",
        "fields": fields,
    }
    assert await raida_calls(raida_admin, tokens=True) == []


async def test_json_cannot_carry_a_file(step_client: httpx.AsyncClient, world: World) -> None:
    response = await step_client.post(PATH, json={"task_id": T_NEW}, headers=world.headers())
    assert response.status_code == 400
    assert detail(response)["fields"] == {"solution_file": ["Не был загружен файл."]}


async def test_a_url_encoded_form_is_415(step_client: httpx.AsyncClient, world: World) -> None:
    response = await step_client.post(PATH, data={"task_id": T_NEW}, headers=world.headers())
    assert response.status_code == 415
    assert detail(response) == {
        "code": "UNSUPPORTED_MEDIA_TYPE",
        "message": 'Неподдерживаемый тип данных "application/x-www-form-urlencoded" в запросе.',
    }


@pytest.fixture
async def small_upload_client(configs_app: Any, raida_app: Any, user_center: Any) -> Any:
    app = create_app(
        step_settings(user_center.public_key_pem, max_upload_bytes=1000),
        transports=step_transports(configs_app, raida_app),
    )
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=STEP_BASE_URL) as client:
            yield client


async def test_a_file_over_the_limit_is_413(
    small_upload_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    response = await small_upload_client.post(
        PATH, data={"task_id": T_NEW}, files=solution_file(b"x" * 1001), headers=world.headers()
    )
    assert response.status_code == 413
    assert detail(response)["code"] == "PAYLOAD_TOO_LARGE"
    assert await raida_calls(raida_admin, tokens=True) == []


async def test_a_body_far_over_the_limit_is_413_from_the_body_limit(
    small_upload_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    response = await small_upload_client.post(
        PATH,
        data={"task_id": T_NEW},
        files=solution_file(b"x" * 2_000_000),
        headers=world.headers(),
    )
    assert response.status_code == 413
    assert detail(response)["code"] == "PAYLOAD_TOO_LARGE"
    assert await raida_calls(raida_admin, tokens=True) == []


async def test_a_file_at_the_limit_is_accepted(
    small_upload_client: httpx.AsyncClient, world: World
) -> None:
    response = await small_upload_client.post(
        PATH, data={"task_id": T_NEW}, files=solution_file(b"x" * 1000), headers=world.headers()
    )
    assert response.status_code == 200


async def test_a_path_in_the_file_name_is_dropped(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    await step_client.post(
        PATH,
        data={"task_id": T_NEW},
        files=solution_file(name="../../etc/passwd"),
        headers=world.headers(),
    )
    [attachment] = (await raida_task(raida_admin, T_NEW))["attachments"]
    assert attachment["name"].endswith("-passwd")
    assert "/" not in attachment["name"]
