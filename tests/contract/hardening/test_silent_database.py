"""A database that accepts connections and never answers (a hung server, a black-holed
network): the registry's readiness says so in time and requests get 503, never a hang."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from step_platform.core.app import CommonSettings
from step_platform.registry.app import Settings, create_app
from step_platform.registry.db import Deadlines

pytestmark = pytest.mark.anyio


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A listening socket nobody accepts from: TCP connects, Postgres never speaks."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


@pytest.fixture
async def silent_registry(silent_port: int) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=f"postgresql://postgres@127.0.0.1:{silent_port}/configs",
        common=CommonSettings(allowed_hosts=("*",)),
        deadlines=Deadlines(connect=0.5, statement=1.0),
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as c:
            yield c


async def test_readiness_fails_in_time_when_the_database_does_not_answer(
    silent_registry: httpx.AsyncClient,
) -> None:
    started = time.monotonic()
    response = await silent_registry.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("fail")
    assert time.monotonic() - started < 3.5


async def test_a_request_is_503_database_unavailable_not_a_hang(
    silent_registry: httpx.AsyncClient,
) -> None:
    started = time.monotonic()
    response = await silent_registry.get("/api/configs/")
    assert response.status_code == 503
    assert response.json()["detail"] == {
        "code": "DATABASE_UNAVAILABLE",
        "message": "The database is unavailable.",
        "upstream": "database",
    }
    assert time.monotonic() - started < 3.0


async def test_the_process_still_says_it_is_alive(silent_registry: httpx.AsyncClient) -> None:
    assert (await silent_registry.get("/healthz")).status_code == 200
