"""Route 9: withdraw one's own application."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import (
    C_ACTIVE,
    NODE,
    OTHER,
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

NOT_FOUND = {"code": "NOT_FOUND", "message": "Заявка на участие не найдена."}


async def task_status(raida_admin: Any, task_id: str) -> str:
    return (await raida_task(raida_admin, task_id))["status"]["id"]


@pytest.mark.parametrize("task", [T_NEW, T_APPROVED])
async def test_withdrawing_an_open_application_sets_it_to_rejection(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any, task: str
) -> None:
    response = await step_client.delete(f"/contests/user/my/task/{task}/", headers=world.headers())
    assert response.status_code == 200
    assert response.json() == {
        "detail": {"code": "OK", "message": 'Статус заявки изменен на "Отказ"'}
    }
    assert await task_status(raida_admin, task) == TS["rejection"]


async def test_withdrawing_reads_then_patches(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    await step_client.delete(f"/contests/user/my/task/{T_NEW}/", headers=world.headers())
    assert await raida_calls(raida_admin) == [
        ("GET", f"/api/tasks/{NODE}/{T_NEW}"),
        ("PATCH", f"/api/tasks/{NODE}/{T_NEW}"),
    ]


async def test_withdrawing_waits_for_two_sequential_raida_round_trips(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    # The PATCH depends on the read (owner and status): Raida has no conditional write.
    await raida_admin.faults(latency_ms=ROUND_TRIP_MS)
    response = await step_client.delete(f"/contests/user/my/task/{T_NEW}/", headers=world.headers())
    assert response.status_code == 200
    assert await raida_depth(raida_admin) == 2


async def test_another_users_application_is_404_and_unchanged(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    response = await step_client.delete(
        f"/contests/user/my/task/{T_OTHER_ACTIVE}/", headers=world.headers()
    )
    assert response.status_code == 404
    assert detail(response) == NOT_FOUND
    assert await task_status(raida_admin, T_OTHER_ACTIVE) == TS["approved"]


@pytest.mark.parametrize("task", ["00000000-0000-4000-8000-000000000000", T_REJECTED, C_ACTIVE])
async def test_unknown_rejected_or_non_application_tasks_are_404(
    step_client: httpx.AsyncClient, world: World, task: str
) -> None:
    response = await step_client.delete(f"/contests/user/my/task/{task}/", headers=world.headers())
    assert response.status_code == 404
    assert detail(response) == NOT_FOUND


async def test_a_completed_application_cannot_be_withdrawn_409(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    response = await step_client.delete(
        f"/contests/user/my/task/{T_COMPLETED}/", headers=world.headers()
    )
    assert response.status_code == 409
    assert detail(response) == {"code": "TASK_COMPLETED", "message": "Решение уже отправлено"}
    assert await task_status(raida_admin, T_COMPLETED) == TS["completed"]


async def test_withdrawing_twice_is_404_the_second_time(
    step_client: httpx.AsyncClient, world: World
) -> None:
    first = await step_client.delete(f"/contests/user/my/task/{T_NEW}", headers=world.headers())
    second = await step_client.delete(f"/contests/user/my/task/{T_NEW}", headers=world.headers())
    assert (first.status_code, second.status_code) == (200, 404)


async def test_the_owner_can_withdraw_what_another_could_not(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.delete(
        f"/contests/user/my/task/{T_OTHER_ACTIVE}/", headers=world.headers(OTHER)
    )
    assert response.status_code == 200
