"""GET /configs/ and GET /configs/{types}/ against the real registry."""

from __future__ import annotations

import pytest

from step_platform.seed import seed_config_set
from tests.fixtures.configs import CONFIGS_BASE_URL

from .conftest import A, B, P

pytestmark = pytest.mark.anyio

ALL_MESSAGE = "Получены все конфиги для данных Project-ID и Account-ID."


def registry_query(calls) -> dict[str, str]:
    assert len(calls) == 1, [str(c.url) for c in calls]
    assert calls[0].method == "GET"
    assert calls[0].url.path == "/api/configs/"
    return dict(calls[0].url.params)


async def put_row(registry_client, **fields) -> dict:
    response = await registry_client.post("/api/config/", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def test_all_configs_of_the_project(configs_client, reader, load_configs, registry_calls):
    seed = seed_config_set()
    await load_configs(P, seed)
    response = await configs_client.get("/configs/", headers=reader)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["detail"] == {"code": "OK", "message": ALL_MESSAGE}
    assert body["data"] == seed
    assert body["sources"] == dict.fromkeys(seed, "project")
    assert "missing" not in body
    assert registry_query(registry_calls) == {
        "project_id": P,
        "account_id": "null",
        "meta_status": "active",
    }


async def test_configs_of_several_types_in_one_registry_call(
    configs_client, reader, load_configs, registry_calls
):
    seed = seed_config_set()
    await load_configs(P, seed)
    response = await configs_client.get("/configs/node_id,task_process_id/", headers=reader)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "detail": {"code": "OK", "message": "Данные по конфигам типа node_id,task_process_id."},
        "data": {"node_id": seed["node_id"], "task_process_id": seed["task_process_id"]},
        "sources": {"node_id": "project", "task_process_id": "project"},
        "missing": [],
    }
    assert registry_query(registry_calls) == {
        "project_id": P,
        "account_id": "null",
        "object_type": "node_id,task_process_id",
        "meta_status": "active",
    }


# absolute URLs: httpx would read a relative `//configs/...` as a host name
@pytest.mark.parametrize(
    "path", ["/configs/node_id", "/configs/node_id/", "//configs/node_id/", "//configs/node_id"]
)
async def test_paths_work_with_and_without_slashes_directly(
    configs_client, reader, load_configs, path
):
    await load_configs(P, {"node_id": {"value": "x"}})
    response = await configs_client.get(CONFIGS_BASE_URL + path, headers=reader)
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"node_id": {"value": "x"}}


@pytest.mark.parametrize("path", ["/configs", "//configs/"])
async def test_the_collection_works_without_its_slash(configs_client, reader, load_configs, path):
    await load_configs(P, {"node_id": 1})
    response = await configs_client.get(CONFIGS_BASE_URL + path, headers=reader)
    assert response.status_code == 200, response.text


async def test_some_types_found_lists_the_missing_ones(configs_client, reader, load_configs):
    await load_configs(P, {"a": 1, "c": 3})
    response = await configs_client.get("/configs/a,b,c,d/", headers=reader)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] == {"a": 1, "c": 3}
    assert body["missing"] == ["b", "d"]


async def test_no_type_found_is_404_naming_them(configs_client, reader, load_configs):
    await load_configs(P, {"a": 1})
    response = await configs_client.get("/configs/b,c/", headers=reader)
    assert response.status_code == 404, response.text
    assert response.json() == {
        "detail": {"code": "NOT_FOUND", "message": "Конфиги не найдены.", "missing": ["b", "c"]}
    }


async def test_a_project_without_configs_is_404(configs_client, reader, registry_calls):
    response = await configs_client.get("/configs/", headers=reader)
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == {"code": "NOT_FOUND", "message": "Конфиги не найдены."}
    assert len(registry_calls) == 1


async def test_other_projects_are_not_visible(configs_client, reader, load_configs):
    await load_configs("11111111-2222-4333-8444-555555555555", {"a": 1})
    response = await configs_client.get("/configs/", headers=reader)
    assert response.status_code == 404, response.text


# --- layering ------------------------------------------------------------------------------


async def test_an_account_config_overrides_the_project_config(
    configs_client, reader, load_configs, registry_calls
):
    await load_configs(P, {"node_id": "project", "status": "project"})
    await load_configs(P, {"node_id": "account"}, account_id=A)
    response = await configs_client.get(
        "/configs/node_id,status/", headers={**reader, "Account-ID": A}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] == {"node_id": "account", "status": "project"}
    assert body["sources"] == {"node_id": "account", "status": "project"}
    assert registry_query(registry_calls)["account_id"] == f"{A},null"


