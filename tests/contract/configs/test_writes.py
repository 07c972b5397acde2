"""POST /configs/, PUT / PATCH / DELETE /configs/{type}/ against the real registry."""

from __future__ import annotations

import pytest

from step_platform.configs.object_code import config_object_code

from .conftest import WRITER, A, P

pytestmark = pytest.mark.anyio

CREATED = "Конфиги добавлены в реестр."
NODE = {"value": "4fc9986b-d03b-4801-a672-a191c941e17c"}


def new(**changes):
    return {"project_id": P, "object_type": "node_id", "data": NODE, **changes}


async def registry_rows(registry_client, **params) -> list[dict]:
    response = await registry_client.get("/api/configs/", params=params)
    assert response.status_code == 200, response.text
    return response.json()


# --- create --------------------------------------------------------------------------------


async def test_create_stores_the_config_as_the_original(
    configs_client, writer, registry_client, registry_calls
):
    response = await configs_client.post("/configs/", json=new(), headers=writer)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["detail"] == {"code": "OK", "message": CREATED}
    (row,) = await registry_rows(registry_client)
    assert body["data"] == row
    assert row["project_id"] == P
    assert row["account_id"] is None
    assert row["user_id"] == WRITER
    assert row["object_type"] == "node_id"
    assert row["object_code"] == config_object_code(P, None, "node_id")
    assert row["meta"]["status"] == "active"
    assert row["data"] == NODE
    assert [(c.method, c.url.path) for c in registry_calls] == [
        ("GET", "/api/configs/"),
        ("POST", "/api/config/"),
    ]


async def test_a_created_config_is_served(configs_client, writer, reader):
    await configs_client.post("/configs/", json=new(), headers=writer)
    response = await configs_client.get("/configs/node_id", headers=reader)
    assert response.json()["data"] == {"node_id": NODE}


