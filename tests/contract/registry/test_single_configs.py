"""Single-record routes of configs: create, retrieve, PUT, PATCH, deactivate (spec §4)."""

from __future__ import annotations

import datetime as dt

import pytest

from .helpers import (
    CONFIG_FIELDS,
    MISSING,
    P1,
    P2,
    U1,
    create_config,
    detail,
    list_of,
    parse_ts,
)

pytestmark = pytest.mark.anyio


# --- create ---------------------------------------------------------------------------------


async def test_create_answers_201_with_the_stored_record_in_field_order(registry_client):
    response = await registry_client.post(
        "/api/config/",
        json={
            "object_type": "theme",
            "name": "Dark theme",
            "object_code": "theme-dark",
            "project_id": P1,
            "data": {"bg": "#000", "size": 14},
        },
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == CONFIG_FIELDS
    assert body["project_id"] == P1
    assert body["account_id"] is None and body["user_id"] is None
    assert body["object_item"] is None
    assert (body["object_type"], body["name"], body["object_code"]) == (
        "theme",
        "Dark theme",
        "theme-dark",
    )
    assert body["meta"] == {"status": "active", "flags": 0, "internal_id": 1}
    assert body["data"] == {"bg": "#000", "size": 14}


async def test_create_timestamps_are_utc_iso_with_microseconds(registry_client):
    before = dt.datetime.now(dt.UTC)
    body = await create_config(registry_client, name="x")
    created = parse_ts(body["created_date"])
    assert body["created_date"].endswith("+00:00")
    assert len(body["created_date"].split(".")[1]) == len("123456+00:00")
    assert created.utcoffset() == dt.timedelta(0)
    assert before - dt.timedelta(seconds=5) < created < before + dt.timedelta(seconds=30)
    assert body["modified_date"] == body["created_date"]


async def test_create_without_data_stores_an_empty_object(registry_client):
    assert (await create_config(registry_client))["data"] == {}


async def test_create_with_null_data_stores_null(registry_client):
    assert (await create_config(registry_client, data=None))["data"] is None


async def test_create_stores_any_json_data(registry_client):
    for data in ([1, "a", None], "text", 12.5, True):
        assert (await create_config(registry_client, data=data))["data"] == data


async def test_internal_ids_follow_the_sequence_and_ignore_the_client(registry_client):
    first = await create_config(registry_client, meta={"internal_id": 48})
    second = await create_config(registry_client)
    assert first["meta"]["internal_id"] == 1
    assert second["meta"]["internal_id"] == 2


async def test_create_keeps_status_flags_and_other_meta_keys(registry_client):
    body = await create_config(
        registry_client, meta={"status": "inactive", "flags": 4, "note": "kept"}
    )
    assert body["meta"] == {"status": "inactive", "flags": 4, "note": "kept", "internal_id": 1}


async def test_rejected_create_does_not_advance_the_sequence(registry_client):
    response = await registry_client.post("/api/config/", json={"project_id": "bad"})
    assert response.status_code == 400
    assert (await create_config(registry_client))["meta"]["internal_id"] == 1


async def test_create_ignores_timestamps_in_the_body(registry_client):
    body = await create_config(registry_client, created_date="2000-01-01T00:00:00Z")
    assert not body["created_date"].startswith("2000")


async def test_create_trims_strings(registry_client):
    body = await create_config(registry_client, name="  Dark  ", object_type=" t ")
    assert (body["name"], body["object_type"]) == ("Dark", "t")


async def test_create_accepts_any_uuid_spelling_and_renders_it_canonical(registry_client):
    body = await create_config(
        registry_client,
        project_id="{11111111-1111-4111-8111-111111111111}",
        user_id="urn:uuid:BBBBBBBB000040008000000000000001",
    )
    assert body["project_id"] == P1
    assert body["user_id"] == U1


async def test_create_with_a_client_id_uses_it(registry_client):
    body = await create_config(registry_client, id=MISSING.upper())
    assert body["id"] == MISSING


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"project_id": "bad"}, {"project_id": ["Must be a valid UUID."]}),
        ({"object_item": 12}, {"object_item": ["Must be a valid UUID."]}),
        ({"id": "nope"}, {"id": ["Must be a valid UUID."]}),
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"name": "   "}, {"name": ["This field may not be blank."]}),
        (
            {"object_code": "x" * 255},
            {"object_code": ["Ensure this field has no more than 254 characters."]},
        ),
        ({"object_type": ["a"]}, {"object_type": ["Not a valid string."]}),
        ({"object_type": True}, {"object_type": ["Not a valid string."]}),
        ({"object_type": 5}, {"object_type": ["Not a valid string."]}),
        ({"name": 1.5}, {"name": ["Not a valid string."]}),
        ({"name": "a\u0000b"}, {"name": ["Null characters are not allowed."]}),
        ({"meta": None}, {"meta": ["This field may not be null."]}),
        ({"meta": "x"}, {"meta": ['Expected a dictionary of items but got type "str".']}),
        ({"meta": {"status": "deleted"}}, {"meta.status": ['"deleted" is not a valid choice.']}),
        ({"meta": {"flags": "abc"}}, {"meta.flags": ["A valid integer is required."]}),
        ({"meta": {"flags": 1.5}}, {"meta.flags": ["A valid integer is required."]}),
        ({"meta": {"flags": True}}, {"meta.flags": ["A valid integer is required."]}),
        (
            {"data": {"k": "a\u0000"}},
            {"data": ["Text must be valid Unicode without null characters."]},
        ),
    ],
)
async def test_create_rejects_invalid_fields_with_the_field_map(registry_client, body, fields):
    response = await registry_client.post("/api/config/", json=body)
    assert response.status_code == 400
    d = detail(response)
    assert d["code"] == "VALIDATION_ERROR"
    assert d["fields"] == fields
    assert await list_of(registry_client, "/api/configs/") == []


