"""A small, fixed Raida world and the helpers every step contract test uses.

`world` loads raida-mock with the fixture below (absolute dates, so expected answers are
literal) and the seed's config set under a fresh project; `headers` are a caller's token and
context headers for it. Raida's journal is cleared once the world is ready, so tests count
only the calls their own requests made.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from raida_mock.fixtures import seed_node
from raida_mock.traffic import sequential_depth
from step_platform.seed import seed_config_set

SEED = seed_config_set()
NODE = SEED["node_id"]["value"]
CONTEST_PROCESS = SEED["contest_process_id"]["value"]
TASK_PROCESS = SEED["task_process_id"]["value"]
CS = SEED["contest_status_id"]
TS = SEED["task_status_id"]

USER = "2098611d-32e2-4d8f-acea-76570af65843"
OTHER = "5f3c2b1a-8d4e-4f6a-9b7c-1e2d3c4b5a69"
STRANGER = "c7a9e1d2-3b4f-4a5e-8c6d-7f8e9a0b1c2d"  # has no applications at all

C_ACTIVE = "e2ccc043-2558-4bd1-872e-4df6cf7b5256"
C_BARE = "11111111-1111-4111-8111-111111111111"
C_VOTING = "22222222-2222-4222-8222-222222222222"
C_DONE = "369c6d50-9ba7-4ebc-92cf-1d642bba2b6e"
C_DONE_REJECTED = "33333333-3333-4333-8333-333333333333"
C_NO_WINNER = "92c91cda-9c61-4b57-ba4a-4f7926c7b24a"
C_DRAFT = "44444444-4444-4444-8444-444444444444"

T_NEW = "d07a6d10-9181-4b14-8385-5a7fede4ce7c"  # USER -> C_ACTIVE, new
T_APPROVED = "67fbfc84-965b-48b4-8da2-bc57765608c5"  # USER -> C_VOTING, approved
T_COMPLETED = "05071332-f04f-45d7-8801-756d3cb1b7e9"  # USER -> C_DONE, completed
T_REJECTED = "e8b9d67f-eb57-4263-8e4a-e26e6aae671d"  # USER -> C_DONE_REJECTED, rejection
T_NO_WINNER = "7def4031-04ae-400f-a97f-ee590a0775a1"  # USER -> C_NO_WINNER, completed
T_OTHER_ACTIVE = "15ff204e-89f0-43fb-8bee-f5ef9cd2b2df"  # OTHER -> C_ACTIVE, approved
T_OTHER_DONE = "86ae7d13-0f64-4d07-b965-0fe8439d8512"  # OTHER -> C_DONE, completed

A_CAT = "ce063f59-e352-4da9-939f-253644619eb4"
A_CAT_NAME = "f6e3f9a9-79ea-4859-82ea-b1721bff0c70-cat.jpg"
A_BRIEF = "0c0ffee0-0000-4000-8000-000000000001"
A_BRIEF_NAME = "0c0ffee0-0000-4000-8000-00000000000a-brief.txt"


def contest(
    contest_id: str,
    status: str,
    title: str | None,
    *,
    created_at: str = "2024-11-06T10:00:00.000Z",
    description: str = "Описание конкурса.",
    custom_fields: dict[str, Any] | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "id": contest_id,
        "process_id": CONTEST_PROCESS,
        "status_id": CS[status],
        "title": title,
        "description": description,
        "created_at": created_at,
        "custom_fields": custom_fields
        if custom_fields is not None
        else {
            "cf_deadline": "2024-11-28T22:30:00.000Z",
            "cf_award": "Приз",
            "cf_brief": "Бриф",
            "cf_profession": "Дизайнер",
            "cf_projects": "Кловери Шаг",
            "cf_konkurs_category": "Дизайн",
        },
        "author": None,
        "assignee": None,
        "attachments": attachments or [],
    }


def application(
    task_id: str,
    user: str,
    contest_id: str,
    status: str,
    *,
    created_at: str,
    solution_link: str | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    custom = {
        "cf_konkurs_link": "",
        "cf_award": "",
        "cf_brief": "",
        "cf_startdate": "",
        "cf_konkurs_category": "",
        "cf_konkurs_id": contest_id,
        "cf_userid": user,
    }
    if solution_link is not None:
        custom["solution_link"] = solution_link
    return {
        "id": task_id,
        "process_id": TASK_PROCESS,
        "status_id": TS[status],
        "title": "",
        "description": "",
        "created_at": created_at,
        "custom_fields": custom,
        "author": None,
        "assignee": None,
        "attachments": attachments or [],
    }


def world_fixture() -> dict[str, Any]:
    node = seed_node()
    node["tasks"] = [
        contest(
            C_ACTIVE,
            "acceptance_works",
            "Супер-конкурс",
            attachments=[
                {"id": A_BRIEF, "name": A_BRIEF_NAME, "content_type": "text/plain", "content": "x"}
            ],
        ),
        contest(C_BARE, "acceptance_works", None, description="", custom_fields={}),
        contest(C_VOTING, "voting", "Голосуем", created_at="2024-10-01T21:30:00Z"),
        contest(
            C_DONE,
            "done",
            "Конкурс видеороликов",
            custom_fields={"cf_deadline": "2024-11-28", "cf_award": "Приз"},
        ),
        contest(C_DONE_REJECTED, "done", "Отказались"),
        contest(C_NO_WINNER, "no_winner", "Конкурс подкастов"),
        contest(C_DRAFT, "new", "Черновик"),
        application(T_NEW, USER, C_ACTIVE, "new", created_at="2024-11-10T10:00:00.000Z"),
        application(T_APPROVED, USER, C_VOTING, "approved", created_at="2024-10-02T10:00:00Z"),
        application(
            T_COMPLETED,
            USER,
            C_DONE,
            "completed",
            created_at="2024-11-07T10:00:00.000Z",
            solution_link="test_link",
            attachments=[
                {"id": A_CAT, "name": A_CAT_NAME, "content_type": "image/jpeg", "content": "cat"}
            ],
        ),
        application(
            T_REJECTED, USER, C_DONE_REJECTED, "rejection", created_at="2024-11-08T10:00:00Z"
        ),
        application(T_NO_WINNER, USER, C_NO_WINNER, "completed", created_at="2024-11-09T10:00:00Z"),
        application(T_OTHER_ACTIVE, OTHER, C_ACTIVE, "approved", created_at="2024-11-11T10:00:00Z"),
        application(
            T_OTHER_DONE,
            OTHER,
            C_DONE,
            "completed",
            created_at="2024-11-12T10:00:00Z",
            solution_link="other_link",
        ),
    ]
    return {"nodes": [node]}


@dataclass
class World:
    project_id: str
    tokens: dict[str, str]

    def headers(self, user: str = USER, **extra: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.tokens[user]}",
            "Project-ID": self.project_id,
            **extra,
        }


@pytest.fixture
async def world(raida_admin: Any, load_configs: Any, user_center: Any) -> World:
    await raida_admin.reset()
    await raida_admin.seed(world_fixture())
    project_id = str(uuid.uuid4())
    await load_configs(project_id, seed_config_set())
    tokens = {user: await user_center.token(user_id=user) for user in (USER, OTHER, STRANGER)}
    await raida_admin.clear_journal()
    return World(project_id, tokens)


async def raida_calls(raida_admin: Any, *, tokens: bool = False) -> list[tuple[str, str]]:
    """(method, path) of every Raida call since the journal was cleared; token calls optional."""
    entries = await raida_admin.journal()
    return [
        (e["method"], e["path"])
        for e in entries
        if tokens or not e["path"].rstrip("/").endswith("/api/users/token")
    ]


async def raida_depth(raida_admin: Any) -> int:
    """Raida round trips step waited for one after another (token calls left out)."""
    entries = await raida_admin.journal()
    return sequential_depth(
        [e for e in entries if not e["path"].rstrip("/").endswith("/api/users/token")]
    )


ROUND_TRIP_MS = 100  # a latency fault this long makes concurrent calls overlap unmistakably


Call = Callable[..., Awaitable[httpx.Response]]


def detail(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert isinstance(body.get("detail"), dict), body
    return body["detail"]


async def raida_task(raida_admin: Any, task_id: str) -> dict[str, Any]:
    """A task as Raida holds it (read directly, not journaled as a step call)."""
    response = await raida_admin.client.get(
        f"/api/tasks/{NODE}/{task_id}", headers=await raida_admin.headers()
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def live_applications(raida_admin: Any, user: str, contest: str) -> list[dict[str, Any]]:
    response = await raida_admin.client.post(
        f"/api/tasks/rql/{NODE}",
        json={
            "rql": f"process.id = '{TASK_PROCESS}' AND cf_konkurs_id = '{contest}' "
            f"AND cf_userid = '{user}' AND status.id != '{TS['rejection']}'",
            "fields": [],
        },
        headers=await raida_admin.headers(),
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]
