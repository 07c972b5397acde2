"""The optional config-set cache (CONFIGS_CACHE_TTL), invalidated by this instance's writes."""

from __future__ import annotations

import pytest

from .conftest import A, P

pytestmark = pytest.mark.anyio


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
