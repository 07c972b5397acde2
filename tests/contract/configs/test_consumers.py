"""Consumer registrations and writes that would break a consumer, against the real registry."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import pytest

from step_platform.contests.config_format import type_schemas
from step_platform.seed import seed_config_set

from .conftest import WRITE_ROLE, WRITER, A, P

pytestmark = pytest.mark.anyio

STEP_SCHEMAS = type_schemas()
NODE = {"value": "4fc9986b-d03b-4801-a672-a191c941e17c"}
OVERRIDE_ROLE = "configs:override"


@pytest.fixture
async def step_registered(configs_client, writer) -> dict[str, Any]:
    response = await configs_client.put(
        "/configs/_consumers/step/", json={"schemas": STEP_SCHEMAS}, headers=writer
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def seed_set(load_configs) -> dict[str, Any]:
    data = seed_config_set()
    await load_configs(P, data)
    return data


async def served(configs_client, reader, account_id: str | None = None) -> dict[str, Any]:
    headers = {**reader, **({"Account-ID": account_id} if account_id else {})}
    response = await configs_client.get("/configs/", headers=headers)
    return response.json().get("data", {})


def violation(type_name: str, *paths: str, consumer: str = "step") -> dict[str, Any]:
    return {"consumer": consumer, "type": type_name, "paths": list(paths)}


# --- registration ----------------------------------------------------------------------------


async def test_a_registration_is_listed(configs_client, step_registered, reader):
    assert step_registered["consumer"]["name"] == "step"
    response = await configs_client.get("/configs/_consumers/", headers=reader)
    assert response.status_code == 200, response.text
    (consumer,) = response.json()["consumers"]
    assert consumer["name"] == "step"
    assert sorted(consumer["types"]) == sorted(STEP_SCHEMAS)
    assert consumer["schemas"] == STEP_SCHEMAS
    assert consumer["registered_by"] == WRITER


async def test_one_registration_is_readable_by_name(configs_client, step_registered, reader):
    response = await configs_client.get("/configs/_consumers/step", headers=reader)
    assert response.status_code == 200, response.text
    assert response.json()["consumer"]["schemas"] == STEP_SCHEMAS
    missing = await configs_client.get("/configs/_consumers/other/", headers=reader)
    assert missing.status_code == 404
    assert missing.json()["detail"]["code"] == "NOT_FOUND"


async def test_registering_the_same_schemas_again_writes_nothing(
    configs_client, step_registered, writer, registry_calls
):
    registry_calls.clear()
    response = await configs_client.put(
        "/configs/_consumers/step/", json={"schemas": STEP_SCHEMAS}, headers=writer
    )
    assert response.status_code == 200, response.text
    assert [(c.method, c.url.path) for c in registry_calls] == [("GET", "/api/configs/")]


async def test_registering_new_schemas_replaces_the_old(
    configs_client, step_registered, writer, reader, registry_client
):
    schemas = {"node_id": STEP_SCHEMAS["node_id"]}
    response = await configs_client.put(
        "/configs/_consumers/step/", json={"schemas": schemas}, headers=writer
    )
    assert response.status_code == 200, response.text
    listed = (await configs_client.get("/configs/_consumers/", headers=reader)).json()
    assert [c["schemas"] for c in listed["consumers"]] == [schemas]
    rows = (await registry_client.get("/api/configs/", params={"object_type": "_consumer"})).json()
    assert len(rows) == 1


async def test_a_registration_without_the_write_role_is_403(configs_client, bearer, registry_calls):
    headers = await bearer()
    response = await configs_client.put(
        "/configs/_consumers/step/", json={"schemas": STEP_SCHEMAS}, headers=headers
    )
    assert response.status_code == 403, response.text
    assert response.json()["detail"]["code"] == "FORBIDDEN"
    assert registry_calls == []


async def test_a_registration_without_a_token_is_401(configs_client, registry_calls):
    response = await configs_client.put("/configs/_consumers/step/", json={"schemas": {}})
    assert response.status_code == 401
    assert registry_calls == []


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"type": "objekt"}, "'objekt' is not valid"),
        ({"type": "object", "required": "value"}, "'value' is not of type 'array'"),
        ({"properties": {"value": {"pattern": "("}}}, "is not a 'regex'"),
        ({"$ref": "https://example.com/schema.json"}, "must point inside the schema"),
        ({"$ref": "#/$defs/nowhere"}, "does not resolve"),
        ([1, 2], "a schema must be a JSON object or a boolean"),
    ],
)
async def test_an_invalid_json_schema_is_400_naming_the_schema_error(
    configs_client, writer, registry_calls, schema, problem
):
    response = await configs_client.put(
        "/configs/_consumers/step/",
        json={"schemas": {"node_id": schema}},
        headers=writer,
    )
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert detail["code"] == "INVALID_SCHEMA"
    assert "node_id" in detail["message"]
    assert problem in detail["message"]
    assert problem in detail["fields"]["schemas.node_id"][0]
    assert registry_calls == []


@pytest.mark.parametrize("body", [{}, {"schemas": {}}, {"schemas": [1]}, [1]])
async def test_a_registration_body_without_schemas_is_400(
    configs_client, writer, registry_calls, body
):
    response = await configs_client.put("/configs/_consumers/step/", json=body, headers=writer)
    assert response.status_code == 400, response.text
    assert response.json()["detail"]["code"] in ("BAD_REQUEST", "INVALID_SCHEMA")
    assert registry_calls == []


async def test_a_bad_consumer_name_is_400(configs_client, writer, registry_calls):
    response = await configs_client.put(
        "/configs/_consumers/-x%20y/", json={"schemas": STEP_SCHEMAS}, headers=writer
    )
    assert response.status_code == 400, response.text
    assert "name" in response.json()["detail"]["fields"]
    assert registry_calls == []


async def test_a_removed_consumer_no_longer_guards_writes(
    configs_client, step_registered, seed_set, writer, reader
):
    removed = await configs_client.delete("/configs/_consumers/step/", headers=writer)
    assert removed.status_code == 200, removed.text
    listed = await configs_client.get("/configs/_consumers/", headers=reader)
    assert listed.json()["consumers"] == []
    response = await configs_client.put(
        "/configs/node_id/", json={"data": {"value": "x"}}, headers=writer
    )
    assert response.status_code == 200, response.text


async def test_the_consumer_routes_answer_405_for_other_methods(configs_client, writer):
    response = await configs_client.post("/configs/_consumers/", json={}, headers=writer)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    response = await configs_client.get("/configs/_validate", headers=writer)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("name", ["_consumer", "_consumers", "_validate"])
async def test_reserved_names_are_not_config_types(configs_client, writer, name):
    response = await configs_client.post(
        "/configs/", json={"project_id": P, "object_type": name, "data": {}}, headers=writer
    )
    assert response.status_code == 400, response.text
    assert "object_type" in response.json()["detail"]["fields"]


# --- writes that would break a consumer --------------------------------------------------------


async def test_a_put_that_breaks_step_is_422_naming_consumer_type_and_paths(
    configs_client, step_registered, seed_set, writer, reader, registry_calls
):
    registry_calls.clear()
    response = await configs_client.put(
        "/configs/task_status_id/",
        json={"data": {"new": "nope", "approved": seed_set["task_status_id"]["approved"]}},
        headers=writer,
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["code"] == "BREAKS_CONSUMER"
    assert "step" in detail["message"]
    assert detail["violations"] == [
        violation(
            "task_status_id",
            "task_status_id.new",
            "task_status_id.completed",
            "task_status_id.rejection",
        )
    ]
    assert [(c.method, c.url.path) for c in registry_calls] == [("GET", "/api/configs/")]
    assert (await served(configs_client, reader))["task_status_id"] == seed_set["task_status_id"]


async def test_a_good_write_with_consumers_registered_costs_no_extra_registry_call(
    configs_client, step_registered, seed_set, writer, registry_calls
):
    registry_calls.clear()
    node = {"value": "0b6c1c4e-3f57-4a53-8f0e-2b1d8f8f6a01", "note": "extra keys are fine"}
    response = await configs_client.put("/configs/node_id/", json={"data": node}, headers=writer)
    assert response.status_code == 200, response.text
    assert [c.method for c in registry_calls] == ["GET", "PUT"]


async def test_a_post_that_breaks_step_is_422(configs_client, step_registered, writer):
    body = {"project_id": P, "object_type": "node_id", "data": ["not", "an", "object"]}
    response = await configs_client.post("/configs/", json=body, headers=writer)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["violations"] == [violation("node_id", "node_id")]
    good = await configs_client.post("/configs/", json={**body, "data": NODE}, headers=writer)
    assert good.status_code == 201, good.text


async def test_a_patch_that_removes_a_key_step_reads_is_422(
    configs_client, step_registered, seed_set, writer
):
    response = await configs_client.patch(
        "/configs/contest_status_id/", json={"data": {"voting": None}}, headers=writer
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["violations"] == [
        violation("contest_status_id", "contest_status_id.voting")
    ]


async def test_deleting_a_type_step_reads_is_422_naming_the_type(
    configs_client, step_registered, seed_set, writer, reader
):
    response = await configs_client.delete("/configs/node_id/", headers=writer)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["violations"] == [violation("node_id", "node_id")]
    assert (await served(configs_client, reader))["node_id"] == seed_set["node_id"]


async def test_types_no_consumer_reads_are_not_checked(configs_client, step_registered, writer):
    body = {"project_id": P, "object_type": "theme", "data": "anything"}
    assert (await configs_client.post("/configs/", json=body, headers=writer)).status_code == 201
    deleted = await configs_client.delete("/configs/theme/", headers=writer)
    assert deleted.status_code == 200, deleted.text


async def test_an_account_write_is_checked_in_the_accounts_view(
    configs_client, step_registered, seed_set, writer
):
    account = {**writer, "Account-ID": A}
    body = {"project_id": P, "account_id": A, "object_type": "node_id", "data": {"value": 1}}
    response = await configs_client.post("/configs/", json=body, headers=account)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["violations"] == [violation("node_id", "node_id.value")]


async def test_deleting_an_account_row_falls_back_to_the_project_row(
    configs_client, step_registered, seed_set, load_configs, writer
):
    await load_configs(P, {"node_id": NODE}, account_id=A)
    response = await configs_client.delete("/configs/node_id/", headers={**writer, "Account-ID": A})
    assert response.status_code == 200, response.text


async def test_deleting_an_account_row_over_a_broken_project_row_is_422(
    configs_client, step_registered, load_configs, writer
):
    await load_configs(P, {"node_id": {"value": "broken"}})
    await load_configs(P, {"node_id": NODE}, account_id=A)
    response = await configs_client.delete("/configs/node_id/", headers={**writer, "Account-ID": A})
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["violations"] == [violation("node_id", "node_id.value")]


async def test_every_consumer_that_breaks_is_named(
    configs_client, step_registered, seed_set, writer
):
    other = {"node_id": {"type": "object", "required": ["owner"]}}
    registered = await configs_client.put(
        "/configs/_consumers/reports/", json={"schemas": other}, headers=writer
    )
    assert registered.status_code == 201, registered.text
    response = await configs_client.put("/configs/node_id/", json={"data": {}}, headers=writer)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["violations"] == [
        violation("node_id", "node_id.owner", consumer="reports"),
        violation("node_id", "node_id.value"),
    ]


# --- the emergency override ----------------------------------------------------------------------


async def test_an_override_without_the_override_role_is_403(
    configs_client, step_registered, seed_set, writer, registry_calls
):
    registry_calls.clear()
    response = await configs_client.delete(
        "/configs/node_id/", headers={**writer, "X-Consumer-Override": "incident 42"}
    )
    assert response.status_code == 403, response.text
    assert [call.method for call in registry_calls] == ["GET"]  # read, nothing written


async def test_an_override_of_a_write_that_breaks_nothing_needs_no_role(
    configs_client, step_registered, seed_set, writer
):
    response = await configs_client.put(
        "/configs/node_id/",
        json={"data": NODE},
        headers={**writer, "X-Consumer-Override": "incident 42"},
    )
    assert response.status_code == 200, response.text
    assert "consumer_override" not in response.json()["data"]["meta"]


async def test_an_override_of_a_missing_config_is_404(configs_client, writer):
    response = await configs_client.delete(
        "/configs/node_id/", headers={**writer, "X-Consumer-Override": "incident 42"}
    )
    assert response.status_code == 404, response.text


async def test_an_override_lets_a_breaking_write_through_and_records_it(
    configs_client, step_registered, seed_set, bearer, caplog
):
    admin = {
        **await bearer(roles=(WRITE_ROLE, OVERRIDE_ROLE), user_id=WRITER),
        "Project-ID": P,
        "X-Consumer-Override": "incident 42: Raida node moved",
    }
    with caplog.at_level(logging.WARNING, logger="step_platform.configs.contracts"):
        response = await configs_client.put(
            "/configs/node_id/", json={"data": {"value": "moving"}}, headers=admin
        )
    assert response.status_code == 200, response.text
    row = response.json()["data"]
    assert row["data"] == {"value": "moving"}
    record = row["meta"]["consumer_override"]
    assert record["by"] == WRITER
    assert record["reason"] == "incident 42: Raida node moved"
    assert record["violations"] == [violation("node_id", "node_id.value")]
    assert row["meta"]["status"] == "active"
    assert any("incident 42" in r.getMessage() for r in caplog.records)


async def test_an_override_of_a_delete_is_recorded_on_the_deactivated_row(
    configs_client, step_registered, seed_set, bearer
):
    admin = {
        **await bearer(roles=(WRITE_ROLE, OVERRIDE_ROLE), user_id=WRITER),
        "Project-ID": P,
        "X-Consumer-Override": "project closed",
    }
    response = await configs_client.delete("/configs/node_id/", headers=admin)
    assert response.status_code == 200, response.text
    meta = response.json()["data"]["meta"]
    assert meta["status"] == "inactive"
    assert meta["consumer_override"]["violations"] == [violation("node_id", "node_id")]


async def test_an_empty_override_reason_is_400(configs_client, step_registered, bearer):
    admin = {
        **await bearer(roles=(WRITE_ROLE, OVERRIDE_ROLE)),
        "Project-ID": P,
        "X-Consumer-Override": " ",
    }
    response = await configs_client.delete("/configs/node_id/", headers=admin)
    assert response.status_code == 400, response.text


# --- the dry run ------------------------------------------------------------------------------


async def test_validate_accepts_a_good_set_without_writing(
    configs_client, step_registered, reader, registry_calls
):
    registry_calls.clear()
    response = await configs_client.post(
        "/configs/_validate", json={"data": seed_config_set()}, headers=reader
    )
    assert response.status_code == 200, response.text
    assert response.json()["consumers"] == ["step"]
    assert [c.method for c in registry_calls] == ["GET"]


async def test_validate_answers_the_writes_422_without_writing(
    configs_client, step_registered, seed_set, reader, registry_calls
):
    data = seed_config_set()
    data["node_id"] = {"value": "x"}
    registry_calls.clear()
    response = await configs_client.post(
        "/configs/_validate", json={"data": data, "deactivate": []}, headers=reader
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["code"] == "BREAKS_CONSUMER"
    assert response.json()["detail"]["violations"] == [violation("node_id", "node_id.value")]
    assert [c.method for c in registry_calls] == ["GET"]


async def test_validate_checks_deactivations_in_the_layered_view(
    configs_client, step_registered, seed_set, load_configs, reader
):
    await load_configs(P, {"node_id": NODE}, account_id=A)
    account = {**reader, "Account-ID": A}
    response = await configs_client.post(
        "/configs/_validate", json={"deactivate": ["node_id"]}, headers=account
    )
    assert response.status_code == 200, response.text
    response = await configs_client.post(
        "/configs/_validate", json={"deactivate": ["node_id"]}, headers=reader
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["violations"] == [violation("node_id", "node_id")]


@pytest.mark.parametrize(
    "body",
    [
        {},
        [1],
        {"data": []},
        {"data": {}},
        {"data": {"x": None}},
        {"deactivate": "x"},
        {"deactivate": ["a,b"]},
        {"data": {"x": 1}, "deactivate": ["x"]},
    ],
)
async def test_validate_refuses_a_malformed_body(configs_client, reader, registry_calls, body):
    response = await configs_client.post("/configs/_validate", json=body, headers=reader)
    assert response.status_code == 400, response.text
    assert registry_calls == []


async def test_instances_registering_at_once_leave_one_registration(
    start_configs, registry_app, writer, registry_client
):
    body = {"schemas": STEP_SCHEMAS}
    async with contextlib.AsyncExitStack() as stack:
        instances = [
            await stack.enter_async_context(start_configs(registry=registry_app)) for _ in range(3)
        ]
        responses = await asyncio.gather(
            *(c.put("/configs/_consumers/step/", json=body, headers=writer) for c in instances)
        )
    assert sorted(r.status_code for r in responses) == [200, 200, 201]
    rows = (await registry_client.get("/api/configs/", params={"object_type": "_consumer"})).json()
    assert len(rows) == 1
    assert rows[0]["data"] == {"name": "step", "schemas": STEP_SCHEMAS}


async def test_a_registration_on_one_instance_guards_writes_on_another(
    start_configs, registry_app, writer, seed_set
):
    async with start_configs(registry=registry_app) as first:
        registered = await first.put(
            "/configs/_consumers/step/", json={"schemas": STEP_SCHEMAS}, headers=writer
        )
        assert registered.status_code == 201, registered.text
    async with start_configs(registry=registry_app) as second:
        response = await second.delete("/configs/node_id/", headers=writer)
    assert response.status_code == 422, response.text


async def test_a_rollback_that_would_break_step_is_422_and_writes_nothing(
    configs_client, writer, reader, load_configs
):
    await load_configs(P, {"node_id": {"value": "not a uuid"}})  # before step registered
    registered = await configs_client.put(
        "/configs/_consumers/step/", json={"schemas": STEP_SCHEMAS}, headers=writer
    )
    assert registered.status_code == 201
    fixed = await configs_client.put("/configs/node_id/", json={"data": NODE}, headers=writer)
    assert fixed.status_code == 200, fixed.text
    history = (await configs_client.get("/configs/node_id/history/", headers=reader)).json()
    broken = history["results"][-1]["index"]  # the load, with the bad value
    response = await configs_client.post(
        "/configs/node_id/rollback/", json={"index": broken}, headers=writer
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["code"] == "BREAKS_CONSUMER"
    read = await configs_client.get("/configs/node_id/", headers=reader)
    assert read.json()["data"] == {"node_id": NODE}


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/configs/_consumers/", "GET, HEAD"),
        ("/configs/_consumers/step/", "GET, HEAD, PUT, DELETE"),
        ("/configs/_validate/", "POST"),
    ],
)
async def test_options_on_a_consumer_route_is_405_with_its_own_allow(
    configs_client, reader, path, allow
):
    response = await configs_client.options(path, headers=reader)
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allow


async def test_a_registration_key_that_is_no_type_name_is_kept_and_constrains_nothing(
    configs_client, writer, reader, seed_set
):
    schemas = {"a,b": {"type": "string"}, "_consumer": False, "node_id": True}
    response = await configs_client.put(
        "/configs/_consumers/odd/", json={"schemas": schemas}, headers=writer
    )
    assert response.status_code == 201, response.text
    assert response.json()["consumer"]["schemas"] == schemas
    written = await configs_client.put("/configs/node_id/", json={"data": NODE}, headers=writer)
    assert written.status_code == 200, written.text


async def test_a_registration_holding_u0000_is_stored_and_read_back(
    configs_client, writer, reader, seed_set
):
    schemas = {"node_id": {"type": "object", "properties": {"a\u0000b": {"enum": ["\u0000"]}}}}
    response = await configs_client.put(
        "/configs/_consumers/nul/", json={"schemas": schemas}, headers=writer
    )
    assert response.status_code == 201, response.text
    read = await configs_client.get("/configs/_consumers/nul/", headers=reader)
    assert read.json()["consumer"]["schemas"] == schemas
    again = await configs_client.put(
        "/configs/_consumers/nul/", json={"schemas": schemas}, headers=writer
    )
    assert again.status_code == 200, again.text  # unchanged: nothing written
    broken = {"data": {**NODE, "a\u0000b": "x"}}
    assert (
        await configs_client.put("/configs/node_id/", json=broken, headers=writer)
    ).status_code == 422


async def test_validate_leaves_out_a_data_key_that_is_no_type_name(configs_client, reader):
    response = await configs_client.post(
        "/configs/_validate", json={"data": {"a,b": 1}}, headers=reader
    )
    assert response.status_code == 200, response.text
