"""Bulk routes: create, PUT, PATCH, deactivate — all or nothing, request order (spec §5)."""

from __future__ import annotations

import pytest

from .helpers import MISSING, P1, create_config, create_link, detail, link_body, list_of, names

pytestmark = pytest.mark.anyio

ID_A = "aaaaaaaa-0000-4000-8000-000000000001"
ID_B = "bbbbbbbb-0000-4000-8000-000000000002"


async def snapshot(client):
    return sorted((await list_of(client, "/api/configs/")), key=lambda r: r["id"])


# --- bulk create ----------------------------------------------------------------------------


async def test_bulk_create_answers_201_in_request_order_with_sequential_internal_ids(
    registry_client,
):
    await create_config(registry_client, name="first")
    response = await registry_client.post(
        "/api/configs/",
        json=[
            {"id": ID_B, "name": "B"},
            {"name": "C", "meta": {"status": "inactive"}},
            {"id": ID_A, "name": "A"},
        ],
    )
    assert response.status_code == 201
    body = response.json()
    assert names(body) == ["B", "C", "A"]
    assert [r["meta"]["internal_id"] for r in body] == [2, 3, 4]
    assert body[1]["meta"] == {"status": "inactive", "flags": 0, "internal_id": 3}
    assert (body[0]["id"], body[2]["id"]) == (ID_B, ID_A)


async def test_bulk_create_of_an_empty_list_is_201_empty(registry_client):
    response = await registry_client.post("/api/configs/", json=[])
    assert (response.status_code, response.json()) == (201, [])


async def test_bulk_create_with_an_invalid_item_creates_nothing(registry_client):
    response = await registry_client.post(
        "/api/configs/", json=[{"name": "ok"}, {"project_id": "bad"}, {"name": ""}]
    )
    assert response.status_code == 400
    d = detail(response)
    assert d["code"] == "VALIDATION_ERROR"
    assert d["items"] == [
        {},
        {"project_id": ["Must be a valid UUID."]},
        {"name": ["This field may not be blank."]},
    ]
    assert await list_of(registry_client, "/api/configs/") == []
    assert (await create_config(registry_client))["meta"]["internal_id"] == 1


@pytest.mark.parametrize("body", [{}, {"name": "x"}, "text", 3])
async def test_bulk_create_needs_a_list(registry_client, body):
    response = await registry_client.post("/api/configs/", json=body)
    assert response.status_code == 400
    kind = type(body).__name__
    assert detail(response)["fields"] == {
        "non_field_errors": [f'Expected a list of items but got type "{kind}".']
    }


