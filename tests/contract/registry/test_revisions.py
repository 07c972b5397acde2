"""Revisions: one per written row per write, with actor, request id and time; history, the
audit list and rollback, for both kinds."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import pytest

from .helpers import A1, MISSING, P1, P2, create_config, create_link, link_body

pytestmark = pytest.mark.anyio

KINDS = ["config", "link"]
ACTOR = {"X-Actor": "bbbbbbbb-0000-4000-8000-000000000001", "X-Actor-Roles": "configs:write,x"}


async def create(client: httpx.AsyncClient, kind: str, **fields: Any) -> dict[str, Any]:
    if kind == "config":
        return await create_config(client, **fields)
    return await create_link(client, **fields)


def body(kind: str, **fields: Any) -> dict[str, Any]:
    return link_body(**fields) if kind == "link" else fields


async def history(client: httpx.AsyncClient, kind: str, id: str, **params: Any) -> list[dict]:
    response = await client.get(f"/api/{kind}/{id}/history/", params=params)
    assert response.status_code == 200, response.text
    return response.json()["results"]


@pytest.mark.parametrize("kind", KINDS)
async def test_every_single_write_path_records_a_revision_with_its_operation(registry_client, kind):
    row = await create(registry_client, kind, data={"v": "a"}, project_id=P1)
    url = f"/api/{kind}/{row['id']}/"
    assert (await registry_client.put(url, json=body(kind, data={"v": "b"}))).status_code == 200
    assert (await registry_client.patch(url, json={"data": {"k": 1}})).status_code == 200
    assert (await registry_client.delete(url)).status_code == 200
    revisions = await history(registry_client, kind, row["id"])
    assert [r["operation"] for r in revisions] == ["deactivate", "patch", "update", "create"]
    assert [r["index"] for r in revisions] == [4, 3, 2, 1]
    assert all(r["kind"] == kind and r["id"] == row["id"] for r in revisions)
    assert revisions[-1]["before"] is None
    assert revisions[-1]["after"] == row
    assert revisions[0]["before"]["meta"]["status"] == "active"
    assert revisions[0]["after"]["meta"]["status"] == "inactive"
    for newer, older in itertools.pairwise(revisions):
        assert newer["before"] == older["after"]


@pytest.mark.parametrize("kind", KINDS)
async def test_bulk_writes_record_one_revision_per_row(registry_client, kind):
    plural = f"/api/{kind}s/"
    created = await registry_client.post(plural, json=[body(kind), body(kind)])
    assert created.status_code == 201
    ids = [r["id"] for r in created.json()]
    updated = await registry_client.patch(plural, json=[{"id": i, "data": {"n": 1}} for i in ids])
    assert updated.status_code == 200
    assert (await registry_client.delete(plural, params={"id": ",".join(ids)})).status_code == 200
    for id in ids:
        operations = [r["operation"] for r in await history(registry_client, kind, id)]
        assert operations == ["deactivate", "patch", "create"]
    audit = (await registry_client.get("/api/revisions/", params={"kind": kind})).json()
    assert audit["count"] == 6


async def test_the_actor_is_registry_unless_the_actor_headers_name_one(registry_client):
    anonymous = await create_config(registry_client, name="a")
    named = await registry_client.post("/api/config/", json={"name": "b"}, headers=ACTOR)
    assert named.status_code == 201
    (first,) = await history(registry_client, "config", anonymous["id"])
    (second,) = await history(registry_client, "config", named.json()["id"])
    assert (first["actor"], first["actor_roles"]) == ("registry", [])
    assert (second["actor"], second["actor_roles"]) == (ACTOR["X-Actor"], ["configs:write", "x"])


async def test_the_request_id_and_time_are_recorded(registry_client):
    response = await registry_client.post(
        "/api/config/", json={"name": "a"}, headers={"X-Request-ID": "trace-42"}
    )
    (revision,) = await history(registry_client, "config", response.json()["id"])
    assert revision["request_id"] == "trace-42"
    assert revision["time"] >= response.json()["created_date"]


@pytest.mark.parametrize("header", ["X-Actor", "X-Actor-Roles"])
async def test_an_unusable_actor_header_is_400_and_writes_nothing(registry_client, header):
    response = await registry_client.post(
        "/api/config/", json={"name": "a"}, headers={header: "has spaces in it"}
    )
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "INVALID_HEADER"
    assert header in response.json()["detail"]["fields"]
    assert (await registry_client.get("/api/configs/")).json() == []


async def test_a_refused_write_records_nothing(registry_client):
    await create_config(registry_client, object_code="taken")
    clash = await registry_client.post("/api/config/", json={"object_code": "taken"})
    assert clash.status_code == 409
    assert (await registry_client.get("/api/revisions/")).json()["count"] == 1


async def test_concurrent_writers_leave_a_gapless_history_per_row(registry_client):
    row = await create_config(registry_client, data={})
    url = f"/api/config/{row['id']}/"
    writes = [registry_client.patch(url, json={"data": {f"k{n}": n}}) for n in range(20)]
    assert {r.status_code for r in await asyncio.gather(*writes)} == {200}
    revisions = await history(registry_client, "config", row["id"], ordering="index")
    assert len(revisions) == 21
    indexes = [r["index"] for r in revisions]
    assert indexes == sorted(indexes) and len(set(indexes)) == 21
    for older, newer in itertools.pairwise(revisions):
        assert newer["before"] == older["after"]  # each write saw the one before it
    assert revisions[-1]["after"]["data"] == {f"k{n}": n for n in range(20)}


async def test_the_audit_list_filters_and_pages(registry_client):
    await create_config(registry_client, project_id=P1, object_type="a")
    await registry_client.post(
        "/api/config/", json={"project_id": P2, "object_type": "b"}, headers=ACTOR
    )
    await create_config(registry_client, project_id=P1, account_id=A1, object_type="b")
    await create_link(registry_client, project_id=P1)

    async def indexes(**params: Any) -> list[int]:
        response = await registry_client.get("/api/revisions/", params=params)
        assert response.status_code == 200, response.text
        return [r["index"] for r in response.json()["results"]]

    assert await indexes() == [4, 3, 2, 1]
    assert await indexes(project_id=P1) == [4, 3, 1]
    assert await indexes(project_id=P1, kind="config") == [3, 1]
    assert await indexes(account_id=f"{A1}") == [3]
    assert await indexes(account_id="null", kind="config") == [2, 1]
    assert await indexes(object_type="b") == [3, 2]
    assert await indexes(actor=ACTOR["X-Actor"]) == [2]
    assert await indexes(since="2000-01-01T00:00:00Z", until="2999-01-01") == [4, 3, 2, 1]
    assert await indexes(until="2000-01-01") == []
    assert await indexes(ordering="index", limit=2, offset=1) == [2, 3]
    page = (await registry_client.get("/api/revisions/", params={"limit": 1})).json()
    assert page["count"] == 4 and page["next"].endswith("limit=1&offset=1")


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"offset": "-1"},
        {"kind": "table"},
        {"project_id": "x"},
        {"since": "yesterday"},
        {"ordering": "actor"},
    ],
)
async def test_a_bad_audit_filter_is_400(registry_client, params):
    response = await registry_client.get("/api/revisions/", params=params)
    assert response.status_code == 400
    assert set(response.json()["detail"]["fields"]) == set(params)


async def test_history_of_an_unknown_object_is_404(registry_client):
    assert (await registry_client.get(f"/api/config/{MISSING}/history/")).status_code == 404


@pytest.mark.parametrize("kind", KINDS)
async def test_rollback_restores_data_and_meta_exactly_as_a_new_revision(registry_client, kind):
    row = await create(
        registry_client, kind, user_id=A1, data={"deep": {"a": [1, 2]}}, meta={"flags": 3, "x": 1}
    )
    url = f"/api/{kind}/{row['id']}/"
    await registry_client.put(url, json=body(kind, project_id=P2, data=[], meta={"y": 2}))
    await registry_client.delete(url)
    (created,) = [
        r for r in await history(registry_client, kind, row["id"]) if r["operation"] == "create"
    ]
    response = await registry_client.post(f"{url}rollback/", json={"index": created["index"]})
    assert response.status_code == 200, response.text
    restored = response.json()
    for field in ("data", "meta", "project_id", "account_id", "user_id"):
        assert restored[field] == row[field], field
    assert restored["modified_date"] > row["modified_date"]
    assert response.headers["ETag"] == f'"{restored["modified_date"]}"'
    latest = (await history(registry_client, kind, row["id"]))[0]
    assert (latest["operation"], latest["restores"]) == ("rollback", created["index"])
    assert latest["after"] == restored


async def test_rollback_honours_if_match(registry_client):
    row = await create_config(registry_client, data={"v": 1})
    url = f"/api/config/{row['id']}/"
    changed = await registry_client.patch(url, json={"data": {"v": 2}})
    stale = await registry_client.post(
        f"{url}rollback/", json={"index": 1}, headers={"If-Match": f'"{row["modified_date"]}"'}
    )
    assert stale.status_code == 412
    fresh = await registry_client.post(
        f"{url}rollback/", json={"index": 1}, headers={"If-Match": changed.headers["ETag"]}
    )
    assert fresh.status_code == 200
    assert fresh.json()["data"] == {"v": 1}


async def test_rollback_records_the_given_writer(registry_client):
    row = await create_config(registry_client, data={"v": 1}, user_id=A1)
    response = await registry_client.post(
        f"/api/config/{row['id']}/rollback/", json={"index": 1, "user_id": MISSING}
    )
    assert response.json()["user_id"] == MISSING


async def test_rollback_to_another_objects_revision_is_404(registry_client):
    first = await create_config(registry_client, name="a")
    second = await create_config(registry_client, name="b")
    response = await registry_client.post(
        f"/api/config/{second['id']}/rollback/", json={"index": 1}
    )
    assert response.status_code == 404
    assert response.json()["detail"]["code"] == "REVISION_NOT_FOUND"
    assert "index" in response.json()["detail"]["fields"]
    assert first["id"] != second["id"]


@pytest.mark.parametrize("payload", [{}, {"index": 0}, {"index": "1"}, {"index": True}, []])
async def test_rollback_without_a_revision_index_is_400(registry_client, payload):
    row = await create_config(registry_client, name="a")
    response = await registry_client.post(f"/api/config/{row['id']}/rollback/", json=payload)
    assert response.status_code == 400


async def test_rollback_of_an_unknown_object_is_404(registry_client):
    response = await registry_client.post(f"/api/config/{MISSING}/rollback/", json={"index": 1})
    assert response.status_code == 404


async def test_rollback_onto_a_taken_object_code_is_409(registry_client):
    row = await create_config(registry_client, object_code="one")
    url = f"/api/config/{row['id']}/"
    await registry_client.patch(url, json={"object_code": "two"})
    await create_config(registry_client, object_code="one")
    response = await registry_client.post(f"{url}rollback/", json={"index": 1})
    assert response.status_code == 409
    assert response.json()["detail"]["code"] == "ENTITY_EXISTS"


async def write_paths(client: httpx.AsyncClient, kind: str) -> list[tuple[str, httpx.Response]]:
    """Every write path of a kind, each sent with the actor headers; (operation, response)."""
    one, many = f"/api/{kind}/", f"/api/{kind}s/"
    done = [("create", await client.post(one, json=body(kind), headers=ACTOR))]
    id = done[0][1].json()["id"]
    done.append(("update", await client.put(f"{one}{id}/", json=body(kind), headers=ACTOR)))
    done.append(("patch", await client.patch(f"{one}{id}/", json={"data": {}}, headers=ACTOR)))
    done.append(("deactivate", await client.delete(f"{one}{id}/", headers=ACTOR)))
    done.append(("create", await client.post(many, json=[body(kind)], headers=ACTOR)))
    item = {**body(kind), "id": id}
    done.append(("update", await client.put(many, json=[item], headers=ACTOR)))
    done.append(("patch", await client.patch(many, json=[{"id": id}], headers=ACTOR)))
    done.append(("deactivate", await client.delete(many, params={"id": id}, headers=ACTOR)))
    rollback = await client.post(f"{one}{id}/rollback/", json={"index": 1}, headers=ACTOR)
    done.append(("rollback", rollback))
    return done


@pytest.mark.parametrize("kind", KINDS)
async def test_every_write_path_records_its_operation_and_the_named_actor(registry_client, kind):
    done = await write_paths(registry_client, kind)
    assert all(r.is_success for _, r in done), [r.text for _, r in done]
    revisions = (await registry_client.get("/api/revisions/", params={"ordering": "index"})).json()
    assert [r["operation"] for r in revisions["results"]] == [op for op, _ in done]
    assert {(r["actor"], tuple(r["actor_roles"])) for r in revisions["results"]} == {
        (ACTOR["X-Actor"], ("configs:write", "x"))
    }


async def test_the_openapi_document_describes_history_rollback_audit_and_watches(registry_client):
    doc = (await registry_client.get("/schema/", params={"format": "json"})).json()
    for path in ("/api/config/{id}/history/", "/api/link/{id}/rollback/", "/api/revisions/",
                 "/api/changes/"):  # fmt: skip
        assert path in doc["paths"], path
    listing = doc["paths"]["/api/configs/"]["get"]
    assert {"index", "wait"} <= {p["name"] for p in listing["parameters"]}
    assert "X-Config-Index" in listing["responses"]["200"]["headers"]


async def test_rollback_to_a_revision_that_does_not_exist_is_404(registry_client):
    row = await create_config(registry_client, name="a")
    response = await registry_client.post(
        f"/api/config/{row['id']}/rollback/", json={"index": 10**9}
    )
    assert response.status_code == 404
    assert response.json()["detail"]["code"] == "REVISION_NOT_FOUND"


@pytest.mark.parametrize("data", ["", "text", 5, [1, "a"], None, True])
async def test_a_revision_of_data_that_is_not_an_object_is_valid_json(registry_client, data):
    row = await create_config(registry_client, data=data)
    response = await registry_client.get(f"/api/config/{row['id']}/history/")
    assert response.status_code == 200
    (revision,) = response.json()["results"]  # parses: a JSON string keeps its quotes
    assert revision["after"]["data"] == data


@pytest.mark.parametrize("name", ["operation", "actor", "object_type", "ordering"])
async def test_a_nul_in_an_audit_filter_is_400_not_a_database_error(registry_client, name):
    response = await registry_client.get("/api/revisions/", params={name: "a\x00b"})
    assert response.status_code == 400, response.text
    assert response.json()["detail"]["code"] == "INVALID_QUERY"
    assert list(response.json()["detail"]["fields"]) == [name]


@pytest.mark.parametrize("name", ["since", "until", "after", "limit", "offset"])
async def test_an_empty_typed_audit_filter_is_400(registry_client, name):
    response = await registry_client.get("/api/revisions/", params={name: ""})
    assert response.status_code == 400, response.text
    assert list(response.json()["detail"]["fields"]) == [name]
