"""Routes 1, 2 and 4: active contests, archive, applications of a contest."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import (
    C_ACTIVE,
    C_BARE,
    C_DONE,
    C_DONE_REJECTED,
    C_NO_WINNER,
    CS,
    NODE,
    T_NEW,
    T_OTHER_ACTIVE,
    TS,
    World,
    detail,
    raida_calls,
)

pytestmark = pytest.mark.anyio

ACTIVE = "Получение списка всех конкурсов со статусом Прием работ. Активные конкурсы."
ARCHIVE = (
    "Получение списка всех конкурсов со статусом Завершен и Победитель не выбран. Архив конкурсов."
)
CONTEST_TASKS = "Получение списка задач конкурса по статусам"


async def test_active_lists_contests_accepting_works_in_raida_order(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get("/contests/active/", headers=world.headers())
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["detail", "data", "info"]
    assert body["detail"] == {"code": "OK", "message": ACTIVE}
    assert body["info"] == {"api_version": "0.0.1", "count": 2}
    assert [item["id"] for item in body["data"]] == [C_ACTIVE, C_BARE]


async def test_a_contest_item_has_the_eleven_fields_in_order(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get("/contests/active/", headers=world.headers())
    assert response.json()["data"][0] == {
        "id": C_ACTIVE,
        "title": "Супер-конкурс",
        "description": "Описание конкурса.",
        "status_id": CS["acceptance_works"],
        "status_name": "Прием работ",
        "deadline": "29.11.2024",  # 22:30 UTC is the next day in Moscow (TIME_ZONE)
        "award": "Приз",
        "brief": "Бриф",
        "profession": "Дизайнер",
        "projects": "Кловери Шаг",
        "konkurs_category": "Дизайн",
    }
    assert list(response.json()["data"][0]) == [
        "id",
        "title",
        "description",
        "status_id",
        "status_name",
        "deadline",
        "award",
        "brief",
        "profession",
        "projects",
        "konkurs_category",
    ]


async def test_missing_custom_fields_are_null(step_client: httpx.AsyncClient, world: World) -> None:
    response = await step_client.get("/contests/active/", headers=world.headers())
    bare = response.json()["data"][1]
    assert bare["title"] is None
    assert bare["description"] == ""
    assert [bare[k] for k in ("deadline", "award", "brief", "profession", "projects")] == [None] * 5


async def test_active_is_one_raida_search(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    await step_client.get("/contests/active/", headers=world.headers())
    assert await raida_calls(raida_admin) == [("POST", f"/api/tasks/rql/{NODE}")]


async def test_archive_lists_done_and_no_winner_contests(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get("/contests/archive/", headers=world.headers())
    assert response.status_code == 200
    body = response.json()
    assert body["detail"] == {"code": "OK", "message": ARCHIVE}
    assert [item["id"] for item in body["data"]] == [C_DONE, C_DONE_REJECTED, C_NO_WINNER]
    assert body["info"] == {"api_version": "0.0.1", "count": 3}
    done = body["data"][0]
    assert done["deadline"] == "28.11.2024"  # a date-only value is not converted
    assert done["status_name"] == "Завершен"


async def test_contest_tasks_default_to_approved_and_completed(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get(f"/contests/{C_ACTIVE}/task/", headers=world.headers())
    assert response.status_code == 200
    body = response.json()
    assert body["detail"] == {"code": "OK", "message": CONTEST_TASKS}
    assert [item["id"] for item in body["data"]] == [T_OTHER_ACTIVE]
    assert body["data"][0] == {
        "id": T_OTHER_ACTIVE,
        "title": "",
        "description": "",
        "status_id": TS["approved"],
        "status_name": "Одобрена",
        "deadline": None,
        "award": "",
        "brief": "",
        "projects": None,
        "konkurs_category": "",
    }
    assert body["info"] == {"api_version": "0.0.1", "count": 1}


async def test_contest_tasks_filter_by_repeated_status(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get(
        f"/contests/{C_ACTIVE}/task/",
        params=[("status", TS["new"]), ("status", TS["approved"])],
        headers=world.headers(),
    )
    assert [item["id"] for item in response.json()["data"]] == [T_NEW, T_OTHER_ACTIVE]


async def test_contest_tasks_filter_by_one_status(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get(
        f"/contests/{C_ACTIVE}/task/", params={"status": TS["new"]}, headers=world.headers()
    )
    assert [item["id"] for item in response.json()["data"]] == [T_NEW]


async def test_contest_tasks_of_an_unknown_contest_are_an_empty_list(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get(
        "/contests/00000000-0000-4000-8000-000000000000/task/", headers=world.headers()
    )
    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["info"]["count"] == 0


@pytest.mark.parametrize(
    "value", ["x' OR status.id != '", "", "None", "12345", "e9672f87586d41b1b9b579acfaf6f9c2"]
)
async def test_a_status_filter_that_is_not_a_uuid_is_a_400_before_any_raida_call(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any, value: str
) -> None:
    response = await step_client.get(
        f"/contests/{C_ACTIVE}/task/",
        params=[("status", TS["new"]), ("status", value)],
        headers=world.headers(),
    )
    assert response.status_code == 400
    assert detail(response)["code"] == "BAD_REQUEST"
    assert isinstance(detail(response)["message"], str)
    assert detail(response)["fields"] == {"status": ["Must be a valid UUID."]}
    assert await raida_calls(raida_admin, tokens=True) == []
