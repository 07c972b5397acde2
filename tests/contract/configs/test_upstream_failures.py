"""Registry down / slow / 5xx / off-contract: 503 / 504 / 502 with the envelope.

The failures are real: a closed local port, and a tiny HTTP server on 127.0.0.1 that stalls
or answers badly (started and stopped by the `tiny_server` fixture).
"""

from __future__ import annotations

import pytest

from step_platform.core.app import CommonSettings

from .conftest import P

pytestmark = pytest.mark.anyio

FAST = CommonSettings(instance_id="test", connect_timeout=0.5, timeout=0.3)


def assert_upstream(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert detail["code"] == code
    assert detail["upstream"] == "registry"
    assert isinstance(detail["message"], str)
    assert "127.0.0.1" not in response.text  # no internal address leaks


async def test_registry_refusing_connections_is_503(start_configs, closed_port_url, reader):
    async with start_configs(registry_url=closed_port_url, common=FAST) as client:
        response = await client.get("/configs/node_id/", headers=reader)
    assert_upstream(response, 503, "UPSTREAM_UNAVAILABLE")


async def test_a_write_with_the_registry_down_is_503(start_configs, closed_port_url, writer):
    body = {"project_id": P, "object_type": "node_id", "data": 1}
    async with start_configs(registry_url=closed_port_url, common=FAST) as client:
        response = await client.post("/configs/", json=body, headers=writer)
    assert_upstream(response, 503, "UPSTREAM_UNAVAILABLE")


async def test_a_slow_registry_is_504(start_configs, tiny_server, reader):
    tiny_server.delay = 3.0
    async with start_configs(registry_url=tiny_server.url, common=FAST) as client:
        response = await client.get("/configs/node_id/", headers=reader)
    assert_upstream(response, 504, "UPSTREAM_TIMEOUT")
    assert len(tiny_server.requests) == 1


async def test_a_registry_5xx_is_502(start_configs, tiny_server, reader):
    tiny_server.status, tiny_server.body = 500, b'{"detail": "boom"}'
    async with start_configs(registry_url=tiny_server.url, common=FAST) as client:
        response = await client.get("/configs/node_id/", headers=reader)
    assert_upstream(response, 502, "UPSTREAM_ERROR")
    assert "boom" not in response.text
    assert len(tiny_server.requests) == 1


async def test_a_registry_5xx_on_a_write_is_502_after_one_write_call(
    start_configs, tiny_server, writer
):
    tiny_server.status, tiny_server.body = 503, b"unavailable"
    body = {"project_id": P, "object_type": "node_id", "data": 1}
    async with start_configs(registry_url=tiny_server.url, common=FAST) as client:
        response = await client.post("/configs/", json=body, headers=writer)
    assert_upstream(response, 502, "UPSTREAM_ERROR")
    assert [r.split()[0] for r in tiny_server.requests] == ["GET"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html>Server Error</html>", "text/html"),
        (b'{"count": 0, "results": []}', "application/json"),
        (b'["not an object"]', "application/json"),
    ],
)
async def test_an_off_contract_list_answer_is_502(
    start_configs, tiny_server, reader, body, content_type
):
    tiny_server.body, tiny_server.content_type = body, content_type
    async with start_configs(registry_url=tiny_server.url, common=FAST) as client:
        response = await client.get("/configs/", headers=reader)
    assert_upstream(response, 502, "UPSTREAM_ERROR")


async def test_a_registry_4xx_on_a_read_is_502(start_configs, tiny_server, reader):
    tiny_server.status, tiny_server.body = 404, b'{"detail": "Not found."}'
    async with start_configs(registry_url=tiny_server.url, common=FAST) as client:
        response = await client.get("/configs/", headers=reader)
    assert_upstream(response, 502, "UPSTREAM_ERROR")


async def test_readyz_fails_naming_the_registry_when_it_is_down(start_configs, closed_port_url):
    async with start_configs(registry_url=closed_port_url, common=FAST) as client:
        ready = await client.get("/readyz")
        healthy = await client.get("/healthz")
    assert ready.status_code == 503, ready.text
    assert ready.json()["checks"]["registry"].startswith("fail")
    assert healthy.status_code == 200


async def test_readyz_is_ok_with_the_registry_up(configs_client, registry_calls):
    response = await configs_client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "checks": {"registry": "ok"}}
    assert [c.url.path for c in registry_calls] == ["/healthz"]
