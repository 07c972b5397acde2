"""The config-set cache (CONFIGS_CACHE_TTL, on by default): invalidated by this instance's
writes and by the registry's change feed, and bypassed whenever that feed is not live.

Registry calls are counted exactly (`registry_calls`, the feed's own long-poll excluded). A
change made elsewhere reaches an instance through the feed, milliseconds later: the tests wait
for the instance's feed to have heard of a write (`heard`) before the read that must see it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from step_platform.configs.app import DEFAULT_CACHE_TTL
from step_platform.core.feed import PAGE, FeedFollower
from tests.fixtures.configs import LoadConfigs

from .conftest import A, FeedCut, P

pytestmark = pytest.mark.anyio

URL = "/configs/a/"
OTHER_PROJECT = "33333333-3333-4333-8333-333333333333"


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait (polling) until `condition()` holds; fail after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def heard(follower: FeedFollower, registry_client: httpx.AsyncClient) -> None:
    """Wait until the instance's feed has heard of every change the registry has made."""
    latest = (await registry_client.get("/api/changes/")).json()["index"]
    await until(lambda: follower.index is not None and follower.index >= latest)


async def load_many(load: LoadConfigs, project: str, count: int) -> None:
    """`count` configs (types t0, t1, ...) in `project`, a revision each, 100 per request."""
    for first in range(0, count, 100):
        await load(project, {f"t{n}": n for n in range(first, min(first + 100, count))})


def feed_of(states: list[dict[str, Any]], number: int = 0) -> FeedFollower:
    follower: FeedFollower = states[number]["feed"]
    return follower