async def test_bulk_create_reports_non_object_items(registry_client):
    response = await registry_client.post("/api/configs/", json=[{"name": "a"}, [1], None])
    assert detail(response)["items"] == [
        {},
        {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
        {"non_field_errors": ["Invalid data. Expected a dictionary, but got NoneType."]},
    ]


async def test_bulk_create_with_duplicates_inside_the_batch_is_409_per_item(registry_client):
    response = await registry_client.post(
        "/api/configs/",
        json=[{"object_code": "x"}, {"id": ID_A}, {"object_code": "x"}, {"id": ID_A.upper()}],
    )
    assert response.status_code == 409
    d = detail(response)
    assert d["code"] == "ENTITY_EXISTS"
    assert d["items"] == [
        {},
        {},
        {"object_code": ["config with this object code already exists."]},
        {"id": ["This field must be unique."]},
    ]
    assert await list_of(registry_client, "/api/configs/") == []
    assert (await create_config(registry_client))["meta"]["internal_id"] == 1


async def test_bulk_create_clashing_with_stored_rows_is_409_and_creates_nothing(
    registry_client,
):
    await create_config(registry_client, object_code="taken", id=ID_B)
    response = await registry_client.post(
        "/api/configs/", json=[{"name": "a"}, {"object_code": "taken"}, {"id": ID_B}]
    )
    assert response.status_code == 409
    assert detail(response)["items"] == [
        {},
        {"object_code": ["config with this object code already exists."]},
        {"id": ["This field must be unique."]},
    ]
    assert len(await list_of(registry_client, "/api/configs/")) == 1


async def test_bulk_create_of_links_with_clashing_sets_is_409(registry_client):
    response = await registry_client.post(
        "/api/links/",
        json=[link_body(link_code="L", project_id=P1), link_body(link_code="L", project_id=P1)],
    )
    assert response.status_code == 409
    assert detail(response)["items"][1] == {
        "non_field_errors": ["The fields link_code, project_id, link_type must make a unique set."]
    }
    assert await list_of(registry_client, "/api/links/") == []


# --- bulk PUT / PATCH -----------------------------------------------------------------------


async def two_configs(client):
    await client.post(
        "/api/configs/",
        json=[
            {"id": ID_A, "name": "a", "object_type": "t", "data": {"x": 1}, "meta": {"flags": 1}},
            {"id": ID_B, "name": "b", "object_type": "t", "data": {"y": 2}},
        ],
    )


async def test_bulk_patch_answers_in_request_order(registry_client):
    await two_configs(registry_client)
    response = await registry_client.patch(
        "/api/configs/", json=[{"id": ID_B, "name": "second"}, {"id": ID_A, "meta": {"flags": 9}}]
    )
    assert response.status_code == 200
    body = response.json()
    assert [r["id"] for r in body] == [ID_B, ID_A]
    assert body[0]["name"] == "second" and body[0]["object_type"] == "t"
    assert body[1]["meta"] == {"status": "active", "flags": 9, "internal_id": 1}


async def test_bulk_update_matches_items_by_parsed_uuid(registry_client):
    """The original paired string-sorted items with uuid-sorted rows and swapped data."""
    await two_configs(registry_client)
    response = await registry_client.patch(
        "/api/configs/",
        json=[
            {"id": ID_B.upper(), "name": "B"},
            {"id": "{" + ID_A + "}", "name": "A"},
        ],
    )
    assert response.status_code == 200
    rows = {r["id"]: r for r in await list_of(registry_client, "/api/configs/")}
    assert (rows[ID_A]["name"], rows[ID_A]["data"], rows[ID_A]["meta"]["internal_id"]) == (
        "A",
        {"x": 1},
        1,
    )
    assert (rows[ID_B]["name"], rows[ID_B]["data"], rows[ID_B]["meta"]["internal_id"]) == (
        "B",
        {"y": 2},
        2,
    )


async def test_bulk_put_replaces_and_bulk_patch_merges_data(registry_client):
    await two_configs(registry_client)
    await registry_client.put("/api/configs/", json=[{"id": ID_A, "data": {"z": 3}}])
    await registry_client.patch("/api/configs/", json=[{"id": ID_B, "data": {"z": 3}}])
    rows = {r["id"]: r for r in await list_of(registry_client, "/api/configs/")}
    assert rows[ID_A]["data"] == {"z": 3}
    assert rows[ID_A]["name"] is None  # PUT: omitted fields take their defaults
    assert rows[ID_B]["data"] == {"y": 2, "z": 3}


async def test_bulk_patch_meta_merges_and_keeps_internal_id(registry_client):
    await two_configs(registry_client)
    response = await registry_client.patch(
        "/api/configs/",
        json=[
            {"id": ID_A, "meta": {}},
            {"id": ID_B, "meta": {"status": "inactive", "flags2": 0, "internal_id": None}},
        ],
    )
    body = response.json()
    assert body[0]["meta"] == {"status": "active", "flags": 1, "internal_id": 1}
    assert body[1]["meta"] == {"status": "inactive", "flags": 0, "flags2": 0, "internal_id": 2}


async def test_bulk_update_of_an_empty_list_is_200_empty(registry_client):
    for method in ("put", "patch"):
        response = await getattr(registry_client, method)("/api/configs/", json=[])
        assert (response.status_code, response.json()) == (200, [])


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([{"name": "x"}], [{"id": ["This field is required."]}]),
        ([{"id": None}], [{"id": ["This field may not be null."]}]),
        ([{"id": "nope"}], [{"id": ["Must be a valid UUID."]}]),
        (
            [{"id": ID_A}, {"id": ID_A.upper()}],
            [{}, {"id": ["This id appears more than once in the request."]}],
        ),
        (
            [{"id": ID_A}, "x"],
            [{}, {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}],
        ),
        (
            [{"id": ID_A, "name": ""}, {"id": ID_B}],
            [{"name": ["This field may not be blank."]}, {}],
        ),
    ],
)
async def test_bulk_update_with_a_bad_item_is_400_and_changes_nothing(
    registry_client, items, expected
):
    await two_configs(registry_client)
    before = await snapshot(registry_client)
    for method in ("put", "patch"):
        response = await getattr(registry_client, method)("/api/configs/", json=items)
        assert response.status_code == 400
        assert detail(response)["items"] == expected
    assert await snapshot(registry_client) == before


