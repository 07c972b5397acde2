"""Helpers of the configs contract tests: tokens, request headers, other service set-ups,
and real failing upstreams (a closed port, a tiny HTTP server that stalls or errors)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.types import ASGIApp, Receive, Scope, Send

from step_platform.configs.app import create_app
from step_platform.configs.registry_client import CHANGES_PATH
from step_platform.seed import DEMO_PROJECT_ID
from tests.fixtures.configs import (
    CONFIGS_BASE_URL,
    REGISTRY_BASE_URL,
    RecordingTransport,
    configs_settings,
)

P = DEMO_PROJECT_ID
A = "0b6c1c4e-3f57-4a53-8f0e-2b1d8f8f6a01"
B = "9d7c3a52-1a7e-4c3a-9a55-5a8c4f1e2b03"
WRITER = "2098611d-32e2-4d8f-acea-76570af65843"
WRITE_ROLE = "configs:write"

Bearer = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def bearer(user_center: Any) -> Bearer:
    """`await bearer(roles=(...), user_id=...)` -> an `Authorization` header from user-center."""

    async def make(roles: tuple[str, ...] = (), user_id: str | None = None) -> dict[str, str]:
        token = await user_center.token(user_id=user_id, roles=roles)
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
async def reader(bearer: Bearer) -> dict[str, str]:
    """Headers of a plain reader of the demo project."""
    return {**await bearer(), "Project-ID": P}


@pytest.fixture
async def writer(bearer: Bearer) -> dict[str, str]:
    """Headers of a user holding the write role, at the demo project's level."""
    return {**await bearer(roles=(WRITE_ROLE,), user_id=WRITER), "Project-ID": P}


StartConfigs = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


class FeedCut(httpx.AsyncBaseTransport):
    """Passes requests on, but can cut the change feed as a broken network would: while cut,
    a feed request fails at once and the one in flight fails too; other requests pass.
    `start_configs(..., feed_cut=FeedCut())` puts it in front of the registry. With
    `answers_left = N`, N more feed requests pass, then the next ones wait for `released`."""

    def __init__(self) -> None:
        self.inner: httpx.AsyncBaseTransport | None = None  # set by `around`
        self.cut = asyncio.Event()
        self.answers_left: int | None = None
        self.released = asyncio.Event()

    def around(self, inner: httpx.AsyncBaseTransport) -> FeedCut:
        self.inner = inner
        return self

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert self.inner is not None, "FeedCut.around was not called"
        if request.url.path != CHANGES_PATH:
            return await self.inner.handle_async_request(request)
        if self.cut.is_set():
            raise httpx.ConnectError("the feed is cut", request=request)
        if self.answers_left is not None:
            if self.answers_left == 0:
                await self.released.wait()
            else:
                self.answers_left -= 1
        answer = asyncio.ensure_future(self.inner.handle_async_request(request))
        cut = asyncio.ensure_future(self.cut.wait())
        await asyncio.wait({answer, cut}, return_when=asyncio.FIRST_COMPLETED)
        if answer.done():
            cut.cancel()
            return answer.result()
        answer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await answer
        raise httpx.ReadError("the feed was cut", request=request)

    async def aclose(self) -> None:
        if self.inner is not None:
            await self.inner.aclose()


@pytest.fixture
def configs_states() -> list[dict[str, Any]]:
    """The lifespan state (`configs.app.State`) of each service `start_configs` started."""
    return []


def keeping_state(app: ASGIApp, states: list[dict[str, Any]]) -> ASGIApp:
    """`app`, keeping the state mapping its lifespan fills (the same one requests see)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            states.append(scope["state"])
        await app(scope, receive, send)

    return wrapped


@pytest.fixture
def start_configs(
    user_center: Any, registry_calls: list[httpx.Request], configs_states: list[dict[str, Any]]
) -> Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]:
    """`async with start_configs(registry=app_or_None, **settings) as client:` another set-up.

    `registry` is an ASGI app reached in process (recorded in `registry_calls`), or None to
    reach `registry_url` over real sockets; `feed_cut` (a `FeedCut`) goes in front of it. The
    lifespan state of each service started lands in `configs_states`.
    """

    @asynccontextmanager
    async def start(
        registry: ASGIApp | None = None,
        feed_cut: FeedCut | None = None,
        **changes: Any,
    ) -> AsyncIterator[httpx.AsyncClient]:
        transports: dict[str, httpx.AsyncBaseTransport] = {}
        if registry is not None:
            transports["registry"] = RecordingTransport(
                httpx.ASGITransport(app=registry), registry_calls
            )
            if feed_cut is not None:
                transports["registry"] = feed_cut.around(transports["registry"])
        changes.setdefault("registry_url", REGISTRY_BASE_URL)
        settings = configs_settings(user_center.public_key_pem, **changes)
        app = keeping_state(create_app(settings, transports=transports), configs_states)
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url=CONFIGS_BASE_URL) as c:
                yield c

    return start


# --- real failing upstreams -------------------------------------------------------------


@pytest.fixture
def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass
class TinyServer:
    """A real HTTP server on 127.0.0.1 answering every request the same configured way."""

    status: int = 200
    body: bytes = b"[]"
    content_type: str = "application/json"
    delay: float = 0.0
    requests: list[str] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def tiny_server() -> Iterator[TinyServer]:
    state = TinyServer()
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            state.requests.append(f"{self.command} {self.path}")
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            if state.delay:
                release.wait(state.delay)
            try:
                self.send_response(state.status)
                self.send_header("Content-Type", state.content_type)
                self.send_header("Content-Length", str(len(state.body)))
                self.end_headers()
                self.wfile.write(state.body)
            except OSError:  # the client gave up waiting: fine
                pass

        do_GET = do_POST = do_PUT = do_PATCH = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
