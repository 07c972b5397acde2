"""The registry's `/metrics`: requests by route, and the pool's size and use."""

from __future__ import annotations

import pytest

from tests.metrics import value

pytestmark = pytest.mark.anyio


async def test_pool_size_is_exposed_and_connections_are_returned(registry_client) -> None:
    assert (await registry_client.get("/api/configs/")).status_code == 200
    text = (await registry_client.get("/metrics")).text
    assert value(text, "db_pool_connections_max") == 10
    assert value(text, "db_pool_connections_in_use") == 0


async def test_requests_are_counted_by_route_and_status(registry_client) -> None:
    await registry_client.get("/api/configs/")
    await registry_client.get("/api/config/not-a-uuid/")
    text = (await registry_client.get("/metrics")).text
    assert value(text, "http_requests_total", route="/api/configs", status="200") == 1
    assert (
        sum(
            value(text, "http_requests_total", route=route, status=status)
            for route in ("/api/config/{id}", "<unmatched>")
            for status in ("400", "404")
        )
        == 1
    )
