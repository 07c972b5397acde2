"""Links: the configs' twin with its own columns, checks and uniqueness rule (spec §3.2, §7)."""

from __future__ import annotations

import pytest

from .helpers import (
    A1,
    A2,
    LINK_FIELDS,
    MISSING,
    P1,
    P2,
    U1,
    create_link,
    detail,
    link_body,
    list_of,
)

pytestmark = pytest.mark.anyio

CLASH = "The fields link_code, project_id, link_type must make a unique set."


async def test_create_link_answers_201_with_fields_in_order_and_defaults(registry_client):
    response = await registry_client.post(
        "/api/link/", json=link_body(link_code="L-1", project_id=P1)
    )
    assert response.status_code == 201
    body = response.json()
    assert list(body) == LINK_FIELDS
    assert (body["link_type"], body["link_code"], body["object1"], body["object2"]) == (
        "O2O",
        "L-1",
        A1,
        A2,
    )
    assert body["weight"] == 0.0 and isinstance(body["weight"], float)
    assert body["direction"] == 1
    assert body["meta"] == {"status": "active", "flags": 0, "internal_id": 1}
    assert body["data"] == {}
    assert '"weight":0.0' in response.text


async def test_links_have_their_own_internal_id_sequence(registry_client):
    await registry_client.post("/api/config/", json={})
    assert (await create_link(registry_client))["meta"]["internal_id"] == 1


async def test_link_code_is_optional(registry_client):
    assert (await create_link(registry_client))["link_code"] is None


async def test_invalid_link_reports_every_field(registry_client):
    response = await registry_client.post(
        "/api/link/",
        json={"link_type": "", "object1": None, "object2": "x", "weight": 1.5, "direction": 4},
    )
    assert response.status_code == 400
    assert detail(response)["fields"] == {
        "link_type": ["This field may not be blank."],
        "object1": ["This field may not be null."],
        "object2": ["Must be a valid UUID."],
        "weight": ["Ensure this value is less than or equal to 1.0."],
        "direction": ["Ensure this value is less than or equal to 3."],
    }


async def test_required_link_fields(registry_client):
    response = await registry_client.post("/api/link/", json={})
    assert detail(response)["fields"] == {
        "link_type": ["This field is required."],
        "object1": ["This field is required."],
        "object2": ["This field is required."],
    }


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [("direction", 3.0, 3), ("weight", 1, 1.0), ("weight", 0.25, 0.25)],
)
async def test_numeric_fields_accept_json_numbers(registry_client, field, value, stored):
    assert (await create_link(registry_client, **{field: value}))[field] == stored


@pytest.mark.parametrize(("field", "value"), [("direction", "2"), ("weight", "0.25")])
async def test_numeric_fields_refuse_numbers_spelled_as_text(registry_client, field, value):
    response = await registry_client.post("/api/link/", json=link_body(**{field: value}))
    assert response.status_code == 400, response.text
    assert list(detail(response)["fields"]) == [field]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("direction", 2.5, "A valid integer is required."),
        ("direction", True, "A valid integer is required."),
        ("direction", -1, "Ensure this value is greater than or equal to 0."),
        ("direction", "two", "A valid integer is required."),
        ("weight", "NaN", "A valid number is required."),
        ("weight", "inf", "A valid number is required."),
        ("weight", True, "A valid number is required."),
        ("weight", -0.5, "Ensure this value is greater than or equal to 0.0."),
        ("weight", None, "This field may not be null."),
    ],
)
async def test_numeric_fields_reject_bad_values(registry_client, field, value, message):
    response = await registry_client.post("/api/link/", json=link_body(**{field: value}))
    assert response.status_code == 400
    assert detail(response)["fields"] == {field: [message]}


async def test_a_link_set_clash_is_409_entity_exists(registry_client):
    await create_link(registry_client, link_code="L", project_id=P1)
    response = await registry_client.post(
        "/api/link/", json=link_body(link_code="L", project_id=P1, object1=U1)
    )
    assert response.status_code == 409
    d = detail(response)
    assert (d["code"], d["message"]) == ("ENTITY_EXISTS", CLASH)
    assert d["fields"] == {"non_field_errors": [CLASH]}


async def test_null_project_ids_are_not_distinct(registry_client):
    await create_link(registry_client, link_code="L")
    response = await registry_client.post("/api/link/", json=link_body(link_code="L"))
    assert response.status_code == 409


async def test_account_id_does_not_widen_the_rule(registry_client):
    await create_link(registry_client, link_code="L", project_id=P1, account_id=A1)
    response = await registry_client.post(
        "/api/link/", json=link_body(link_code="L", project_id=P1, account_id=A2)
    )
    assert response.status_code == 409


async def test_links_without_link_code_never_clash(registry_client):
    await create_link(registry_client, project_id=P1)
    await create_link(registry_client, project_id=P1)
    assert len(await list_of(registry_client, "/api/links/")) == 2


