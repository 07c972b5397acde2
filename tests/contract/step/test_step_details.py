"""Route 3: one contest and the caller's application state."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import (
    A_BRIEF,
    A_BRIEF_NAME,
    C_ACTIVE,
    C_BARE,
    C_DONE,
    C_DONE_REJECTED,
    CS,
    NODE,
    OTHER,
    STRANGER,
    T_COMPLETED,
    T_NEW,
    T_OTHER_ACTIVE,
    World,
    detail,
    raida_calls,
)

pytestmark = pytest.mark.anyio


async def test_details_of_a_contest_with_the_callers_open_application(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get(f"/contests/{C_ACTIVE}/", headers=world.headers())
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "detail": {"code": "OK", "message": "Данные конкурса"},
        "data": {
            "id": C_ACTIVE,
            "title": "Супер-конкурс",
            "description": "Описание конкурса.",
            "created_at": "06.11.2024",
            "status_id": CS["acceptance_works"],
            "status_name": "Прием работ",
            "deadline": "29.11.2024",
            "award": "Приз",
            "profession": "Дизайнер",
            "category": "Дизайн",
            "attachments": [{"id": A_BRIEF, "name": A_BRIEF_NAME}],
            "user_task_id": T_NEW,
            "user_task_status": {"code": "TASK_UNCOMPLETED", "message": "Решение не отправлено"},
        },
        "info": {"api_version": "0.0.1"},
    }
    assert list(body["data"]) == [
        "id",
        "title",
        "description",
        "created_at",
        "status_id",
        "status_name",
        "deadline",
        "award",
        "profession",
        "category",
        "attachments",
        "user_task_id",
        "user_task_status",
    ]


async def test_a_completed_application_is_task_completed(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get(f"/contests/{C_DONE}/", headers=world.headers())
    data = response.json()["data"]
    assert data["user_task_id"] == T_COMPLETED
    assert data["user_task_status"] == {"code": "TASK_COMPLETED", "message": "Решение отправлено"}


async def test_another_users_application_is_theirs(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get(f"/contests/{C_ACTIVE}/", headers=world.headers(OTHER))
    assert response.json()["data"]["user_task_id"] == T_OTHER_ACTIVE


DOES_NOT_EXIST = {"code": "TASK_DOES_NOT_EXIST", "message": "Нет заявки на участие"}


async def test_a_caller_who_never_applied_has_no_application(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get(f"/contests/{C_ACTIVE}/", headers=world.headers(STRANGER))
    data = response.json()["data"]
    assert data["user_task_id"] is None
    assert data["user_task_status"] == DOES_NOT_EXIST


async def test_a_withdrawn_application_does_not_count(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get(f"/contests/{C_DONE_REJECTED}/", headers=world.headers())
    data = response.json()["data"]
    assert data["user_task_id"] is None
    assert data["user_task_status"] == DOES_NOT_EXIST


async def test_ordinary_raida_data_never_fails_details(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get(f"/contests/{C_BARE}/", headers=world.headers())
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["title"] is None
    assert data["description"] == ""
    assert data["attachments"] == []
    for key in ("deadline", "award", "profession", "category"):
        assert data[key] is None


async def test_an_unknown_contest_is_404_not_found(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get(
        "/contests/00000000-0000-4000-8000-000000000000/", headers=world.headers()
    )
    assert response.status_code == 404
    assert detail(response) == {"code": "NOT_FOUND", "message": "Конкурс не найден."}


async def test_a_task_that_is_not_a_contest_is_404_not_found(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get(f"/contests/{T_NEW}/", headers=world.headers())
    assert response.status_code == 404
    assert detail(response) == {"code": "NOT_FOUND", "message": "Конкурс не найден."}


async def test_details_read_the_contest_once(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    await step_client.get(f"/contests/{C_ACTIVE}/", headers=world.headers())
    assert sorted(await raida_calls(raida_admin)) == [
        ("GET", f"/api/tasks/{NODE}/{C_ACTIVE}"),
        ("POST", f"/api/tasks/rql/{NODE}"),
    ]


async def test_an_uppercase_contest_id_is_answered_in_canonical_form(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get(f"/contests/{C_ACTIVE.upper()}/", headers=world.headers())
    assert response.status_code == 200
    assert response.json()["data"]["id"] == C_ACTIVE


async def test_a_path_that_is_not_a_uuid_is_404(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get("/contests/not-a-uuid/", headers=world.headers())
    assert response.status_code == 404
    assert detail(response)["code"] == "NOT_FOUND"
