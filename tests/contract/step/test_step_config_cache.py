"""Step's config-set cache with a change feed (CONFIGS_SERVICE_TOKEN set): served and filled only
while the feed is live, so a feed that is down costs a configs call per read, never a stale
answer; cleared when the feed comes back. Configs calls are counted exactly
(`ConfigsClient.fetches`: the feed's own long-poll and the registration are not fetches).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from step_platform.contests.configs_client import ConfigsClient
from step_platform.core.feed import FeedFollower
from step_platform.seed import seed_config_set
from tests.fixtures.step import LifespanState, running_step

from .conftest import World

pytestmark = pytest.mark.anyio

ROUTE = "/contests/active/"
WRITE_ROLE = "configs:write"


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.fixture
async def step(
    world: World, configs_app: ASGIApp, raida_app: ASGIApp, user_center: Any
) -> AsyncIterator[tuple[LifespanState, httpx.AsyncClient]]:
    """A step instance started after the world's config writes, its feed live (so no change
    from before it can arrive later and drop what a test cached)."""
    token = await user_center.token(roles=(WRITE_ROLE,))
    async with running_step(
        configs_app, raida_app, user_center.public_key_pem, token, config_cache_ttl=60.0
    ) as (app, client):
        await until(lambda: feed_of(app).live)
        yield app, client


def feed_of(app: LifespanState) -> FeedFollower:
    feed: FeedFollower = app.state["configs_feed"]
    return feed


def configs_of(app: LifespanState) -> ConfigsClient:
    configs: ConfigsClient = app.state["configs"]
    return configs


async def read(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get(ROUTE, headers=world.headers())
    assert response.status_code == 200, response.text


async def test_while_the_feed_is_live_repeated_reads_ask_the_configs_service_once(
    step: tuple[LifespanState, httpx.AsyncClient], world: World
) -> None:
    app, client = step
    for _ in range(3):
        await read(client, world)
    assert configs_of(app).fetches == 1


async def test_a_config_write_is_seen_by_the_next_read_once_the_feed_names_it(
    step: tuple[LifespanState, httpx.AsyncClient],
    world: World,
    load_configs: Any,
    registry_client: httpx.AsyncClient,
) -> None:
    app, client = step
    await read(client, world)
    await load_configs(world.project_id, seed_config_set())  # the project's rows rewritten
    latest = (await registry_client.get("/api/changes/")).json()["index"]
    feed = feed_of(app)
    await until(lambda: feed.index is not None and feed.index >= latest)
    await read(client, world)
    assert configs_of(app).fetches == 2


async def test_with_the_feed_stopped_every_read_asks_the_configs_service(
    step: tuple[LifespanState, httpx.AsyncClient], world: World
) -> None:
    app, client = step
    await read(client, world)
    await feed_of(app).stop()
    for _ in range(3):
        await read(client, world)
    assert configs_of(app).fetches == 4


async def test_nothing_read_while_the_feed_is_down_is_kept(
    step: tuple[LifespanState, httpx.AsyncClient], world: World
) -> None:
    app, client = step
    await feed_of(app).stop()
    await read(client, world)
    assert len(configs_of(app).cache) == 0


async def test_when_the_feed_comes_back_the_cache_is_cleared_then_used_again(
    step: tuple[LifespanState, httpx.AsyncClient], world: World
) -> None:
    app, client = step
    await read(client, world)  # cached while live
    feed = feed_of(app)
    await feed.stop()
    await feed.start(ready_timeout=5.0)
    assert feed.live
    await read(client, world)  # the entry from before the outage is not served
    await read(client, world)
    assert configs_of(app).fetches == 2