async def test_create_at_account_level(configs_client, writer, registry_client):
    headers = {**writer, "Account-ID": A}
    response = await configs_client.post("/configs/", json=new(account_id=A), headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["account_id"] == A
    assert response.json()["data"]["object_code"] == f"{P}:{A}:node_id"


async def test_create_without_the_trailing_slash(configs_client, writer):
    response = await configs_client.post("/configs", json=new(), headers=writer)
    assert response.status_code == 201, response.text


async def test_a_duplicate_create_is_409_entity_exists(
    configs_client, writer, registry_client, registry_calls
):
    await configs_client.post("/configs/", json=new(), headers=writer)
    registry_calls.clear()
    response = await configs_client.post("/configs/", json=new(data={"v": 2}), headers=writer)
    assert response.status_code == 409, response.text
    assert response.json()["detail"] == {
        "code": "ENTITY_EXISTS",
        "message": "Идентификатор такого типа уже существует",
    }
    assert len(registry_calls) == 1
    assert [r["data"] for r in await registry_rows(registry_client)] == [NODE]


async def test_a_project_config_does_not_block_the_account_one(configs_client, writer):
    await configs_client.post("/configs/", json=new(), headers=writer)
    response = await configs_client.post("/configs/", json=new(account_id=A), headers=writer)
    assert response.status_code == 201, response.text


async def test_creating_a_deactivated_config_reactivates_it(
    configs_client, writer, registry_client
):
    first = (await configs_client.post("/configs/", json=new(), headers=writer)).json()["data"]
    await configs_client.delete("/configs/node_id/", headers=writer)
    response = await configs_client.post("/configs/", json=new(data={"v": 2}), headers=writer)
    assert response.status_code == 201, response.text
    row = response.json()["data"]
    assert row["id"] == first["id"]
    assert row["meta"]["status"] == "active"
    assert row["data"] == {"v": 2}
    assert len(await registry_rows(registry_client)) == 1


async def test_create_body_errors_are_400_with_fields(configs_client, writer, registry_calls):
    response = await configs_client.post(
        "/configs/", json={"project_id": "x", "account_id": None}, headers=writer
    )
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert detail["code"] == "BAD_REQUEST"
    assert isinstance(detail["message"], str)
    assert detail["fields"] == {
        "project_id": ["Must be a valid UUID."],
        "account_id": ["This field may not be null."],
        "object_type": ["This field is required."],
        "data": ["This field is required."],
    }
    assert registry_calls == []


async def test_a_body_project_other_than_the_header_is_403(configs_client, writer, registry_calls):
    other = "11111111-2222-4333-8444-555555555555"
    response = await configs_client.post("/configs/", json=new(project_id=other), headers=writer)
    assert response.status_code == 403, response.text
    assert response.json()["detail"]["code"] == "FORBIDDEN"
    assert list(response.json()["detail"]["fields"]) == ["project_id"]
    assert registry_calls == []


async def test_a_body_account_other_than_the_header_is_403(configs_client, writer, registry_calls):
    other = "11111111-2222-4333-8444-555555555555"
    response = await configs_client.post(
        "/configs/", json=new(account_id=other), headers={**writer, "Account-ID": A}
    )
    assert response.status_code == 403, response.text
    assert list(response.json()["detail"]["fields"]) == ["account_id"]
    assert registry_calls == []


async def test_a_malformed_body_is_400_before_the_context_check(configs_client, writer):
    other = "11111111-2222-4333-8444-555555555555"
    body = new(project_id=other, object_type="node&id")
    response = await configs_client.post("/configs/", json=body, headers=writer)
    assert response.status_code == 400, response.text
    assert list(response.json()["detail"]["fields"]) == ["object_type"]


async def test_a_bad_type_name_on_create_is_400(configs_client, writer):
    response = await configs_client.post(
        "/configs/", json=new(object_type="node&id"), headers=writer
    )
    assert response.status_code == 400, response.text
    assert list(response.json()["detail"]["fields"]) == ["object_type"]


async def test_malformed_json_is_400(configs_client, writer, registry_calls):
    response = await configs_client.post(
        "/configs/",
        content=b'{"project_id": ',
        headers={**writer, "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["detail"]["code"] == "BAD_REQUEST"
    assert response.json()["detail"]["message"].startswith("JSON parse error - ")
    assert registry_calls == []


async def test_a_form_body_works_as_in_the_original(configs_client, writer):
    form = {"project_id": P, "object_type": "node_id", "data": '{"value": 1}'}
    response = await configs_client.post("/configs/", data=form, headers=writer)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["data"] == {"value": 1}


async def test_an_unsupported_media_type_is_415(configs_client, writer):
    response = await configs_client.post(
        "/configs/", content=b"x", headers={**writer, "Content-Type": "text/plain"}
    )
    assert response.status_code == 415, response.text
    assert response.json()["detail"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


# --- replace, merge, deactivate ------------------------------------------------------------


@pytest.fixture
async def stored(configs_client, writer, registry_client):
    """A project-level `node_id` created by someone else before the test's writer acts."""
    created = await registry_client.post(
        "/api/config/",
        json={
            "project_id": P,
            "object_type": "node_id",
            "object_code": config_object_code(P, None, "node_id"),
            "user_id": "7a1f3a52-1a7e-4c3a-9a55-5a8c4f1e2b03",
            "data": {"a": {"b": 1, "c": 2}, "keep": True},
        },
    )
    assert created.status_code == 201, created.text
    return created.json()


async def test_put_replaces_the_data_and_records_the_writer(
    configs_client, writer, stored, registry_client, registry_calls
):
    response = await configs_client.put(
        "/configs/node_id/", json={"data": {"x": 1}}, headers=writer
    )
    assert response.status_code == 200, response.text
    row = response.json()["data"]
    assert response.json()["detail"]["code"] == "OK"
    assert row["id"] == stored["id"]
    assert row["data"] == {"x": 1}
    assert row["user_id"] == WRITER
    assert row["object_code"] == stored["object_code"]
    assert row["created_date"] == stored["created_date"]
    assert row["modified_date"] > stored["modified_date"]
    assert [(c.method, c.url.path) for c in registry_calls] == [
        ("GET", "/api/configs/"),
        ("PUT", f"/api/config/{stored['id']}/"),
    ]
    (in_registry,) = await registry_rows(registry_client)
    assert in_registry == row


async def test_patch_applies_a_merge_patch(configs_client, writer, stored, reader):
    response = await configs_client.patch(
        "/configs/node_id", json={"data": {"a": {"c": None, "d": 3}, "new": "x"}}, headers=writer
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["data"] == {"a": {"b": 1, "d": 3}, "keep": True, "new": "x"}
    assert response.json()["data"]["user_id"] == WRITER
    served = await configs_client.get("/configs/node_id/", headers=reader)
    assert served.json()["data"]["node_id"] == {"a": {"b": 1, "d": 3}, "keep": True, "new": "x"}


async def test_delete_deactivates_and_records_the_writer(
    configs_client, writer, stored, reader, registry_client, registry_calls
):
    response = await configs_client.delete("/configs/node_id/", headers=writer)
    assert response.status_code == 200, response.text
    row = response.json()["data"]
    assert row["meta"]["status"] == "inactive"
    assert row["user_id"] == WRITER
    assert row["modified_date"] > stored["modified_date"]
    assert row["data"] == stored["data"]
    assert [(c.method, c.url.path) for c in registry_calls] == [
        ("GET", "/api/configs/"),
        ("PATCH", f"/api/config/{stored['id']}/"),
    ]
    served = await configs_client.get("/configs/node_id/", headers=reader)
    assert served.status_code == 404


async def test_writes_address_the_level_of_the_headers(
    configs_client, writer, stored, load_configs, reader
):
    await load_configs(P, {"node_id": {"account": 1}}, account_id=A)
    account = {**writer, "Account-ID": A}
    response = await configs_client.put("/configs/node_id/", json={"data": 5}, headers=account)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["account_id"] == A
    project = await configs_client.get("/configs/node_id/", headers=reader)
    assert project.json()["data"]["node_id"] == stored["data"]
    await configs_client.delete("/configs/node_id/", headers=account)
    fallback = await configs_client.get("/configs/node_id/", headers={**reader, "Account-ID": A})
    assert fallback.json()["sources"] == {"node_id": "project"}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_writing_a_config_that_is_not_there_is_404(
    configs_client, writer, stored, registry_calls, method
):
    # only a project-level row exists: the account level has nothing to change
    body = None if method == "DELETE" else {"data": {}}
    response = await configs_client.request(
        method, "/configs/node_id/", json=body, headers={**writer, "Account-ID": A}
    )
    assert response.status_code == 404, response.text
    assert response.json()["detail"]["code"] == "NOT_FOUND"
    assert len(registry_calls) == 1


async def test_a_deactivated_config_cannot_be_changed(configs_client, writer, stored):
    await configs_client.delete("/configs/node_id/", headers=writer)
    response = await configs_client.put("/configs/node_id/", json={"data": 1}, headers=writer)
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("body", [{}, {"data": None}, [1], "x"])
async def test_put_needs_non_null_data(configs_client, writer, stored, registry_calls, body):
    response = await configs_client.put("/configs/node_id/", json=body, headers=writer)
    assert response.status_code == 400, response.text
    assert response.json()["detail"]["code"] == "BAD_REQUEST"
    assert registry_calls == []


async def test_writes_take_exactly_one_type(configs_client, writer, registry_calls):
    response = await configs_client.put("/configs/a,b/", json={"data": 1}, headers=writer)
    assert response.status_code == 400, response.text
    assert registry_calls == []


async def test_a_wrong_method_is_405_with_allow(configs_client, writer):
    response = await configs_client.put("/configs/", json={}, headers=writer)
    assert response.status_code == 405
    assert response.json()["detail"]["code"] == "METHOD_NOT_ALLOWED"
    assert "POST" in response.headers["allow"]
    response = await configs_client.post("/configs/node_id/", json={}, headers=writer)
    assert response.status_code == 405
    assert "PATCH" in response.headers["allow"]
