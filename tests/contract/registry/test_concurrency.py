"""Concurrent writes: no duplicate codes or internal ids, no lost updates, never a 500."""

from __future__ import annotations

import asyncio

import pytest

from .helpers import create_config, link_body, list_of

pytestmark = pytest.mark.anyio


async def test_concurrent_creates_of_one_object_code_leave_one_row(registry_client):
    responses = await asyncio.gather(
        *(registry_client.post("/api/config/", json={"object_code": "same"}) for _ in range(20))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19
    assert len(await list_of(registry_client, "/api/configs/")) == 1


async def test_concurrent_creates_of_one_link_set_leave_one_row(registry_client):
    body = link_body(link_code="L")
    responses = await asyncio.gather(
        *(registry_client.post("/api/link/", json=body) for _ in range(10))
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9


async def test_concurrent_creates_get_distinct_gapless_internal_ids(registry_client):
    singles = [registry_client.post("/api/config/", json={"name": f"s{i}"}) for i in range(20)]
    bulks = [
        registry_client.post("/api/configs/", json=[{"name": f"b{i}-{j}"} for j in range(10)])
        for i in range(4)
    ]
    responses = await asyncio.gather(*singles, *bulks)
    assert all(r.status_code == 201 for r in responses)
    rows = await list_of(registry_client, "/api/configs/")
    ids = sorted(r["meta"]["internal_id"] for r in rows)
    assert ids == list(range(1, 61))
    for response in responses[20:]:
        batch = [r["meta"]["internal_id"] for r in response.json()]
        assert batch == sorted(batch)


async def test_concurrent_patches_of_different_keys_all_land(registry_client):
    created = await create_config(registry_client, data={})
    url = f"/api/config/{created['id']}/"
    responses = await asyncio.gather(
        *(
            registry_client.patch(url, json={"data": {f"k{i}": i}, "meta": {f"m{i}": i}})
            for i in range(15)
        )
    )
    assert all(r.status_code == 200 for r in responses)
    stored = (await registry_client.get(url)).json()
    assert stored["data"] == {f"k{i}": i for i in range(15)}
    assert all(stored["meta"][f"m{i}"] == i for i in range(15))


async def test_concurrent_bulk_updates_in_opposite_orders_all_succeed(registry_client):
    rows = (
        await registry_client.post("/api/configs/", json=[{"name": str(i)} for i in range(10)])
    ).json()
    ids = [r["id"] for r in rows]

    def batch(order, n):
        return registry_client.patch(
            "/api/configs/", json=[{"id": i, "data": {f"w{n}": True}} for i in order]
        )

    responses = await asyncio.gather(
        *(batch(ids if n % 2 else list(reversed(ids)), n) for n in range(8))
    )
    assert [r.status_code for r in responses] == [200] * 8
    for row in await list_of(registry_client, "/api/configs/"):
        assert row["data"] == {f"w{n}": True for n in range(8)}


async def test_concurrent_deactivation_and_patching(registry_client):
    created = await create_config(registry_client, data={"a": 1})
    url = f"/api/config/{created['id']}/"
    responses = await asyncio.gather(
        registry_client.delete(url),
        registry_client.patch(url, json={"data": {"b": 2}}),
        registry_client.delete(f"/api/configs/?id={created['id']}"),
    )
    assert [r.status_code for r in responses] == [200, 200, 200]
    stored = (await registry_client.get(url)).json()
    assert stored["meta"]["status"] == "inactive"
    assert stored["data"] == {"a": 1, "b": 2}
