"""Configs and links are served by one engine: the shared behaviour, checked on both kinds."""

from __future__ import annotations

import datetime as dt

import pytest

from .helpers import A1, MISSING, P1, detail, link_body

pytestmark = pytest.mark.anyio

KINDS = [("configs", "config", "Config"), ("links", "link", "Link")]


def body(kind: str, **fields):
    return link_body(**fields) if kind == "links" else fields


@pytest.fixture(params=KINDS, ids=[k[0] for k in KINDS])
def kind(request):
    return request.param


async def test_the_generic_life_cycle(registry_client, kind):
    many, one, label = kind
    client = registry_client
    created = (await client.post(f"/api/{one}/", json=body(many, data={"a": 1}))).json()
    assert created["meta"] == {"status": "active", "flags": 0, "internal_id": 1}
    url = f"/api/{one}/{created['id']}/"
    assert (await client.get(url)).json() == created
    patched = await client.patch(url, json={"data": {"b": 2}, "meta": {"flags": 3}})
    assert patched.json()["data"] == {"a": 1, "b": 2}
    assert patched.json()["meta"]["flags"] == 3
    put = await client.put(url, json=body(many, project_id=P1))
    assert (put.json()["data"], put.json()["project_id"]) == ({}, P1)
    assert (await client.delete(url)).json() == {"message": f"{label} deactivated"}
    assert (await client.get(url)).json()["meta"]["status"] == "inactive"
    missing = await client.get(f"/api/{one}/{MISSING}/")
    assert detail(missing)["message"] == f"No {label} matches the given query."


async def test_the_generic_bulk_operations(registry_client, kind):
    many, _, label = kind
    client = registry_client
    created = await client.post(f"/api/{many}/", json=[body(many), body(many), body(many)])
    assert [r["meta"]["internal_id"] for r in created.json()] == [1, 2, 3]
    ids = [r["id"] for r in created.json()]
    patched = await client.patch(
        f"/api/{many}/", json=[{"id": i, "data": {"n": n}} for n, i in enumerate(reversed(ids))]
    )
    assert [r["id"] for r in patched.json()] == list(reversed(ids))
    put = await client.put(f"/api/{many}/", json=[{**body(many), "id": ids[0], "data": None}])
    assert put.json()[0]["data"] is None
    bad = await client.patch(f"/api/{many}/", json=[{"id": ids[0]}, {"id": MISSING}])
    assert bad.status_code == 404
    gone = await client.delete(f"/api/{many}/?id={ids[0]},{ids[1]}")
    assert gone.json() == {
        "message": f"{label}s deactivated",
        "deactivated": ids[:2],
        "not_found": [],
    }


async def test_the_generic_filters(registry_client, kind):
    many, _, _ = kind
    client = registry_client
    rows = [
        body(many, project_id=P1, account_id=A1, data={"n": 1, "s": "Alpha"}),
        body(many, project_id=P1, meta={"flags": 8, "status": "inactive"}, data={"n": 2}),
        body(many, data={"n": 3, "s": "beta"}),
    ]
    created = (await client.post(f"/api/{many}/", json=rows)).json()
    today = dt.datetime.fromisoformat(created[0]["created_date"]).date().isoformat()

    async def ns(**params):
        response = await client.get(f"/api/{many}/", params=params)
        assert response.status_code == 200, response.text
        return [r["data"]["n"] for r in response.json()]

    assert await ns() == [3, 2, 1]
    assert await ns(id=f"{created[0]['id']},{created[2]['id']}") == [3, 1]
    assert await ns(project_id=P1, account_id=f"{A1},null") == [2, 1]
    assert await ns(created_date=today, modified_date__lt=today) == []
    assert await ns(meta_status="inactive") == [2]
    assert await ns(meta_flags__gt="0") == [2]
    assert await ns(meta_internal_id="1,3") == [3, 1]
    assert await ns(data="n__gte=2::int") == [3, 2]
    assert await ns(search="ALPHA") == [1]
    assert await ns(search="bet", field="data__s") == [3]
    assert await ns(ordering="-data__s,data__n") == [2, 3, 1]
    page = (await client.get(f"/api/{many}/", params={"limit": 1, "offset": 1})).json()
    assert page["count"] == 3 and [r["data"]["n"] for r in page["results"]] == [2]
    bad = await client.get(f"/api/{many}/", params={"user_id": "x", "data": "n"})
    assert set(detail(bad)["fields"]) == {"user_id", "data"}
