"""The upstream client's error tree, against a real HTTP server on a loopback socket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from step_platform.core import context
from step_platform.core.responses import JSON
from step_platform.core.upstream import (
    KEEPALIVE_EXPIRY,
    UpstreamBadResponse,
    UpstreamTimeout,
    UpstreamUnavailable,
    call,
    create_client,
    json_of,
)
from step_platform.devstack.ports import free_ports

pytestmark = pytest.mark.anyio


async def echo(request: Request) -> Response:
    return JSON({"request_id": request.headers.get("x-request-id")})


async def slow(request: Request) -> Response:
    await asyncio.sleep(1)
    return JSON({})


async def broken(request: Request) -> Response:
    return JSON({"detail": "boom"}, status_code=500)


async def not_json(request: Request) -> Response:
    return PlainTextResponse("<html>oops</html>")


async def missing(request: Request) -> Response:
    return JSON({"detail": "nope"}, status_code=404)


@pytest.fixture
async def server_url() -> AsyncIterator[str]:
    app = Starlette(
        routes=[
            Route("/echo", echo),
            Route("/slow", slow),
            Route("/broken", broken),
            Route("/not-json", not_json),
            Route("/missing", missing),
        ]
    )
    (port,) = free_ports(1)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_request_id_is_forwarded(server_url) -> None:
    token = context.request_id.set("rid-42")
    try:
        async with create_client(server_url) as client:
            response = await call(client, "registry", "GET", "/echo")
    finally:
        context.request_id.reset(token)
    assert json_of(response, "registry") == {"request_id": "rid-42"}


def test_idle_connections_are_dropped_before_uvicorn_would_close_them() -> None:
    # Equal timeouts let a request go out on a connection the server is closing (a 503).
    server_default = uvicorn.Config(Starlette()).timeout_keep_alive
    assert server_default - KEEPALIVE_EXPIRY >= 1


async def test_refused_connection_is_503_unavailable() -> None:
    async with create_client(f"http://127.0.0.1:{free_ports(1)[0]}") as client:
        with pytest.raises(UpstreamUnavailable) as info:
            await call(client, "registry", "GET", "/")
    assert info.value.status == 503
    assert info.value.payload()["detail"]["upstream"] == "registry"
    assert info.value.code == "UPSTREAM_UNAVAILABLE"


async def test_slow_upstream_is_504_timeout(server_url) -> None:
    async with create_client(server_url, timeout=0.2) as client:
        with pytest.raises(UpstreamTimeout) as info:
            await call(client, "raida", "GET", "/slow")
    assert info.value.status == 504
    assert info.value.code == "UPSTREAM_TIMEOUT"


async def test_5xx_is_502_upstream_error(server_url) -> None:
    async with create_client(server_url) as client:
        with pytest.raises(UpstreamBadResponse) as info:
            await call(client, "configs", "GET", "/broken")
    assert info.value.status == 502
    assert info.value.code == "UPSTREAM_ERROR"


async def test_4xx_is_returned_to_the_caller(server_url) -> None:
    async with create_client(server_url) as client:
        response = await call(client, "configs", "GET", "/missing")
    assert response.status_code == 404


async def test_non_json_body_is_502(server_url) -> None:
    async with create_client(server_url) as client:
        response = await call(client, "raida", "GET", "/not-json")
        with pytest.raises(UpstreamBadResponse):
            json_of(response, "raida")


async def test_client_does_not_follow_redirects_or_read_proxy_env() -> None:
    client = create_client("http://127.0.0.1:1")
    try:
        assert client.follow_redirects is False
        assert client.timeout == httpx.Timeout(10.0, connect=2.0)
    finally:
        await client.aclose()
