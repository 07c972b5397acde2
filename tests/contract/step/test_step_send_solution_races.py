"""Route 10 under concurrency: one application, several senders, several step instances.

A send claims the application (status completed plus a `solution_claim_<id>` custom field)
before it uploads; only the claim Raida applied first goes on. Instances share no locks, so
these tests run several of them on one raida-mock; a slow PATCH holds every claim in flight
until all senders have read the application as still open, so the race really happens.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.fixtures.step import step_instances

from .conftest import NODE, T_NEW, TS, World, detail, raida_calls, raida_task

pytestmark = pytest.mark.anyio

PATH = "/contests/user/my/task/send_solution"
CLAIM_PREFIX = "solution_claim_"
COMPLETED = {"code": "TASK_COMPLETED", "message": "Решение уже отправлено"}


def claims(task: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in task["custom_fields"].items() if k.startswith(CLAIM_PREFIX)}


async def send(client: httpx.AsyncClient, world: World, n: int) -> httpx.Response:
    return await client.post(
        PATH,
        data={"task_id": T_NEW, "solution_link": f"https://example.org/{n}"},
        files={"solution_file": (f"solution-{n}.txt", f"solution {n}".encode(), "text/plain")},
        headers=world.headers(),
    )


async def slow_patches(raida_admin: Any) -> None:
    await raida_admin.faults(route=f"/api/tasks/{NODE}/{T_NEW}", method="PATCH", latency_ms=300)


async def test_two_instances_sending_at_once_complete_the_application_once(
    world: World, configs_app: Any, raida_app: Any, raida_admin: Any, user_center: Any
) -> None:
    await slow_patches(raida_admin)
    async with step_instances(2, configs_app, raida_app, user_center.public_key_pem) as clients:
        responses = await asyncio.gather(*(send(c, world, n) for n, c in enumerate(clients)))

    calls = await raida_calls(raida_admin)  # before the test's own read below
    assert sorted(r.status_code for r in responses) == [200, 400]
    [winner] = [n for n, r in enumerate(responses) if r.status_code == 200]
    [loser] = [r for r in responses if r.status_code == 400]
    assert detail(loser) == COMPLETED
    task = await raida_task(raida_admin, T_NEW)
    assert task["status"]["id"] == TS["completed"]
    [attachment] = task["attachments"]
    assert attachment["name"].endswith(f"-solution-{winner}.txt")
    # The loser never wrote its link over the winner's.
    assert task["custom_fields"]["solution_link"] == f"https://example.org/{winner}"
    # The race did happen: both claimed; the loser released its claim, the winner's stays.
    assert sorted(v is None for v in claims(task).values()) == [False, True]
    application = f"/api/tasks/{NODE}/{T_NEW}"
    assert sorted(calls) == sorted(
        [
            ("GET", application),  # each sender reads the application
            ("GET", application),
            ("PATCH", application),  # each sender claims it
            ("PATCH", application),
            ("PATCH", application),  # the loser releases its claim
            ("GET", application),  # the winner reads back that its claim holds
            ("PATCH", application),  # writes the link
            ("POST", f"/api/attachments/{NODE}/{T_NEW}"),  # and uploads, once
        ]
    )


async def test_ten_instances_sending_at_once_leave_exactly_one_attachment(
    world: World, configs_app: Any, raida_app: Any, raida_admin: Any, user_center: Any
) -> None:
    await slow_patches(raida_admin)
    async with step_instances(10, configs_app, raida_app, user_center.public_key_pem) as clients:
        responses = await asyncio.gather(*(send(c, world, n) for n, c in enumerate(clients)))

    calls = await raida_calls(raida_admin)  # before the test's own read below
    assert sorted(r.status_code for r in responses) == [200] + [400] * 9
    for response in responses:
        if response.status_code == 400:
            assert detail(response) == COMPLETED
    [winner] = [n for n, r in enumerate(responses) if r.status_code == 200]
    task = await raida_task(raida_admin, T_NEW)
    assert task["status"]["id"] == TS["completed"]
    [attachment] = task["attachments"]
    assert attachment["name"].endswith(f"-solution-{winner}.txt")
    assert task["custom_fields"]["solution_link"] == f"https://example.org/{winner}"
    # Senders that read the application before the first claim landed claimed too and lost;
    # each released its claim. The others stopped at the read.
    held = claims(task)
    released = sum(v is None for v in held.values())
    assert len(held) - released == 1
    assert released >= 1  # the race did happen
    assert calls.count(("GET", f"/api/tasks/{NODE}/{T_NEW}")) == 10 + 1  # + the winner's check
    assert calls.count(("POST", f"/api/attachments/{NODE}/{T_NEW}")) == 1
    # claim + link for the winner, claim + release for every losing claimant
    assert calls.count(("PATCH", f"/api/tasks/{NODE}/{T_NEW}")) == 2 + 2 * released
    assert len(calls) == 11 + 1 + 2 + 2 * released
