"""Routes 5, 6 and 7: my tasks and history, joined in memory with a flat number of Raida calls."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from raida_mock.fixtures import build_fixture

from .conftest import (
    A_CAT,
    A_CAT_NAME,
    C_ACTIVE,
    C_DONE,
    C_VOTING,
    NODE,
    OTHER,
    STRANGER,
    T_APPROVED,
    T_COMPLETED,
    T_NEW,
    USER,
    World,
    raida_calls,
)

pytestmark = pytest.mark.anyio

MY_TASKS = (
    "Получение списка всех конкурсов со статусом Прием работ, Прием работ окончен, Голосование, "
    "Подведение итогов, Завершен. Для раздела мои задания."
)
HISTORY = "Получение списка всех конкурсов со статусом Завершен. Для раздела история участия."


async def test_my_tasks_lists_running_contests_with_a_live_application(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get("/contests/user/my/tasks/", headers=world.headers())
    assert response.status_code == 200
    body = response.json()
    assert body["detail"] == {"code": "OK", "message": MY_TASKS}
    # Raida's order of contests; the withdrawn application (C_DONE_REJECTED), the draft and
    # the no-winner contest are left out.
    assert [item["id"] for item in body["data"]] == [C_ACTIVE, C_VOTING, C_DONE]
    assert body["info"] == {"api_version": "0.0.1", "count": 3}


async def test_my_tasks_items_are_contest_items_plus_the_application_status(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get("/contests/user/my/tasks/", headers=world.headers())
    active, voting, done = response.json()["data"]
    assert list(active)[-1] == "application_status"
    assert len(active) == 12
    assert active["deadline"] == "29.11.2024"
    assert active["application_status"] == {
        "code": "TASK_UNCOMPLETED",
        "message": "Решение не отправлено",
        "application_id": T_NEW,
        "solution_link": None,
    }
    assert voting["application_status"]["application_id"] == T_APPROVED
    assert voting["application_status"]["code"] == "TASK_UNCOMPLETED"
    assert done["application_status"] == {
        "code": "TASK_COMPLETED",
        "message": "Решение отправлено",
        "application_id": T_COMPLETED,
        "solution_link": "test_link",
    }


async def test_my_tasks_of_a_user_without_applications_is_empty(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get("/contests/user/my/tasks/", headers=world.headers(STRANGER))
    assert response.json()["data"] == []
    assert response.json()["info"]["count"] == 0


async def test_history_lists_done_contests_the_user_submitted_to(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get("/contests/user/my/history/", headers=world.headers())
    assert response.status_code == 200
    assert response.json() == {
        "detail": {"code": "OK", "message": HISTORY},
        "data": [
            {
                "id": C_DONE,
                "title": "Конкурс видеороликов",
                "created_at": "06 November 2024",
                "deadline": "28 November 2024",
                "solution_link": "test_link",
                "attachments": {
                    "id": A_CAT,
                    "name": A_CAT_NAME,
                    "url": f"media/{NODE}/{A_CAT}/{A_CAT_NAME}",
                    "content_type": "image/jpeg",
                },
            }
        ],
        "info": {"api_version": "0.0.1", "count": 1},
    }


async def test_another_users_history_is_theirs(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get(f"/contests/user/{OTHER}/history/", headers=world.headers())
    data = response.json()["data"]
    assert [item["id"] for item in data] == [C_DONE]
    assert data[0]["solution_link"] == "other_link"
    assert data[0]["attachments"] is None


async def test_my_history_and_my_own_user_route_agree(
    step_client: httpx.AsyncClient, world: World
) -> None:
    mine = await step_client.get("/contests/user/my/history/", headers=world.headers())
    by_id = await step_client.get(f"/contests/user/{USER}/history/", headers=world.headers())
    assert mine.json() == by_id.json()


async def test_history_of_a_user_id_that_is_not_a_uuid_is_404(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get("/contests/user/someone/history/", headers=world.headers())
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/contests/user/my/tasks/", "/contests/user/my/history/"])
async def test_two_raida_searches_run_for_the_join(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any, path: str
) -> None:
    await step_client.get(path, headers=world.headers())
    assert await raida_calls(raida_admin) == [("POST", f"/api/tasks/rql/{NODE}")] * 2


async def _calls_for(
    step_client: httpx.AsyncClient,
    world: World,
    raida_admin: Any,
    path: str,
    contests: int,
    application_status: str,
) -> tuple[int, int]:
    await raida_admin.reset()
    await raida_admin.seed(
        build_fixture(
            contests,
            contest_status=["acceptance_works", "voting", "done"]
            if application_status == "new"
            else "done",
            users=[USER],
            application_status=application_status,
            other_users=2,
        )
    )
    await step_client.get("/contests/active/", headers=world.headers())  # token warmed up
    await raida_admin.clear_journal()
    response = await step_client.get(path, headers=world.headers())
    assert response.status_code == 200
    return len(await raida_calls(raida_admin, tokens=True)), response.json()["info"]["count"]


@pytest.mark.parametrize(
    ("path", "application_status"),
    [("/contests/user/my/tasks/", "new"), ("/contests/user/my/history/", "completed")],
)
async def test_raida_calls_do_not_grow_with_the_number_of_contests(
    step_client: httpx.AsyncClient,
    world: World,
    raida_admin: Any,
    path: str,
    application_status: str,
) -> None:
    small = await _calls_for(step_client, world, raida_admin, path, 10, application_status)
    large = await _calls_for(step_client, world, raida_admin, path, 200, application_status)
    assert small == (2, 10)
    assert large == (2, 200)