async def test_create_reports_every_invalid_field_at_once(registry_client):
    response = await registry_client.post(
        "/api/config/", json={"project_id": "x", "account_id": "y", "name": ""}
    )
    assert set(detail(response)["fields"]) == {"project_id", "account_id", "name"}


async def test_create_with_a_lone_surrogate_in_data_is_400(registry_client):
    response = await registry_client.post(
        "/api/config/",
        content=b'{"data": {"k": "\\ud800"}}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert detail(response)["code"] == "INVALID_JSON"  # refused by the body reader


async def test_create_rejects_an_array_body(registry_client):
    response = await registry_client.post("/api/config/", json=[{"name": "a"}])
    assert response.status_code == 400
    assert detail(response)["fields"] == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }


async def test_empty_json_body_creates_a_default_config(registry_client):
    response = await registry_client.post(
        "/api/config/", content=b"", headers={"content-type": "application/json"}
    )
    assert response.status_code == 201
    assert response.json()["meta"]["internal_id"] == 1


async def test_duplicate_object_code_is_409_entity_exists(registry_client):
    await create_config(registry_client, object_code="theme-dark")
    response = await registry_client.post("/api/config/", json={"object_code": "theme-dark"})
    assert response.status_code == 409
    d = detail(response)
    assert d["code"] == "ENTITY_EXISTS"
    assert d["message"] == "config with this object code already exists."
    assert d["fields"] == {"object_code": ["config with this object code already exists."]}


async def test_a_refused_duplicate_does_not_consume_an_internal_id(registry_client):
    await create_config(registry_client, object_code="c")
    await registry_client.post("/api/config/", json={"object_code": "c"})
    assert (await create_config(registry_client))["meta"]["internal_id"] == 2


async def test_null_object_codes_never_clash(registry_client):
    for _ in range(3):
        await create_config(registry_client, object_code=None)
    assert len(await list_of(registry_client, "/api/configs/")) == 3


async def test_an_existing_id_is_409_naming_the_id(registry_client):
    await create_config(registry_client, id=MISSING)
    response = await registry_client.post("/api/config/", json={"id": MISSING})
    assert response.status_code == 409
    assert detail(response)["fields"] == {"id": ["This field must be unique."]}


# --- retrieve -------------------------------------------------------------------------------


async def test_retrieve_returns_the_record(registry_client):
    created = await create_config(registry_client, name="x", data={"a": [1, {"b": None}]})
    response = await registry_client.get(f"/api/config/{created['id']}/")
    assert response.status_code == 200
    assert response.json() == created


async def test_retrieve_accepts_a_non_canonical_id_in_the_path(registry_client):
    created = await create_config(registry_client)
    response = await registry_client.get(f"/api/config/{created['id'].upper()}/")
    assert response.json()["id"] == created["id"]


async def test_retrieve_unknown_id_is_404_with_the_originals_message(registry_client):
    response = await registry_client.get(f"/api/config/{MISSING}/")
    assert response.status_code == 404
    assert detail(response) == {
        "code": "NOT_FOUND",
        "message": "No Config matches the given query.",
    }


@pytest.mark.parametrize("bad", ["12345", "not-a-uuid", f"{MISSING}.json"])
async def test_retrieve_a_malformed_id_is_404_not_found(registry_client, bad):
    response = await registry_client.get(f"/api/config/{bad}/")
    assert response.status_code == 404
    assert detail(response)["code"] == "NOT_FOUND"


