"""Step's `/metrics`: its Raida and configs calls, counted by the upstream client layer, are
exactly the calls raida-mock's journal received."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.metrics import value

from .conftest import World, raida_calls

pytestmark = pytest.mark.anyio


async def test_upstream_calls_in_metrics_match_what_raida_received(
    step_client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    before = (await step_client.get("/metrics")).text
    assert (await step_client.get("/contests/active/", headers=world.headers())).status_code == 200
    assert (
        await step_client.get("/contests/user/my/tasks/", headers=world.headers())
    ).status_code == 200
    after = (await step_client.get("/metrics")).text
    received = len(await raida_calls(raida_admin, tokens=True))
    counted = value(after, "upstream_requests_total", upstream="raida", outcome="2xx") - value(
        before, "upstream_requests_total", upstream="raida", outcome="2xx"
    )
    assert received > 0
    assert counted == received
    assert value(after, "upstream_requests_total", upstream="configs", outcome="2xx") >= 1


async def test_requests_are_counted_by_route(step_client: httpx.AsyncClient, world: World) -> None:
    await step_client.get("/contests/active/", headers=world.headers())
    text = (await step_client.get("/metrics")).text
    assert value(text, "http_requests_total", route="/contests/active", status="200") == 1
