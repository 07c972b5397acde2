"""Cost caps on public input (core/limits.py): each over-limit request is a 400
`LIMIT_EXCEEDED` naming the cap, and values JSON allows but nothing can store are 400s."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from step_platform.core.limits import LIMITS
from tests.contract.step.conftest import C_ACTIVE, STRANGER, World

pytestmark = pytest.mark.anyio

P = "e3eb60a2-3bb7-4983-8e2f-47490b979eb9"


def limit_of(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert detail["code"] == "LIMIT_EXCEEDED", detail
    assert isinstance(detail["max"], int)
    return detail["limit"]


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"k": value}
    return value


# --- registry queries --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "limit"),
    [
        ([("field", "name")] * (LIMITS.field_terms + 1) + [("search", "x")], "field_terms"),
        ([("search", " ".join(f"t{i}" for i in range(LIMITS.search_terms + 1)))], "search_terms"),
        ([("ordering", ",".join(["name"] * (LIMITS.ordering_tokens + 1)))], "ordering_tokens"),
        ([("data", "a__exact=1")] * (LIMITS.data_filters + 1), "data_filters"),
        ([("data", "__".join(["k"] * (LIMITS.data_path_depth + 1)) + "__exact=1")],
         "data_path_depth"),
        ([("ordering", "data__" + "__".join(["k"] * (LIMITS.data_path_depth + 1)))],
         "data_path_depth"),
        ([("search", "x" * (LIMITS.term_chars + 1))], "term_chars"),
        ([("data", "a__exact=" + "x" * LIMITS.term_chars)], "term_chars"),
        ([("object_type", "t," * (LIMITS.list_value_chars // 2 + 1))], "list_value_chars"),
    ],
)  # fmt: skip
async def test_registry_query_over_a_cap_is_400_naming_it(
    registry_client: httpx.AsyncClient, params: list[tuple[str, str]], limit: str
) -> None:
    response = await registry_client.get("/api/configs/", params=params)
    assert limit_of(response) == limit


async def test_registry_query_at_the_caps_answers(registry_client: httpx.AsyncClient) -> None:
    params = [("field", "name")] * LIMITS.field_terms + [
        ("search", " ".join(f"t{i}" for i in range(LIMITS.search_terms))),
        ("ordering", ",".join(["name"] * LIMITS.ordering_tokens)),
    ]
    response = await registry_client.get("/api/configs/", params=params)
    assert response.status_code == 200, response.text


async def test_registry_query_values_at_their_length_caps_answer(
    registry_client: httpx.AsyncClient,
) -> None:
    params = [
        ("search", "é" * LIMITS.term_chars),  # characters are counted, not encoded bytes
        ("object_type", ("t," * LIMITS.list_value_chars)[: LIMITS.list_value_chars]),
        ("data", "a__exact=" + "x" * (LIMITS.term_chars - len("a__exact="))),
    ]
    response = await registry_client.get("/api/configs/", params=params)
    assert response.status_code == 200, response.text


async def test_registry_refuses_data_nested_past_the_depth_cap(
    registry_client: httpx.AsyncClient,
) -> None:
    body = {"project_id": P, "data": nested(LIMITS.json_depth + 5)}
    response = await registry_client.post("/api/config/", json=body)
    assert limit_of(response) == "json_depth"
    assert (await registry_client.get("/api/configs/")).json() == []


async def test_registry_refuses_a_json_body_over_the_size_cap(
    registry_client: httpx.AsyncClient,
) -> None:
    body = {"project_id": P, "data": {"blob": "x" * LIMITS.json_bytes}}
    assert limit_of(await registry_client.post("/api/config/", json=body)) == "json_bytes"


@pytest.mark.parametrize(
    "content",
    [b'{"data": NaN}', b'{"data": Infinity}', b'{"data": 1e400}', b'{"data": "\\ud800"}'],
)
async def test_registry_refuses_values_json_cannot_store(
    registry_client: httpx.AsyncClient, content: bytes
) -> None:
    response = await registry_client.post(
        "/api/config/", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "INVALID_JSON"


async def test_headers_over_the_cap_are_400_naming_it(registry_client: httpx.AsyncClient) -> None:
    response = await registry_client.get(
        "/api/configs/", headers={"x-padding": "x" * LIMITS.header_bytes}
    )
    assert limit_of(response) == "header_bytes"


# --- configs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b'{"project_id": "%s", "object_type": "a", "data": NaN}' % P.encode(),
        b'{"project_id": "%s", "object_type": "a", "data": -Infinity}' % P.encode(),
        b'{"project_id": "%s", "object_type": "a", "data": 1e400}' % P.encode(),
        b'{"project_id": "%s", "object_type": "a", "data": "\\ud800"}' % P.encode(),
    ],
)
async def test_configs_refuses_values_json_cannot_store(
    configs_client: httpx.AsyncClient, writer: dict[str, str], content: bytes
) -> None:
    headers = {**writer, "content-type": "application/json"}
    response = await configs_client.post("/configs/", content=content, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["detail"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("depth", [LIMITS.json_depth + 1, 1000, 10_000])
async def test_configs_refuses_deep_json(
    configs_client: httpx.AsyncClient, writer: dict[str, str], depth: int
) -> None:
    deep = "[" * depth + "1" + "]" * depth
    content = f'{{"project_id": "{P}", "object_type": "a", "data": {deep}}}'
    headers = {**writer, "content-type": "application/json"}
    response = await configs_client.post("/configs/", content=content, headers=headers)
    assert limit_of(response) == "json_depth"


async def test_configs_refuses_a_type_name_the_registry_could_not_store(
    configs_client: httpx.AsyncClient, writer: dict[str, str]
) -> None:
    body = {"project_id": P, "object_type": "t" * 181, "data": {}}
    response = await configs_client.post("/configs/", json=body, headers=writer)
    assert response.status_code == 400
    assert "object_type" in response.json()["detail"]["fields"]


async def test_configs_stores_the_longest_type_name_at_the_account_level(
    configs_client: httpx.AsyncClient, writer: dict[str, str]
) -> None:
    account = "0d9c3f3e-8a49-4a43-9c53-6a1b1c0f8c11"
    body = {"project_id": P, "account_id": account, "object_type": "t" * 180, "data": {}}
    response = await configs_client.post(
        "/configs/", json=body, headers={**writer, "Account-ID": account}
    )
    assert response.status_code == 201, response.text


# --- step --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/contests/user/my/task/", "/contests/user/my/task/send_solution"]
)
async def test_step_refuses_deep_json(
    step_client: httpx.AsyncClient, world: World, path: str
) -> None:
    deep = "[" * 10_000 + "1" + "]" * 10_000
    content = f'{{"contest_id": "{C_ACTIVE}", "x": {deep}}}'
    headers = {**world.headers(STRANGER), "content-type": "application/json"}
    response = await step_client.post(path, content=content, headers=headers)
    assert limit_of(response) == "json_depth"