async def data(client: httpx.AsyncClient, headers: dict[str, str]) -> Any:
    response = await client.get(URL, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_without_a_ttl_every_read_asks_the_registry(
    configs_client, reader, load_configs, registry_calls
):
    await load_configs(P, {"a": 1})
    for _ in range(3):
        assert (await configs_client.get("/configs/a/", headers=reader)).status_code == 200
    assert len(registry_calls) == 3


async def test_with_a_ttl_repeated_reads_ask_the_registry_once(
    start_configs, registry_app, reader, load_configs, registry_calls
):
    await load_configs(P, {"a": 1, "b": 2})
    async with start_configs(registry_app, cache_ttl=60) as client:
        answers = [(await client.get("/configs/a,b/", headers=reader)).json() for _ in range(3)]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["data"] == {"a": 1, "b": 2}
    assert len(registry_calls) == 1


async def test_cache_keys_include_account_and_types(
    start_configs, registry_app, reader, load_configs, registry_calls
):
    await load_configs(P, {"a": 1, "b": 2})
    await load_configs(P, {"a": "acc"}, account_id=A)
    async with start_configs(registry_app, cache_ttl=60) as client:
        plain = await client.get("/configs/a/", headers=reader)
        account = await client.get("/configs/a/", headers={**reader, "Account-ID": A})
        both = await client.get("/configs/a,b/", headers=reader)
    assert plain.json()["data"] == {"a": 1}
    assert account.json()["data"] == {"a": "acc"}
    assert both.json()["data"] == {"a": 1, "b": 2}
    assert len(registry_calls) == 3


async def test_own_writes_invalidate_the_cache(
    start_configs, registry_app, reader, writer, load_configs, registry_calls
):
    await load_configs(P, {"a": 1})
    async with start_configs(registry_app, cache_ttl=60) as client:
        before = await client.get("/configs/a/", headers={**reader, "Account-ID": A})
        changed = await client.put("/configs/a/", json={"data": 2}, headers=writer)
        after = await client.get("/configs/a/", headers={**reader, "Account-ID": A})
    assert changed.status_code == 200, changed.text
    assert before.json()["data"] == {"a": 1}
    assert after.json()["data"] == {"a": 2}
    assert [c.method for c in registry_calls] == ["GET", "GET", "PUT", "GET"]


async def test_a_cached_answer_still_needs_a_valid_token(
    start_configs, registry_app, reader, load_configs
):
    await load_configs(P, {"a": 1})
    async with start_configs(registry_app, cache_ttl=60) as client:
        assert (await client.get("/configs/a/", headers=reader)).status_code == 200
        response = await client.get(
            "/configs/a/", headers={"Project-ID": P, "Authorization": "Bearer x"}
        )
    assert response.status_code == 401


async def test_by_default_repeated_reads_ask_the_registry_once_while_the_feed_is_live(
    start_configs, registry_app, reader, load_configs, registry_calls, configs_states
):
    await load_configs(P, {"a": 1})
    async with start_configs(registry_app, cache_ttl=DEFAULT_CACHE_TTL) as client:
        assert feed_of(configs_states).live
        answers = [await data(client, reader) for _ in range(5)]
    assert answers == [{"a": 1}] * 5
    assert len(registry_calls) == 1


async def test_a_write_straight_to_the_registry_is_seen_by_the_next_read(
    start_configs,
    registry_app,
    registry_client,
    reader,
    load_configs,
    registry_calls,
    configs_states,
):
    await load_configs(P, {"a": 1})
    async with start_configs(registry_app, cache_ttl=DEFAULT_CACHE_TTL) as client:
        assert [await data(client, reader) for _ in range(2)] == [{"a": 1}] * 2
        await load_configs(P, {"a": 2})  # not through this instance
        await heard(feed_of(configs_states), registry_client)
        after = [await data(client, reader) for _ in range(2)]
    assert after == [{"a": 2}] * 2
    assert len(registry_calls) == 2  # one per version of the set


async def test_a_write_through_another_instance_is_seen_by_the_next_read(
    start_configs,
    registry_app,
    registry_client,
    reader,
    writer,
    load_configs,
    registry_calls,
    configs_states,
):
    await load_configs(P, {"a": 1})
    async with (
        start_configs(registry_app, cache_ttl=DEFAULT_CACHE_TTL) as client,
        start_configs(registry_app, cache_ttl=DEFAULT_CACHE_TTL) as other,
    ):
        assert [await data(client, reader) for _ in range(2)] == [{"a": 1}] * 2
        written = await other.put(URL, json={"data": 2}, headers=writer)
        assert written.status_code == 200, written.text
        await heard(feed_of(configs_states, 0), registry_client)
        before = len(registry_calls)
        after = [await data(client, reader) for _ in range(2)]
    assert after == [{"a": 2}] * 2
    assert len(registry_calls) - before == 1


async def test_with_the_feed_cut_every_read_asks_the_registry_and_sees_every_write(
    start_configs, registry_app, reader, load_configs, registry_calls, configs_states
):
    await load_configs(P, {"a": 1})
    cut = FeedCut()
    async with start_configs(registry_app, feed_cut=cut, cache_ttl=DEFAULT_CACHE_TTL) as client:
        follower = feed_of(configs_states)
        assert [await data(client, reader) for _ in range(2)] == [{"a": 1}] * 2
        assert len(registry_calls) == 1
        cut.cut.set()
        await until(lambda: not follower.live)
        during = [await data(client, reader) for _ in range(3)]
        await load_configs(P, {"a": 2})  # unheard of: the feed is down
        after = await data(client, reader)
    assert during == [{"a": 1}] * 3
    assert after == {"a": 2}
    assert len(registry_calls) == 1 + 3 + 1


async def test_a_stopped_feed_bypasses_the_cache(
    start_configs, registry_app, reader, load_configs, registry_calls, configs_states
):
    await load_configs(P, {"a": 1})
    async with start_configs(registry_app, cache_ttl=DEFAULT_CACHE_TTL) as client:
        await data(client, reader)
        await feed_of(configs_states).stop()
        for _ in range(3):
            await data(client, reader)
    assert len(registry_calls) == 1 + 3


async def test_when_the_feed_comes_back_the_cache_is_cleared_then_used_again(
    start_configs, registry_app, reader, load_configs, registry_calls, configs_states
):
    await load_configs(P, {"a": 1})
    cut = FeedCut()
    async with start_configs(registry_app, feed_cut=cut, cache_ttl=DEFAULT_CACHE_TTL) as client:
        follower = feed_of(configs_states)
        await data(client, reader)  # cached
        cut.cut.set()
        await until(lambda: not follower.live)
        await data(client, reader)  # bypassed
        cut.cut.clear()
        await until(lambda: follower.live)
        calls = len(registry_calls)
        again = [await data(client, reader) for _ in range(3)]
    assert again == [{"a": 1}] * 3
    assert calls == 2
    assert len(registry_calls) == calls + 1  # the set cached before the cut was dropped


async def test_a_feed_silent_longer_than_a_long_poll_can_last_is_not_trusted(
    start_configs, registry_app, reader, load_configs, registry_calls, configs_states
):
    await load_configs(P, {"a": 1})
    async with start_configs(registry_app, cache_ttl=DEFAULT_CACHE_TTL) as client:
        follower = feed_of(configs_states)
        await data(client, reader)
        now = follower.clock()
        follower.clock = lambda: now + follower.wait + follower.timeout + 1
        assert not follower.live
        await data(client, reader)
    assert len(registry_calls) == 2


async def test_a_feed_behind_by_a_full_page_bypasses_the_cache_until_caught_up(
    start_configs, registry_app, reader, load_configs, registry_calls, configs_states
):
    await load_configs(P, {"a": 1})
    cut = FeedCut()
    async with start_configs(registry_app, feed_cut=cut, cache_ttl=DEFAULT_CACHE_TTL) as client:
        follower = feed_of(configs_states)
        await data(client, reader)
        cut.cut.set()
        await until(lambda: not follower.live)
        await load_many(load_configs, P, PAGE)  # a full page of changes, unheard of
        cut.answers_left = 1  # the feed comes back with one full page, then is held
        cut.cut.clear()
        await until(lambda: follower.following.is_set())
        assert not follower.live
        calls = len(registry_calls)
        for _ in range(2):
            await data(client, reader)
        assert len(registry_calls) == calls + 2
        cut.released.set()
        await until(lambda: follower.live)  # asked again at once, not after a long-poll
        for _ in range(2):
            await data(client, reader)
    assert len(registry_calls) == calls + 2 + 1


async def test_a_feed_more_than_a_page_behind_is_caught_up_by_one_reset(
    start_configs,
    registry_app,
    registry_client,
    reader,
    load_configs,
    registry_calls,
    configs_states,
):
    """More than a page of changes unheard of: the registry answers a reset with its latest
    index, so one answer catches the follower up (no paging through them) and the cache,
    dropped whole, is trusted again at once."""
    await load_configs(P, {"a": 1})
    cut = FeedCut()
    async with start_configs(registry_app, feed_cut=cut, cache_ttl=DEFAULT_CACHE_TTL) as client:
        follower = feed_of(configs_states)
        await data(client, reader)
        calls = len(registry_calls)
        cut.cut.set()
        await until(lambda: not follower.live)
        await load_many(load_configs, OTHER_PROJECT, PAGE + 1)
        cut.answers_left = 1  # one answer, then the feed is held
        cut.cut.clear()
        await heard(follower, registry_client)
        assert follower.live
        for _ in range(2):
            await data(client, reader)
        cut.released.set()
    assert len(registry_calls) == calls + 1  # the cache dropped whole, then filled again