async def test_bulk_update_with_an_unknown_id_is_404_and_changes_nothing(registry_client):
    await two_configs(registry_client)
    before = await snapshot(registry_client)
    response = await registry_client.patch(
        "/api/configs/", json=[{"id": ID_A, "name": "changed"}, {"id": MISSING}]
    )
    assert response.status_code == 404
    d = detail(response)
    assert d["code"] == "NOT_FOUND"
    assert d["items"] == [{}, {"id": ["No Config matches the given query."]}]
    assert await snapshot(registry_client) == before


async def test_bulk_update_needs_a_list(registry_client):
    response = await registry_client.put("/api/configs/", json={"id": ID_A})
    assert response.status_code == 400
    assert detail(response)["fields"] == {
        "non_field_errors": ['Expected a list of items but got type "dict".']
    }


async def test_bulk_update_into_a_clash_is_409_per_item_and_changes_nothing(registry_client):
    await two_configs(registry_client)
    await create_config(registry_client, object_code="taken")
    before = await snapshot(registry_client)
    response = await registry_client.patch(
        "/api/configs/",
        json=[{"id": ID_A, "name": "renamed"}, {"id": ID_B, "object_code": "taken"}],
    )
    assert response.status_code == 409
    assert detail(response)["items"] == [
        {},
        {"object_code": ["config with this object code already exists."]},
    ]
    assert await snapshot(registry_client) == before


async def test_bulk_update_giving_two_items_one_code_is_409(registry_client):
    await two_configs(registry_client)
    response = await registry_client.patch(
        "/api/configs/",
        json=[{"id": ID_A, "object_code": "same"}, {"id": ID_B, "object_code": "same"}],
    )
    assert response.status_code == 409
    assert detail(response)["items"] == [
        {},
        {"object_code": ["config with this object code already exists."]},
    ]


async def test_bulk_patch_merging_into_non_object_data_is_409(registry_client):
    await two_configs(registry_client)
    await registry_client.put("/api/configs/", json=[{"id": ID_B, "data": "text"}])
    before = await snapshot(registry_client)
    response = await registry_client.patch(
        "/api/configs/", json=[{"id": ID_A, "data": {"k": 1}}, {"id": ID_B, "data": {"k": 1}}]
    )
    assert response.status_code == 409
    assert detail(response)["code"] == "DATA_NOT_MERGEABLE"
    items = detail(response)["items"]
    assert items[0] == {} and list(items[1]) == ["data"]
    assert await snapshot(registry_client) == before


async def test_bulk_put_of_links_requires_their_fields(registry_client):
    link = await create_link(registry_client)
    response = await registry_client.put("/api/links/", json=[{"id": link["id"]}])
    assert response.status_code == 400
    assert set(detail(response)["items"][0]) == {"link_type", "object1", "object2"}


# --- bulk deactivate ------------------------------------------------------------------------


async def test_bulk_deactivate_reports_deactivated_and_not_found(registry_client):
    await two_configs(registry_client)
    before = {r["id"]: r for r in await list_of(registry_client, "/api/configs/")}
    response = await registry_client.delete(f"/api/configs/?id={ID_A},{ID_B}")
    assert response.status_code == 200
    assert response.json() == {
        "message": "Configs deactivated",
        "deactivated": [ID_A, ID_B],
        "not_found": [],
    }
    rows = {r["id"]: r for r in await list_of(registry_client, "/api/configs/")}
    assert rows[ID_A]["meta"] == {"status": "inactive", "flags": 1, "internal_id": 1}
    assert rows[ID_B]["modified_date"] > before[ID_B]["modified_date"]


async def test_bulk_deactivate_with_unknown_and_duplicated_ids(registry_client):
    await two_configs(registry_client)
    response = await registry_client.delete(
        "/api/configs/", params={"id": f" {ID_A} , {MISSING},{ID_A.upper()}"}
    )
    assert response.json() == {
        "message": "1 configs deactivated out of 2. "
        "Some ids are either duplicated or not in the database.",
        "deactivated": [ID_A],
        "not_found": [MISSING],
    }


@pytest.mark.parametrize("query", ["", "?id=", "?id=%20", f"?id={ID_A},nope", f"?id={ID_A},"])
async def test_bulk_deactivate_with_missing_or_bad_ids_is_400(registry_client, query):
    await two_configs(registry_client)
    response = await registry_client.delete(f"/api/configs/{query}")
    assert response.status_code == 400
    assert list(detail(response)["fields"]) == ["id"]
    rows = await list_of(registry_client, "/api/configs/", meta_status="active")
    assert len(rows) == 2


async def test_bulk_deactivate_ignores_list_filters(registry_client):
    await two_configs(registry_client)
    response = await registry_client.delete(f"/api/configs/?id={ID_A}&name=zzz")
    assert response.json()["deactivated"] == [ID_A]