@pytest.mark.parametrize("change", [{"project_id": P2}, {"link_type": "O2M"}, {"link_code": "M"}])
async def test_links_differing_in_one_rule_column_coexist(registry_client, change):
    await create_link(registry_client, link_code="L", project_id=P1)
    await create_link(registry_client, **{"link_code": "L", "project_id": P1, **change})


async def test_put_link_resets_omitted_fields_to_their_defaults(registry_client):
    created = await create_link(
        registry_client, weight=0.5, direction=2, project_id=P1, user_id=U1, data={"a": 1}
    )
    response = await registry_client.put(
        f"/api/link/{created['id']}/", json=link_body(link_type="O2M")
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["link_type"], body["weight"], body["direction"]) == ("O2M", 0.0, 1)
    assert body["project_id"] is None and body["user_id"] is None
    assert body["data"] == {}


async def test_put_link_requires_its_required_fields(registry_client):
    created = await create_link(registry_client)
    response = await registry_client.put(f"/api/link/{created['id']}/", json={"weight": 0.1})
    assert response.status_code == 400
    assert set(detail(response)["fields"]) == {"link_type", "object1", "object2"}


async def test_patch_link_changes_only_given_fields(registry_client):
    created = await create_link(registry_client, weight=0.5, direction=2)
    response = await registry_client.patch(f"/api/link/{created['id']}/", json={"weight": 0.75})
    body = response.json()
    assert (body["weight"], body["direction"], body["object1"]) == (0.75, 2, A1)


async def test_patch_link_into_a_clash_is_409(registry_client):
    await create_link(registry_client, link_code="L", project_id=P1)
    other = await create_link(registry_client, link_code="M", project_id=P1)
    response = await registry_client.patch(f"/api/link/{other['id']}/", json={"link_code": "L"})
    assert response.status_code == 409
    assert detail(response)["fields"] == {"non_field_errors": [CLASH]}


async def test_link_messages_name_links(registry_client):
    created = await create_link(registry_client)
    response = await registry_client.delete(f"/api/link/{created['id']}/")
    assert response.json() == {"message": "Link deactivated"}
    response = await registry_client.get(f"/api/link/{MISSING}/")
    assert detail(response)["message"] == "No Link matches the given query."
    response = await registry_client.delete(f"/api/links/?id={created['id']},{MISSING}")
    assert response.json()["message"] == (
        "1 links deactivated out of 2. Some ids are either duplicated or not in the database."
    )


async def test_link_list_filters_and_multi_column_ordering(registry_client):
    await create_link(registry_client, weight=0.2, direction=2, data={"n": "a"})
    await create_link(registry_client, weight=0.9, direction=2, data={"n": "b"})
    await create_link(registry_client, weight=0.5, direction=0, data={"n": "c"})
    await create_link(registry_client, object1=U1, weight=0.7, direction=1, data={"n": "d"})
    rows = await list_of(
        registry_client,
        "/api/links/",
        object1=A1,
        direction__gt="0",
        ordering="direction,-weight",
    )
    assert [r["data"]["n"] for r in rows] == ["b", "a"]
    rows = await list_of(registry_client, "/api/links/", ordering="direction,weight")
    assert [r["data"]["n"] for r in rows] == ["c", "d", "a", "b"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"weight": "0.5"}, ["c"]),
        ({"weight__gt": "0.5"}, ["b"]),
        ({"weight__lt": "0.5"}, ["a"]),
        ({"direction": "0"}, ["c"]),
        ({"direction__lt": "2"}, ["b", "c"]),
        ({"link_type": "T1,T2"}, ["a", "b"]),
        ({"link_code": "code-b"}, ["b"]),
        ({"object2": A2}, ["a", "b", "c"]),
        ({"weight": "123"}, []),
    ],
)
async def test_link_column_filters(registry_client, params, expected):
    await create_link(registry_client, link_type="T1", weight=0.2, direction=2, data={"n": "a"})
    await create_link(
        registry_client, link_type="T2", link_code="code-b", weight=0.9, data={"n": "b"}
    )
    await create_link(registry_client, link_type="T3", weight=0.5, direction=0, data={"n": "c"})
    rows = await list_of(registry_client, "/api/links/", ordering="data__n", **params)
    assert [r["data"]["n"] for r in rows] == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"weight": "abc"}, "weight"),
        ({"weight__gt": "NaN"}, "weight__gt"),
        ({"direction": "2.7"}, "direction"),
        ({"object1": "nope"}, "object1"),
    ],
)
async def test_bad_link_filter_values_are_400(registry_client, params, field):
    response = await registry_client.get("/api/links/", params=params)
    assert response.status_code == 400
    assert list(detail(response)["fields"]) == [field]


async def test_search_of_links_by_numeric_fields(registry_client):
    await create_link(registry_client, weight=0.1, direction=0, data={"n": "a"})
    await create_link(registry_client, weight=0.5, direction=1, data={"n": "b"})
    await create_link(registry_client, weight=0.0, direction=3, data={"n": "c"})
    rows = await list_of(registry_client, "/api/links/", search="1", field=["weight", "direction"])
    assert sorted(r["data"]["n"] for r in rows) == ["a", "b"]
