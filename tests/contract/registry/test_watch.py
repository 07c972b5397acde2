"""`X-Config-Index` on the registry's reads and blocking lists (`?index=N&wait=W`) in process;
the same across two instances over sockets is in tests/contract/watch."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial

import httpx
import pytest
from asgi_lifespan import LifespanManager

from step_platform.core.app import CommonSettings
from step_platform.registry.app import Settings, create_app
from step_platform.registry.listener import APPLICATION_NAME
from tests.fixtures.registry import execute_sql, reset_registry

from .helpers import A1, P1, P2, create_config, create_link, lifespan_state

pytestmark = pytest.mark.anyio


async def index_of(registry_client, url: str, **params) -> int:
    response = await registry_client.get(url, params=params)
    assert response.status_code == 200, response.text
    return int(response.headers["X-Config-Index"])


async def test_a_list_index_is_the_last_change_in_its_scope(registry_client):
    await create_config(registry_client, project_id=P1, object_type="a")
    await create_config(registry_client, project_id=P2, object_type="a")
    await create_config(registry_client, project_id=P1, account_id=A1, object_type="b")
    assert await index_of(registry_client, "/api/configs/") == 3
    assert await index_of(registry_client, "/api/configs/", project_id=P1) == 3
    assert await index_of(registry_client, "/api/configs/", project_id=P2) == 2
    assert await index_of(registry_client, "/api/configs/", project_id=P1, account_id="null") == 1
    assert await index_of(registry_client, "/api/configs/", object_type="a") == 2
    assert await index_of(registry_client, "/api/links/") == 0


async def test_a_list_carries_the_latest_index_of_the_whole_history(registry_client):
    await create_config(registry_client, project_id=P1)
    await create_config(registry_client, project_id=P2)
    for params in ({"project_id": P1}, {"project_id": P1, "limit": 1}, {"object_type": "none"}):
        response = await registry_client.get("/api/configs/", params=params)
        assert response.headers["X-Config-Latest-Index"] == "2"


async def test_a_page_past_the_end_carries_its_scopes_index(registry_client):
    await create_config(registry_client, project_id=P1)
    await create_config(registry_client, project_id=P2)
    assert await index_of(registry_client, "/api/configs/", project_id=P1, limit=1) == 1
    assert await index_of(registry_client, "/api/configs/", project_id=P1, limit=1, offset=5) == 1


async def test_a_row_moving_out_of_a_scope_moves_the_scopes_index(registry_client):
    row = await create_config(registry_client, project_id=P1)
    await registry_client.patch(f"/api/config/{row['id']}/", json={"project_id": P2})
    assert await index_of(registry_client, "/api/configs/", project_id=P1) == 2


async def test_a_record_carries_its_own_last_index(registry_client):
    row = await create_config(registry_client)
    await create_link(registry_client)
    assert await index_of(registry_client, f"/api/config/{row['id']}/") == 1


async def list_while_writing(
    client: httpx.AsyncClient, index: int, write: Callable[[], Awaitable[object]]
) -> tuple[httpx.Response, float]:
    """A blocking list of P1 from `index` (up to 10 s) while `write` runs, 0.3 s after the
    list started; its answer and how long it took."""

    async def write_later() -> None:
        await asyncio.sleep(0.3)
        await write()

    writer = asyncio.create_task(write_later())
    started = time.monotonic()
    response = await client.get(
        "/api/configs/", params={"project_id": P1, "index": index, "wait": "10s"}
    )
    await writer
    return response, time.monotonic() - started


async def test_a_blocking_list_returns_when_its_scope_changes(registry_client):
    await create_config(registry_client, project_id=P1)
    index = await index_of(registry_client, "/api/configs/", project_id=P1)

    async def writes() -> None:
        await create_config(registry_client, project_id=P2)  # another scope: no wake-up
        await asyncio.sleep(0.3)
        await create_config(registry_client, project_id=P1, name="new")

    response, took = await list_while_writing(registry_client, index, writes)
    assert 0.5 < took < 5
    assert response.headers["X-Config-Index"] == "3"
    assert [r["name"] for r in response.json()] == ["new", None]


async def test_a_write_to_more_projects_than_a_notification_names_wakes_a_blocking_list(
    registry_client, registry_database_url
):
    """One statement over 201 projects is announced as "*" (migration 0004): every watcher is
    woken and re-reads, so the list of one of them answers at once."""
    await create_config(registry_client, project_id=P1)
    index = await index_of(registry_client, "/api/configs/", project_id=P1)
    projects = [uuid.uuid4() for _ in range(200)] + [uuid.UUID(P1)]
    insert = partial(
        execute_sql,
        registry_database_url,
        "INSERT INTO configs_config (id, project_id, name) "
        "SELECT gen_random_uuid(), p, 'bulk' FROM unnest($1::uuid[]) AS p",
        projects,
    )
    response, took = await list_while_writing(registry_client, index, insert)
    assert took < 5
    assert response.headers["X-Config-Index"] == "202"
    assert [r["name"] for r in response.json()] == ["bulk", None]


async def test_a_stale_index_answers_at_once_and_a_quiet_one_after_the_wait(registry_client):
    await create_config(registry_client, project_id=P1)
    stale = await registry_client.get("/api/configs/", params={"index": 0, "wait": "10s"})
    assert stale.headers["X-Config-Index"] == "1"
    started = time.monotonic()
    quiet = await registry_client.get("/api/configs/", params={"index": 1, "wait": "300ms"})
    assert time.monotonic() - started >= 0.3
    assert quiet.status_code == 200 and quiet.json() == stale.json()
    assert quiet.headers["X-Config-Index"] == "1"


async def test_a_future_index_answers_at_once(registry_client):
    await create_config(registry_client)
    started = time.monotonic()
    response = await registry_client.get("/api/configs/", params={"index": 10**12, "wait": "10s"})
    assert time.monotonic() - started < 5
    assert response.headers["X-Config-Index"] == "1"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"index": "-1"}, "index"),
        ({"index": "one"}, "index"),
        ({"index": "1", "wait": "x"}, "wait"),
        ({"wait": "x"}, "wait"),
    ],
)
async def test_a_nonsense_watch_is_400(registry_client, params, field):
    response = await registry_client.get("/api/configs/", params=params)
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "INVALID_QUERY"
    assert list(response.json()["detail"]["fields"]) == [field]


async def test_the_change_feed_starts_where_the_history_is_and_lists_what_follows(
    registry_client,
):
    await create_config(registry_client, project_id=P1)
    start = (await registry_client.get("/api/changes/")).json()
    assert start == {"index": 1, "reset": False, "changes": []}
    row = await create_config(registry_client, project_id=P2)
    feed = (await registry_client.get("/api/changes/", params={"index": 1})).json()
    assert feed["index"] == 2
    assert feed["changes"] == [{"index": 2, "kind": "config", "id": row["id"], "projects": [P2]}]
    ahead = (await registry_client.get("/api/changes/", params={"index": 99})).json()
    assert ahead == {"index": 2, "reset": True, "changes": []}


async def test_the_change_feed_lists_a_page_and_resets_a_follower_further_behind(
    registry_client, registry_database_url
):
    await execute_sql(
        registry_database_url,
        "INSERT INTO configs_config (id, project_id) "
        "SELECT gen_random_uuid(), $1 FROM generate_series(1, 1001)",
        uuid.UUID(P1),
    )
    page = (await registry_client.get("/api/changes/", params={"index": 1})).json()
    assert page["index"] == 1001 and page["reset"] is False
    assert [c["index"] for c in page["changes"]] == list(range(2, 1002))
    behind = await registry_client.get("/api/changes/", params={"index": 0, "wait": "10s"})
    assert behind.json() == {"index": 1001, "reset": True, "changes": []}
    assert behind.headers["X-Config-Index"] == "1001"


async def test_watches_survive_a_lost_listen_connection(registry_database_url):
    await reset_registry(registry_database_url)
    app = create_app(
        Settings(database_url=registry_database_url, common=CommonSettings(allowed_hosts=("*",)))
    )
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://registry.test"
        ) as client,
    ):
        state = lifespan_state(manager)
        listener = state["listener"]
        await asyncio.wait_for(listener.connected.wait(), 10)
        async with state["store"].connection() as conn:
            killed = await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = $1 AND datname = current_database()",
                APPLICATION_NAME,
            )
        assert killed == 1
        deadline = time.monotonic() + 10
        while listener.connected.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.wait_for(listener.connected.wait(), 10)  # opened again by itself
        await create_config(client, project_id=P1)  # index 0 would not wait at all
        index = await index_of(client, "/api/configs/", project_id=P1)
        response, took = await list_while_writing(
            client, index, partial(create_config, client, project_id=P1)
        )
    assert took < 5
    assert int(response.headers["X-Config-Index"]) > index


async def test_a_wait_without_index_is_a_plain_read(registry_client):
    await create_config(registry_client, project_id=P1)
    started = time.monotonic()
    response = await registry_client.get("/api/configs/", params={"wait": "10s"})
    assert response.status_code == 200, response.text
    assert time.monotonic() - started < 5
    assert response.headers["X-Config-Index"] == "1"


async def test_index_zero_never_blocks_even_on_an_empty_scope(registry_client):
    started = time.monotonic()
    response = await registry_client.get(
        "/api/configs/", params={"project_id": P2, "index": 0, "wait": "10s"}
    )
    assert response.status_code == 200, response.text
    assert time.monotonic() - started < 5
    assert response.headers["X-Config-Index"] == "0"


async def test_a_paged_blocking_list_reads_again_after_a_change(registry_client):
    """The second read of a blocking query reuses the compiled query (paging included)."""
    await create_config(registry_client, project_id=P1)
    index = await index_of(registry_client, "/api/configs/", project_id=P1)

    async def write_later() -> None:
        await asyncio.sleep(0.3)
        await create_config(registry_client, project_id=P2)  # another scope: a wake-up, no news
        await asyncio.sleep(0.3)
        await create_config(registry_client, project_id=P1)

    writer = asyncio.create_task(write_later())
    response = await registry_client.get(
        "/api/configs/", params={"project_id": P1, "limit": 1, "index": index, "wait": "10s"}
    )
    await writer
    assert response.status_code == 200, response.text
    assert response.json()["count"] == 2
