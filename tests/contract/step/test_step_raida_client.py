"""The Raida client against raida-mock: token cache, single flight, 401 retry, error mapping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from asgi_lifespan import LifespanManager

from raida_mock.app import Settings as RaidaSettings
from raida_mock.app import create_app as create_raida
from step_platform.contests.raida_client import RaidaClient
from step_platform.contests.routes import StepApi
from step_platform.core.auth import TokenVerifier
from step_platform.core.errors import ApiError
from step_platform.core.upstream import create_client
from tests.keys import ec_key
from tests.keys import public_pem as public_pem_of

from .conftest import A_CAT, C_ACTIVE, NODE, T_COMPLETED, T_NEW, raida_calls, world_fixture

pytestmark = pytest.mark.anyio

TOKEN = ("POST", "/api/users/token/")
READ = ("GET", f"/api/tasks/{NODE}/{C_ACTIVE}")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def raida_for(app: Any, clock: Clock, *, deadline: float = 5.0, password: str = "raida"):
    http = create_client("http://raida.test", transport=httpx.ASGITransport(app=app))
    client = RaidaClient(
        http, username="raida@raida.com", password=password, deadline=deadline, clock=clock
    )
    return http, client


@pytest.fixture
async def raida(raida_app: Any, raida_admin: Any, clock: Clock) -> AsyncIterator[RaidaClient]:
    await raida_admin.clear_journal()
    http, client = raida_for(raida_app, clock)
    async with http:
        yield client


async def test_the_token_is_fetched_once_and_reused(raida: RaidaClient, raida_admin: Any) -> None:
    for _ in range(3):
        assert await raida.get_task(NODE, C_ACTIVE) is not None
    assert await raida_calls(raida_admin, tokens=True) == [TOKEN, READ, READ, READ]


async def test_the_token_is_refreshed_when_it_expires(
    raida: RaidaClient, raida_admin: Any, clock: Clock
) -> None:
    await raida.get_task(NODE, C_ACTIVE)
    clock.now += 3600 - 31  # raida-mock's expires_in is 3600; 30 s of skew
    await raida.get_task(NODE, C_ACTIVE)
    clock.now += 2
    await raida.get_task(NODE, C_ACTIVE)
    assert await raida_calls(raida_admin, tokens=True) == [TOKEN, READ, READ, TOKEN, READ]


async def test_concurrent_requests_share_one_token_request(
    raida: RaidaClient, raida_admin: Any
) -> None:
    await raida_admin.faults(route="/api/users/token", latency_ms=20)
    await asyncio.gather(*(raida.get_task(NODE, C_ACTIVE) for _ in range(10)))
    calls = await raida_calls(raida_admin, tokens=True)
    assert calls.count(TOKEN) == 1
    assert calls.count(READ) == 10
    assert raida.token_fetches == 1


async def test_a_revoked_token_is_refreshed_once_and_the_call_retried(
    raida: RaidaClient, raida_admin: Any
) -> None:
    await raida.get_task(NODE, C_ACTIVE)
    await raida_admin.revoke_tokens()
    assert await raida.get_task(NODE, C_ACTIVE) is not None
    assert await raida_calls(raida_admin, tokens=True) == [TOKEN, READ, READ, TOKEN, READ]


async def test_concurrent_401s_refresh_the_token_once(raida: RaidaClient, raida_admin: Any) -> None:
    await raida.get_task(NODE, C_ACTIVE)
    await raida_admin.revoke_tokens()
    await raida_admin.clear_journal()
    await raida_admin.faults(route="/api/users/token", latency_ms=20)
    results = await asyncio.gather(*(raida.get_task(NODE, C_ACTIVE) for _ in range(5)))
    assert all(r is not None for r in results)
    calls = await raida_calls(raida_admin, tokens=True)
    assert calls.count(TOKEN) == 1
    # The first read is refused and drops the token; the others wait for the new one.
    assert calls.count(READ) == 6


async def test_a_second_401_is_502(raida: RaidaClient, raida_admin: Any) -> None:
    await raida_admin.faults(route=f"/api/tasks/{NODE}", fail_next=2, error_status=401)
    with pytest.raises(ApiError) as caught:
        await raida.get_task(NODE, C_ACTIVE)
    assert (caught.value.status, caught.value.code) == (502, "UPSTREAM_ERROR")
    assert caught.value.extra["upstream"] == "raida"
    assert await raida_calls(raida_admin, tokens=True) == [TOKEN, READ, TOKEN, READ]


async def test_wrong_service_credentials_are_502_and_nothing_is_cached(
    raida_app: Any, raida_admin: Any, clock: Clock
) -> None:
    await raida_admin.clear_journal()
    http, raida = raida_for(raida_app, clock, password="wrong")
    async with http:
        for _ in range(2):
            with pytest.raises(ApiError) as caught:
                await raida.get_task(NODE, C_ACTIVE)
            assert (caught.value.status, caught.value.code) == (502, "UPSTREAM_ERROR")
    assert await raida_calls(raida_admin, tokens=True) == [TOKEN, TOKEN]


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"fail_next": 1, "error_status": 500}, 502, "UPSTREAM_ERROR"),
        ({"fail_next": 1, "error_status": 503}, 502, "UPSTREAM_ERROR"),
        ({"fail_next": 1, "error_status": 400}, 502, "UPSTREAM_ERROR"),
        ({"drop_next": 1}, 503, "UPSTREAM_UNAVAILABLE"),
        ({"latency_ms": 500}, 504, "UPSTREAM_TIMEOUT"),
    ],
)
async def test_raida_failures_map_to_upstream_errors(
    raida_app: Any,
    raida_admin: Any,
    clock: Clock,
    fault: dict[str, Any],
    status: int,
    code: str,
) -> None:
    http, raida = raida_for(raida_app, clock, deadline=0.2)
    async with http:
        await raida.token()
        await raida_admin.faults(route="/api/tasks", **fault)
        with pytest.raises(ApiError) as caught:
            await raida.search(NODE, "process.id = 'x'")
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.extra == {"upstream": "raida"}


async def test_an_unknown_task_is_none(raida: RaidaClient) -> None:
    assert await raida.get_task(NODE, "00000000-0000-4000-8000-000000000000") is None


async def test_the_null_data_style_is_none_too(clock: Clock) -> None:
    app = create_raida(RaidaSettings(missing_task="null"))
    async with LifespanManager(app):
        http, raida = raida_for(app, clock)
        async with http:
            assert await raida.get_task(NODE, "00000000-0000-4000-8000-000000000000") is None


async def test_the_token_has_a_total_deadline(
    raida_app: Any, raida_admin: Any, clock: Clock
) -> None:
    await raida_admin.faults(route="/api/users/token", latency_ms=500)
    http, raida = raida_for(raida_app, clock, deadline=0.1)
    async with http:
        with pytest.raises(ApiError) as caught:
            await raida.token()
    assert caught.value.code == "UPSTREAM_TIMEOUT"


async def test_a_real_connection_refusal_is_503(clock: Clock) -> None:
    http = create_client("http://127.0.0.1:9", connect_timeout=1, timeout=1)
    raida = RaidaClient(http, username="u", password="p", deadline=3, clock=clock)
    async with http:
        with pytest.raises(ApiError) as caught:
            await raida.token()
    assert (caught.value.status, caught.value.code) == (503, "UPSTREAM_UNAVAILABLE")


async def test_attachments_missing_from_task_objects_are_fetched(
    raida: RaidaClient, raida_admin: Any
) -> None:
    # For a Raida whose search results lack `attachments`: fetched per task, concurrently.
    await raida_admin.seed(world_fixture())
    await raida_admin.clear_journal()
    pem = _any_public_pem()
    api = StepApi(verifier=TokenVerifier(pem, "RS256"), tz=ZoneInfo("UTC"), max_upload_bytes=1)
    tasks: list[dict[str, Any]] = [
        {"id": T_COMPLETED},
        {"id": T_NEW},
        {"id": "00000000-0000-4000-8000-000000000000"},
        {"id": C_ACTIVE, "attachments": []},  # already there: not fetched
    ]
    await api._fill_attachments(raida, NODE, tasks)
    assert [a["id"] for a in tasks[0]["attachments"]] == [A_CAT]
    assert tasks[1]["attachments"] == []
    assert tasks[2]["attachments"] is None  # Raida: 404
    assert tasks[3]["attachments"] == []
    calls = await raida_calls(raida_admin)
    assert sorted(calls) == sorted(("GET", f"/api/attachments/{NODE}/{t['id']}") for t in tasks[:3])


def _any_public_pem() -> str:
    return public_pem_of(ec_key())
