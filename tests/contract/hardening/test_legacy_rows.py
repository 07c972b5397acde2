"""A row stored before the depth cap (an adopted database), nested ~1000 deep, makes a read
of its project a 502 naming the registry — never a 500."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

pytestmark = pytest.mark.anyio

P = "e3eb60a2-3bb7-4983-8e2f-47490b979eb9"


async def test_a_legacy_row_nested_past_the_parser_is_502_not_500(
    configs_client: httpx.AsyncClient,
    reader: dict[str, str],
    registry_database_url: str,
    load_configs: Any,
) -> None:
    await load_configs(P, {"node_id": {"v": 1}})
    deep = '{"k":' * 990 + "1" + "}" * 990
    conn = await asyncpg.connect(registry_database_url)
    try:
        await conn.execute("UPDATE configs_config SET data = CAST($1 AS jsonb)", deep)
    finally:
        await conn.close()
    response = await configs_client.get("/configs/node_id/", headers=reader)
    assert response.status_code == 502
    assert response.json()["detail"]["upstream"] == "registry"