async def test_the_override_holds_whatever_was_created_first(configs_client, reader, load_configs):
    await load_configs(P, {"node_id": "account"}, account_id=A)
    await load_configs(P, {"node_id": "project"})
    response = await configs_client.get("/configs/", headers={**reader, "Account-ID": A})
    assert response.json()["data"] == {"node_id": "account"}


async def test_without_account_id_only_the_project_level_is_served(
    configs_client, reader, load_configs
):
    await load_configs(P, {"node_id": "project"})
    await load_configs(P, {"node_id": "account", "extra": "account"}, account_id=A)
    response = await configs_client.get("/configs/", headers=reader)
    assert response.json()["data"] == {"node_id": "project"}


async def test_another_accounts_configs_never_apply(configs_client, reader, load_configs):
    await load_configs(P, {"node_id": "project"})
    await load_configs(P, {"node_id": "b"}, account_id=B)
    response = await configs_client.get("/configs/node_id/", headers={**reader, "Account-ID": A})
    assert response.json()["data"] == {"node_id": "project"}
    assert response.json()["sources"] == {"node_id": "project"}


async def test_of_two_rows_at_one_level_the_newer_wins(configs_client, reader, registry_client):
    await put_row(registry_client, project_id=P, object_type="node_id", object_code="x1", data=1)
    await put_row(registry_client, project_id=P, object_type="node_id", object_code="x2", data=2)
    await put_row(registry_client, project_id=P, object_type="other", object_code="x3", data=3)
    response = await configs_client.get("/configs/node_id/", headers=reader)
    assert response.json()["data"] == {"node_id": 2}


async def test_deactivated_configs_are_not_served(
    configs_client, reader, load_configs, registry_client
):
    await load_configs(P, {"node_id": "project"})
    await load_configs(P, {"node_id": "account"}, account_id=A)
    rows = (await registry_client.get("/api/configs/", params={"account_id": A})).json()
    deactivated = await registry_client.delete(f"/api/config/{rows[0]['id']}/")
    assert deactivated.status_code == 200, deactivated.text
    response = await configs_client.get("/configs/node_id/", headers={**reader, "Account-ID": A})
    assert response.json()["data"] == {"node_id": "project"}
    assert response.json()["sources"] == {"node_id": "project"}


async def test_only_deactivated_configs_is_404(
    configs_client, reader, load_configs, registry_client
):
    await load_configs(P, {"node_id": "project"})
    rows = (await registry_client.get("/api/configs/")).json()
    await registry_client.delete(f"/api/config/{rows[0]['id']}/")
    response = await configs_client.get("/configs/node_id/", headers=reader)
    assert response.status_code == 404, response.text


# --- type names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/configs/node_id%26project_id%3Dx/",
        "/configs/node_id,/",
        "/configs/node%20id/",
        "/configs/a,,b/",
        "/configs/%D1%82%D0%B8%D0%BF/",
    ],
)
async def test_type_names_outside_the_alphabet_are_400(
    configs_client, reader, registry_calls, path
):
    response = await configs_client.get(path, headers=reader)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert detail["code"] == "BAD_REQUEST"
    assert isinstance(detail["message"], str)
    assert "config_type" in detail["fields"]
    assert registry_calls == []


async def test_repeated_types_are_asked_for_once(
    configs_client, reader, load_configs, registry_calls
):
    await load_configs(P, {"a": 1})
    response = await configs_client.get("/configs/a,a/", headers=reader)
    assert response.status_code == 200, response.text
    assert response.json()["detail"]["message"] == "Данные по конфигам типа a,a."
    assert registry_query(registry_calls)["object_type"] == "a"


async def test_head_answers_like_get_without_a_body(configs_client, reader, load_configs):
    await load_configs(P, {"a": 1})
    response = await configs_client.head("/configs/a/", headers=reader)
    assert response.status_code == 200
    assert response.content == b""


async def test_the_request_id_is_forwarded_to_the_registry(
    configs_client, reader, load_configs, registry_calls
):
    await load_configs(P, {"a": 1})
    response = await configs_client.get("/configs/a/", headers={**reader, "X-Request-ID": "rq-1"})
    assert response.headers["x-request-id"] == "rq-1"
    assert response.headers["x-served-by"] == "configs/test"
    assert registry_calls[0].headers["x-request-id"] == "rq-1"