async def test_inactive_records_are_still_retrieved(registry_client):
    created = await create_config(registry_client, meta={"status": "inactive"})
    response = await registry_client.get(f"/api/config/{created['id']}/")
    assert response.json()["meta"]["status"] == "inactive"


# --- PUT ------------------------------------------------------------------------------------


async def test_put_replaces_every_writable_field(registry_client):
    created = await create_config(
        registry_client,
        project_id=P1,
        user_id=U1,
        object_type="theme",
        object_code="theme-dark",
        name="Dark",
        meta={"flags": 4},
        data={"bg": "#000", "size": 14},
    )
    response = await registry_client.put(
        f"/api/config/{created['id']}/", json={"name": "Darker", "data": {"bg": "#111"}}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Darker"
    assert body["data"] == {"bg": "#111"}
    assert body["project_id"] is None and body["user_id"] is None
    assert body["object_type"] is None and body["object_code"] is None
    assert body["meta"] == {"status": "active", "flags": 4, "internal_id": 1}
    assert body["created_date"] == created["created_date"]
    assert parse_ts(body["modified_date"]) > parse_ts(created["modified_date"])


async def test_put_without_data_resets_it_to_an_empty_object(registry_client):
    created = await create_config(registry_client, data={"a": 1})
    response = await registry_client.put(f"/api/config/{created['id']}/", json={})
    assert response.json()["data"] == {}


async def test_put_merges_meta_and_ignores_internal_id(registry_client):
    created = await create_config(registry_client, meta={"flags": 4, "note": "x"})
    response = await registry_client.put(
        f"/api/config/{created['id']}/",
        json={"meta": {"status": "inactive", "internal_id": None, "extra": 1}},
    )
    assert response.json()["meta"] == {
        "status": "inactive",
        "flags": 4,
        "note": "x",
        "extra": 1,
        "internal_id": 1,
    }


async def test_put_body_id_may_equal_the_url_id_in_any_spelling(registry_client):
    created = await create_config(registry_client)
    response = await registry_client.put(
        f"/api/config/{created['id']}/", json={"id": created["id"].upper(), "name": "n"}
    )
    assert response.status_code == 200
    assert response.json()["id"] == created["id"]


async def test_put_with_another_body_id_is_409_id_mismatch_and_clones_nothing(registry_client):
    created = await create_config(registry_client, name="a")
    response = await registry_client.put(
        f"/api/config/{created['id']}/", json={"id": MISSING, "name": "b"}
    )
    assert response.status_code == 409
    assert detail(response)["code"] == "ID_MISMATCH"
    assert detail(response)["fields"] == {"id": ["Does not match the id in the URL."]}
    rows = await list_of(registry_client, "/api/configs/")
    assert [(r["id"], r["name"]) for r in rows] == [(created["id"], "a")]


async def test_put_unknown_id_is_404(registry_client):
    response = await registry_client.put(f"/api/config/{MISSING}/", json={"name": "x"})
    assert response.status_code == 404
    assert detail(response)["message"] == "No Config matches the given query."


async def test_put_invalid_body_is_400_and_leaves_the_row_unchanged(registry_client):
    created = await create_config(registry_client, name="a")
    response = await registry_client.put(
        f"/api/config/{created['id']}/", json={"name": "", "project_id": "x"}
    )
    assert response.status_code == 400
    after = (await registry_client.get(f"/api/config/{created['id']}/")).json()
    assert after == created


async def test_put_to_a_taken_object_code_is_409_and_changes_nothing(registry_client):
    await create_config(registry_client, object_code="taken")
    other = await create_config(registry_client, object_code="mine", name="m")
    response = await registry_client.put(
        f"/api/config/{other['id']}/", json={"object_code": "taken", "name": "changed"}
    )
    assert response.status_code == 409
    assert detail(response)["fields"] == {
        "object_code": ["config with this object code already exists."]
    }
    assert (await registry_client.get(f"/api/config/{other['id']}/")).json() == other


async def test_put_keeping_its_own_object_code_is_fine(registry_client):
    created = await create_config(registry_client, object_code="mine")
    response = await registry_client.put(
        f"/api/config/{created['id']}/", json={"object_code": "mine", "name": "n"}
    )
    assert response.status_code == 200


# --- PATCH ----------------------------------------------------------------------------------


async def test_patch_changes_only_the_given_fields(registry_client):
    created = await create_config(registry_client, project_id=P1, name="a", object_type="t")
    response = await registry_client.patch(
        f"/api/config/{created['id']}/", json={"name": "b", "project_id": P2}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["project_id"], body["object_type"]) == ("b", P2, "t")


async def test_patch_merges_data_shallowly(registry_client):
    created = await create_config(registry_client, data={"bg": "#111", "nested": {"a": 1}})
    response = await registry_client.patch(
        f"/api/config/{created['id']}/",
        json={"data": {"size": 16, "font": "mono", "nested": {"b": 2}}},
    )
    assert response.json()["data"] == {
        "bg": "#111",
        "size": 16,
        "font": "mono",
        "nested": {"b": 2},
    }


@pytest.mark.parametrize("data", [{}, None])
async def test_patch_with_empty_or_null_data_leaves_it_unchanged(registry_client, data):
    created = await create_config(registry_client, data={"a": 1})
    response = await registry_client.patch(f"/api/config/{created['id']}/", json={"data": data})
    assert response.json()["data"] == {"a": 1}


async def test_patch_merges_into_null_data_as_into_an_empty_object(registry_client):
    created = await create_config(registry_client, data=None)
    response = await registry_client.patch(f"/api/config/{created['id']}/", json={"data": {"a": 1}})
    assert response.json()["data"] == {"a": 1}


async def test_patch_data_onto_stored_non_object_data_is_409_and_writes_nothing(registry_client):
    created = await create_config(registry_client, data=[1, 2])
    response = await registry_client.patch(
        f"/api/config/{created['id']}/", json={"data": {"a": 1}, "name": "x"}
    )
    assert response.status_code == 409
    assert list(detail(response)["fields"]) == ["data"]
    assert (await registry_client.get(f"/api/config/{created['id']}/")).json() == created


async def test_patch_with_non_object_data_is_400(registry_client):
    created = await create_config(registry_client, data={"a": 1})
    response = await registry_client.patch(f"/api/config/{created['id']}/", json={"data": [1]})
    assert response.status_code == 400
    assert detail(response)["fields"] == {
        "data": ['Expected a dictionary of items but got type "list".']
    }


async def test_patch_merges_meta_and_can_reactivate(registry_client):
    created = await create_config(registry_client, meta={"flags": 3})
    await registry_client.delete(f"/api/config/{created['id']}/")
    response = await registry_client.patch(
        f"/api/config/{created['id']}/", json={"meta": {"status": "active", "flags2": 0}}
    )
    assert response.json()["meta"] == {
        "status": "active",
        "flags": 3,
        "flags2": 0,
        "internal_id": 1,
    }


async def test_empty_patch_only_bumps_modified_date(registry_client):
    created = await create_config(registry_client, name="a", data={"x": 1})
    response = await registry_client.patch(f"/api/config/{created['id']}/", json={})
    body = response.json()
    assert {k: v for k, v in body.items() if k != "modified_date"} == {
        k: v for k, v in created.items() if k != "modified_date"
    }
    assert parse_ts(body["modified_date"]) > parse_ts(created["modified_date"])


async def test_patch_with_another_id_is_409_id_mismatch(registry_client):
    created = await create_config(registry_client)
    response = await registry_client.patch(
        f"/api/config/{created['id']}/", json={"id": MISSING, "object_code": "new"}
    )
    assert response.status_code == 409
    assert detail(response)["code"] == "ID_MISMATCH"
    assert len(await list_of(registry_client, "/api/configs/")) == 1


async def test_patch_unknown_id_is_404(registry_client):
    response = await registry_client.patch(f"/api/config/{MISSING}/", json={})
    assert response.status_code == 404


# --- deactivate -----------------------------------------------------------------------------


async def test_delete_deactivates_and_keeps_the_other_meta_keys(registry_client):
    created = await create_config(registry_client, meta={"flags": 7, "note": "n"})
    response = await registry_client.delete(f"/api/config/{created['id']}/")
    assert response.status_code == 200
    assert response.json() == {"message": "Config deactivated"}
    after = (await registry_client.get(f"/api/config/{created['id']}/")).json()
    assert after["meta"] == {"status": "inactive", "flags": 7, "note": "n", "internal_id": 1}
    assert parse_ts(after["modified_date"]) > parse_ts(created["modified_date"])


async def test_delete_of_an_inactive_record_is_still_200(registry_client):
    created = await create_config(registry_client, meta={"status": "inactive"})
    response = await registry_client.delete(f"/api/config/{created['id']}/")
    assert response.status_code == 200


async def test_delete_unknown_id_is_404(registry_client):
    response = await registry_client.delete(f"/api/config/{MISSING}/")
    assert response.status_code == 404
    assert detail(response)["message"] == "No Config matches the given query."


async def test_nothing_is_ever_physically_deleted(registry_client):
    created = await create_config(registry_client)
    await registry_client.delete(f"/api/config/{created['id']}/")
    assert len(await list_of(registry_client, "/api/configs/")) == 1
