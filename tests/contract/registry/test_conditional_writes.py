"""ETag and If-Match on single records: conditional PUT / PATCH / DELETE, both kinds.

A record's ETag is its `modified_date` in quotes; a write with `If-Match` lands only if the
record still has that version, checked in the write's own statement.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest

from tests.fixtures.registry import execute_sql

from .helpers import MISSING, create_config, create_link, detail, link_body, parse_ts

pytestmark = pytest.mark.anyio

KINDS = ["config", "link"]
CHANGED = {
    "config": "Config has changed: If-Match does not match its current ETag.",
    "link": "Link has changed: If-Match does not match its current ETag.",
}


def etag_of(row: dict[str, Any]) -> str:
    return f'"{row["modified_date"]}"'


async def create(client: httpx.AsyncClient, kind: str, **fields: Any) -> dict[str, Any]:
    if kind == "config":
        return await create_config(client, **fields)
    return await create_link(client, **fields)


def put_body(kind: str, **fields: Any) -> dict[str, Any]:
    return link_body(**fields) if kind == "link" else fields


async def read(client: httpx.AsyncClient, kind: str, row: dict[str, Any]) -> httpx.Response:
    response = await client.get(f"/api/{kind}/{row['id']}/")
    assert response.status_code == 200, response.text
    return response


async def write(
    client: httpx.AsyncClient, kind: str, method: str, row: dict[str, Any], **headers: str
) -> httpx.Response:
    """A write that changes the record: new data (PUT, PATCH) or deactivation (DELETE)."""
    url = f"/api/{kind}/{row['id']}/"
    if method == "DELETE":
        return await client.delete(url, headers=headers)
    body = put_body(kind, data={"written": method}) if method == "PUT" else {"data": {"k": 1}}
    return await client.request(method, url, json=body, headers=headers)


# --- ETag ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_a_read_carries_the_records_etag(registry_client, kind):
    row = await create(registry_client, kind, data={"a": 1})
    response = await read(registry_client, kind, row)
    assert response.headers["etag"] == etag_of(response.json())
    assert not response.headers["etag"].startswith("W/")
    head = await registry_client.head(f"/api/{kind}/{row['id']}/")
    assert head.headers["etag"] == response.headers["etag"]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_create_carries_the_new_records_etag(registry_client, kind):
    response = await registry_client.post(f"/api/{kind}/", json=put_body(kind))
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == etag_of(response.json())


@pytest.mark.parametrize("kind", KINDS)
async def test_a_listed_row_gives_the_same_etag_as_a_read(registry_client, kind):
    row = await create(registry_client, kind)
    (listed,) = (await registry_client.get(f"/api/{kind}s/")).json()
    assert etag_of(listed) == (await read(registry_client, kind, row)).headers["etag"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_every_write_answers_a_new_etag_that_reads_confirm(registry_client, kind, method):
    row = await create(registry_client, kind)
    response = await write(registry_client, kind, method, row)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] != etag_of(row)
    assert response.headers["etag"] == (await read(registry_client, kind, row)).headers["etag"]


async def test_the_etag_changes_even_when_the_clock_steps_back(
    registry_client, registry_database_url
):
    row = await create_config(registry_client)
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    await execute_sql(registry_database_url, "UPDATE configs_config SET modified_date = $1", future)
    before = (await read(registry_client, "config", row)).headers["etag"]
    response = await registry_client.patch(f"/api/config/{row['id']}/", json={})
    assert response.headers["etag"] != before
    assert parse_ts(response.json()["modified_date"]) > future


async def test_concurrent_writes_give_distinct_etags(registry_client):
    row = await create_config(registry_client, data={})
    url = f"/api/config/{row['id']}/"
    responses = await asyncio.gather(
        *(registry_client.patch(url, json={"data": {f"k{i}": i}}) for i in range(10))
    )
    assert all(r.status_code == 200 for r in responses)
    assert len({r.headers["etag"] for r in responses} | {etag_of(row)}) == 11


# --- If-Match --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_a_write_with_the_current_etag_lands(registry_client, kind, method):
    row = await create(registry_client, kind)
    current = (await read(registry_client, kind, row)).headers["etag"]
    response = await write(registry_client, kind, method, row, **{"If-Match": current})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] != current


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_a_write_with_a_stale_etag_is_412_and_writes_nothing(registry_client, kind, method):
    row = await create(registry_client, kind, data={"v": 0})
    stale = etag_of(row)
    changed = await registry_client.patch(f"/api/{kind}/{row['id']}/", json={"data": {"v": 1}})
    assert changed.status_code == 200, changed.text
    before = await read(registry_client, kind, row)
    response = await write(registry_client, kind, method, row, **{"If-Match": stale})
    assert response.status_code == 412, response.text
    assert detail(response) == {"code": "PRECONDITION_FAILED", "message": CHANGED[kind]}
    after = await read(registry_client, kind, row)
    assert after.json() == before.json()
    assert after.headers["etag"] == before.headers["etag"]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_a_stale_etag_of_an_unknown_record_is_still_404(registry_client, method):
    row = await create_config(registry_client)
    response = await write(
        registry_client, "config", method, {"id": MISSING}, **{"If-Match": etag_of(row)}
    )
    assert response.status_code == 404, response.text
    assert detail(response)["code"] == "NOT_FOUND"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_if_match_star_writes_unconditionally(registry_client, kind, method):
    row = await create(registry_client, kind)
    await registry_client.patch(f"/api/{kind}/{row['id']}/", json={"data": {"v": 1}})
    response = await write(registry_client, kind, method, row, **{"If-Match": "*"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("value", ["abc", '"unterminated', "", '"a" "b"', "*, *"])
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_if_match_outside_the_grammar_is_400_and_writes_nothing(
    registry_client, method, value
):
    row = await create_config(registry_client, data={"v": 0})
    response = await write(registry_client, "config", method, row, **{"If-Match": value})
    assert response.status_code == 400, response.text
    body = detail(response)
    assert body["code"] == "INVALID_HEADER"
    assert list(body["fields"]) == ["If-Match"]
    assert (await read(registry_client, "config", row)).json() == row


@pytest.mark.parametrize(
    "value",
    [
        '""',  # quoted, but not a tag of ours
        '"2026-05-01"',
        "W/{tag}",  # weak: never equal under strong comparison
        "{tag_z}",  # the same instant, another spelling
    ],
)
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_a_tag_that_cannot_match_is_412_and_writes_nothing(registry_client, method, value):
    row = await create_config(registry_client, data={"v": 0})
    tag = etag_of(row)
    header = value.format(tag=tag, tag_z=tag.replace("+00:00", "Z"))
    response = await write(registry_client, "config", method, row, **{"If-Match": header})
    assert response.status_code == 412, response.text
    assert detail(response)["code"] == "PRECONDITION_FAILED"
    assert (await read(registry_client, "config", row)).json() == row


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_a_tag_that_cannot_match_on_an_unknown_record_is_404(registry_client, method):
    response = await write(
        registry_client, "config", method, {"id": MISSING}, **{"If-Match": '"x"'}
    )
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_a_list_holding_the_current_etag_lands(registry_client, method):
    row = await create_config(registry_client, data={"v": 0})
    header = f'W/"old", "2026-05-01T10:00:00.000001+00:00", {etag_of(row)}'
    response = await write(registry_client, "config", method, row, **{"If-Match": header})
    assert response.status_code == 200, response.text


async def test_two_if_match_lines_are_one_list(registry_client):
    row = await create_config(registry_client)
    response = await registry_client.patch(
        f"/api/config/{row['id']}/",
        json={"data": {"k": 1}},
        headers=[("If-Match", '"other"'), ("If-Match", etag_of(row))],
    )
    assert response.status_code == 200, response.text


async def test_of_concurrent_writes_holding_one_etag_exactly_one_lands(registry_client):
    row = await create_config(registry_client, data={})
    url = f"/api/config/{row['id']}/"
    headers = {"If-Match": etag_of(row)}
    responses = await asyncio.gather(
        *(
            registry_client.patch(url, json={"data": {f"k{i}": i}}, headers=headers)
            for i in range(10)
        )
    )
    statuses = [r.status_code for r in responses]
    assert sorted(statuses) == [200] + [412] * 9
    winner = statuses.index(200)
    assert (await read(registry_client, "config", row)).json()["data"] == {f"k{winner}": winner}


async def test_a_stale_etag_is_412_even_when_the_body_would_fail_the_merge(registry_client):
    row = await create_config(registry_client, data=[1])
    await registry_client.put(f"/api/config/{row['id']}/", json={"data": [2]})
    response = await registry_client.patch(
        f"/api/config/{row['id']}/", json={"data": {"k": 1}}, headers={"If-Match": etag_of(row)}
    )
    assert response.status_code == 412, response.text


# --- compatibility: without If-Match nothing changes ----------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_a_write_without_if_match_lands_whatever_the_version(registry_client, kind, method):
    row = await create(registry_client, kind)
    await registry_client.patch(f"/api/{kind}/{row['id']}/", json={"data": {"v": 1}})
    response = await write(registry_client, kind, method, row)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_bulk_updates_refuse_if_match_and_write_nothing(registry_client, method):
    row = await create_config(registry_client, data={"v": 0})
    response = await registry_client.request(
        method,
        "/api/configs/",
        json=[{"id": row["id"], "data": {"v": 1}}],
        headers={"If-Match": etag_of(row)},
    )
    assert response.status_code == 400, response.text
    assert list(detail(response)["fields"]) == ["If-Match"]
    assert (await read(registry_client, "config", row)).json() == row


async def test_bulk_deactivate_refuses_if_match_and_writes_nothing(registry_client):
    row = await create_config(registry_client)
    response = await registry_client.delete(
        "/api/configs/", params={"id": row["id"]}, headers={"If-Match": etag_of(row)}
    )
    assert response.status_code == 400, response.text
    assert (await read(registry_client, "config", row)).json() == row


# --- documented ------------------------------------------------------------------------------


async def test_the_schema_documents_etag_and_if_match(registry_client):
    doc = (await registry_client.get("/schema/?format=json")).json()
    for one in ("config", "link"):
        path = doc["paths"][f"/api/{one}/{{id}}/"]
        assert "ETag" in path["get"]["responses"]["200"]["headers"]
        for method in ("put", "patch", "delete"):
            operation = path[method]
            assert "If-Match" in {p["name"] for p in operation["parameters"]}
            assert "412" in operation["responses"]
            assert "ETag" in operation["responses"]["200"]["headers"]
