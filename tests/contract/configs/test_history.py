"""History, actor and rollback through the configs service, and `X-Config-Index` on reads."""

from __future__ import annotations

import asyncio
import time

import pytest

from .conftest import WRITE_ROLE, WRITER, A, P

pytestmark = pytest.mark.anyio

URL = "/configs/theme/"


def new(**changes):
    return {"project_id": P, "object_type": "theme", "data": {"v": 1}, **changes}


async def audit(registry_client, **params) -> list[dict]:
    response = await registry_client.get("/api/revisions/", params=params)
    assert response.status_code == 200, response.text
    return response.json()["results"]


async def test_each_write_path_records_the_token_user_and_roles_as_actor(
    configs_client, writer, registry_client
):
    steps = [
        ("post", "/configs/", new()),
        ("put", URL, {"data": {"v": 2}}),
        ("patch", URL, {"data": {"w": 3}}),
        ("delete", URL, None),
    ]
    for method, url, body in steps:
        kwargs = {"json": body} if body is not None else {}
        response = await configs_client.request(method, url, headers=writer, **kwargs)
        assert response.is_success, response.text
    revisions = await audit(registry_client, ordering="index")
    assert [r["operation"] for r in revisions] == ["create", "update", "update", "patch"]
    assert {r["actor"] for r in revisions} == {WRITER}
    assert all(r["actor_roles"] == [WRITE_ROLE] for r in revisions)
    assert revisions[-1]["after"]["meta"]["status"] == "inactive"


async def test_actor_headers_sent_by_the_caller_are_not_trusted(
    configs_client, writer, registry_client
):
    forged = {**writer, "X-Actor": "somebody-else", "X-Actor-Roles": "admin"}
    assert (await configs_client.post("/configs/", json=new(), headers=forged)).status_code == 201
    (revision,) = await audit(registry_client)
    assert (revision["actor"], revision["actor_roles"]) == (WRITER, [WRITE_ROLE])


async def test_the_request_id_reaches_the_revision(configs_client, writer, registry_client):
    headers = {**writer, "X-Request-ID": "edit-7"}
    assert (await configs_client.post("/configs/", json=new(), headers=headers)).status_code == 201
    (revision,) = await audit(registry_client)
    assert revision["request_id"] == "edit-7"


async def test_history_lists_the_types_changes_at_the_callers_level_newest_first(
    configs_client, writer, reader
):
    await configs_client.post("/configs/", json=new(), headers=writer)
    await configs_client.post("/configs/", json=new(object_type="other"), headers=writer)
    await configs_client.put(URL, json={"data": {"v": 2}}, headers=writer)
    account = {**writer, "Account-ID": A}
    await configs_client.post("/configs/", json=new(account_id=A), headers=account)
    project_only = await configs_client.get("/configs/theme/history/", headers=reader)
    assert project_only.status_code == 200, project_only.text
    body = project_only.json()
    assert body["detail"]["code"] == "OK"
    assert body["count"] == 2
    assert [(r["operation"], r["level"]) for r in body["results"]] == [
        ("update", "project"),
        ("create", "project"),
    ]
    latest = body["results"][0]
    assert latest["before"]["data"] == {"v": 1} and latest["after"]["data"] == {"v": 2}
    assert latest["actor"] == WRITER and latest["object_type"] == "theme"
    assert project_only.headers["X-Config-Index"] == str(latest["index"])
    with_account = await configs_client.get(
        "/configs/theme,other/history/", headers={**reader, "Account-ID": A}
    )
    assert [r["level"] for r in with_account.json()["results"]] == [
        "account",
        "project",
        "project",
        "project",
    ]


async def test_history_pages(configs_client, writer, reader):
    await configs_client.post("/configs/", json=new(), headers=writer)
    for n in range(3):
        await configs_client.put(URL, json={"data": {"n": n}}, headers=writer)
    page = (
        await configs_client.get(
            "/configs/theme/history/", params={"limit": 2, "offset": 1}, headers=reader
        )
    ).json()
    assert page["count"] == 4
    assert [r["after"]["data"] for r in page["results"]] == [{"n": 1}, {"n": 0}]


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "x"}, {"offset": "-1"}])
async def test_a_bad_history_page_is_400(configs_client, reader, params):
    response = await configs_client.get("/configs/theme/history/", params=params, headers=reader)
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "BAD_REQUEST"


async def test_history_needs_a_token(configs_client):
    response = await configs_client.get("/configs/theme/history/", headers={"Project-ID": P})
    assert response.status_code == 401


