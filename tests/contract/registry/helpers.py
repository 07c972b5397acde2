"""Small builders shared by the registry contract tests."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import httpx
from asgi_lifespan import LifespanManager

from step_platform.registry.app import State

P1 = "11111111-1111-4111-8111-111111111111"
P2 = "22222222-2222-4222-8222-222222222222"
A1 = "aaaaaaaa-0000-4000-8000-000000000001"
A2 = "aaaaaaaa-0000-4000-8000-000000000002"
U1 = "bbbbbbbb-0000-4000-8000-000000000001"
MISSING = "99999999-9999-4999-8999-999999999999"

CONFIG_FIELDS = [
    "id",
    "created_date",
    "modified_date",
    "project_id",
    "account_id",
    "user_id",
    "object_type",
    "object_item",
    "object_code",
    "name",
    "meta",
    "data",
]
LINK_FIELDS = [
    "id",
    "link_type",
    "link_code",
    "object1",
    "object2",
    "weight",
    "direction",
    "created_date",
    "modified_date",
    "meta",
    "data",
    "project_id",
    "account_id",
    "user_id",
]


def link_body(**fields: Any) -> dict[str, Any]:
    return {"link_type": "O2O", "object1": A1, "object2": A2, **fields}


async def create_config(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/config/", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def create_link(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/link/", json=link_body(**fields))
    assert response.status_code == 201, response.text
    return response.json()


async def list_of(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def names(rows: list[dict[str, Any]]) -> list[Any]:
    return [r["name"] for r in rows]


def parse_ts(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def detail(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"detail"}, body
    assert isinstance(body["detail"]["message"], str)
    return body["detail"]


def lifespan_state(manager: LifespanManager) -> State:
    """The resources the registry's lifespan opened (what each request sees as
    `request.state`); asgi-lifespan keeps the state it hands to requests on the manager."""
    return cast(State, manager._state)
