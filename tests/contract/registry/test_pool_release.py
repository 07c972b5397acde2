"""The registry's pool releases connections without a reset round trip, and loses nothing."""

from __future__ import annotations

import pytest

from step_platform.registry.db import Store

pytestmark = pytest.mark.anyio


async def test_a_released_connection_is_not_reset(registry_database_url: str) -> None:
    store = Store(registry_database_url, pool_size=1)
    await store.connect()
    try:
        async with store.connection() as conn:
            await conn.execute("SET application_name = 'left-as-is'")
        async with store.connection() as conn:  # the same (only) connection, not reset
            assert await conn.fetchval("SHOW application_name") == "left-as-is"
    finally:
        await store.disconnect()


async def test_a_transaction_left_open_is_still_rolled_back(registry_database_url: str) -> None:
    store = Store(registry_database_url, pool_size=1)
    await store.connect()
    try:
        async with store.connection() as conn:
            await conn.execute("BEGIN")
            await conn.execute("CREATE TEMP TABLE pool_probe (n int) ON COMMIT DROP")
        async with store.connection() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT to_regclass('pool_probe')") is None
    finally:
        await store.disconnect()


async def test_a_connection_plans_its_statements_once_and_never_in_parallel(
    registry_database_url: str,
) -> None:
    store = Store(registry_database_url, pool_size=1)
    await store.connect()
    try:
        async with store.connection() as conn:
            assert await conn.fetchval("SHOW plan_cache_mode") == "force_generic_plan"
            assert await conn.fetchval("SHOW max_parallel_workers_per_gather") == "0"
    finally:
        await store.disconnect()