async def test_rollback_restores_an_earlier_revision_as_a_new_one(
    configs_client, writer, reader, registry_client
):
    await configs_client.post("/configs/", json=new(data={"v": 1, "keep": [1]}), headers=writer)
    await configs_client.put(URL, json={"data": {"v": 2}}, headers=writer)
    (first,) = [
        r
        for r in (await configs_client.get(f"{URL}history/", headers=reader)).json()["results"]
        if r["operation"] == "create"
    ]
    response = await configs_client.post(
        f"{URL}rollback/", json={"index": first["index"]}, headers=writer
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["data"] == {"v": 1, "keep": [1]}
    assert response.json()["data"]["meta"] == first["after"]["meta"]
    read = await configs_client.get(URL, headers=reader)
    assert read.json()["data"] == {"theme": {"v": 1, "keep": [1]}}
    (latest, *_) = await audit(registry_client)
    assert (latest["operation"], latest["restores"], latest["actor"]) == (
        "rollback",
        first["index"],
        WRITER,
    )


async def test_rollback_brings_a_deactivated_config_back(configs_client, writer, reader):
    await configs_client.post("/configs/", json=new(), headers=writer)
    await configs_client.delete(URL, headers=writer)
    assert (await configs_client.get(URL, headers=reader)).status_code == 404
    history = (await configs_client.get(f"{URL}history/", headers=reader)).json()["results"]
    created = history[-1]["index"]
    response = await configs_client.post(f"{URL}rollback/", json={"index": created}, headers=writer)
    assert response.status_code == 200, response.text
    assert (await configs_client.get(URL, headers=reader)).json()["data"] == {"theme": {"v": 1}}


async def test_rollback_needs_the_write_role(configs_client, writer, reader):
    await configs_client.post("/configs/", json=new(), headers=writer)
    response = await configs_client.post(f"{URL}rollback/", json={"index": 1}, headers=reader)
    assert response.status_code == 403


@pytest.mark.parametrize("body", [{}, {"index": 0}, {"index": "1"}, {"index": 1.5}, []])
async def test_rollback_without_a_usable_index_is_400(configs_client, writer, body):
    await configs_client.post("/configs/", json=new(), headers=writer)
    response = await configs_client.post(f"{URL}rollback/", json=body, headers=writer)
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "BAD_REQUEST"


async def test_rollback_to_a_revision_of_another_config_is_404(configs_client, writer):
    await configs_client.post("/configs/", json=new(object_type="other"), headers=writer)
    await configs_client.post("/configs/", json=new(), headers=writer)
    response = await configs_client.post(f"{URL}rollback/", json={"index": 1}, headers=writer)
    assert response.status_code == 404  # the registry has no such revision of this config


async def test_rollback_of_a_config_that_is_not_there_is_404(configs_client, writer):
    response = await configs_client.post(f"{URL}rollback/", json={"index": 1}, headers=writer)
    assert response.status_code == 404


async def test_every_read_carries_the_index_and_a_write_moves_it(configs_client, writer, reader):
    await configs_client.post("/configs/", json=new(), headers=writer)
    first = await configs_client.get(URL, headers=reader)
    everything = await configs_client.get("/configs/", headers=reader)
    assert first.headers["X-Config-Index"] == everything.headers["X-Config-Index"] == "1"
    await configs_client.put(URL, json={"data": {"v": 2}}, headers=writer)
    assert (await configs_client.get(URL, headers=reader)).headers["X-Config-Index"] == "2"


@pytest.mark.parametrize(
    "params", [{"index": "-1"}, {"index": "x"}, {"index": "1", "wait": "-1s"}, {"wait": "soon"}]
)
async def test_a_nonsense_watch_is_400(configs_client, reader, params):
    response = await configs_client.get(URL, params=params, headers=reader)
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "INVALID_QUERY"


async def test_a_wait_without_an_index_is_a_plain_read(configs_client, writer, reader):
    await configs_client.post("/configs/", json=new(), headers=writer)
    started = time.monotonic()
    response = await configs_client.get(URL, params={"wait": "30s"}, headers=reader)
    assert response.status_code == 200, response.text
    assert time.monotonic() - started < 5


async def test_index_zero_never_blocks(configs_client, reader):
    started = time.monotonic()
    response = await configs_client.get(URL, params={"index": "0", "wait": "30s"}, headers=reader)
    assert response.status_code == 404, response.text
    assert time.monotonic() - started < 5


async def test_an_index_this_set_never_had_answers_at_once(configs_client, writer, reader):
    await configs_client.post("/configs/", json=new(), headers=writer)  # the set's index: 1
    await configs_client.post("/configs/", json=new(object_type="other"), headers=writer)
    started = time.monotonic()
    response = await configs_client.get(URL, params={"index": "2", "wait": "30s"}, headers=reader)
    assert response.status_code == 200, response.text
    assert response.headers["X-Config-Index"] == "1"
    assert time.monotonic() - started < 5


async def test_a_set_never_written_carries_the_registry_index(configs_client, writer, reader):
    await configs_client.post("/configs/", json=new(object_type="other"), headers=writer)
    response = await configs_client.get(URL, headers=reader)
    assert response.status_code == 404
    assert response.headers["X-Config-Index"] == "1"  # so a client can wait for its first write


async def test_the_change_feed_needs_the_write_role(configs_client, reader, writer):
    assert (await configs_client.get("/configs/_changes/", headers=reader)).status_code == 403
    response = await configs_client.get("/configs/_changes/", headers=writer)
    assert response.status_code == 200
    assert set(response.json()) == {"index", "reset", "changes"}


@pytest.mark.parametrize("wait", ["2.6ms", "0.1", "0.000001s"])
async def test_the_change_feed_passes_any_wait_on_to_the_registry(configs_client, writer, wait):
    # 2.6 ms is 0.0026000000000000003 s as a float's text, more digits than a wait may have
    response = await configs_client.get(
        "/configs/_changes/", params={"index": "93357", "wait": wait}, headers=writer
    )
    assert response.status_code == 200, response.text


async def test_a_cached_set_is_dropped_when_another_instance_writes(
    start_configs, registry_app, reader, writer, load_configs
):
    await load_configs(P, {"theme": {"v": 1}})
    async with (
        start_configs(registry_app, cache_ttl=60) as cached,
        start_configs(registry_app) as other,
    ):
        assert (await cached.get(URL, headers=reader)).json()["data"] == {"theme": {"v": 1}}
        assert (await other.put(URL, json={"data": {"v": 2}}, headers=writer)).status_code == 200
        deadline = asyncio.get_running_loop().time() + 1.0
        while True:  # the change feed, not the 60 s TTL, drops the cached set
            seen = (await cached.get(URL, headers=reader)).json()["data"]
            if seen == {"theme": {"v": 2}} or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.02)
    assert seen == {"theme": {"v": 2}}
