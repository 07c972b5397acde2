"""Token and context headers, checked before any upstream call on every route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from step_platform.contests.app import create_app
from tests.fixtures.configs import RecordingTransport
from tests.fixtures.step import STEP_BASE_URL, step_settings

from .conftest import C_ACTIVE, T_NEW, USER, World, raida_calls

pytestmark = pytest.mark.anyio

ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/contests/active/", {}),
    ("GET", "/contests/archive/", {}),
    ("GET", f"/contests/{C_ACTIVE}/", {}),
    ("GET", f"/contests/{C_ACTIVE}/task/", {}),
    ("GET", "/contests/user/my/tasks/", {}),
    ("GET", "/contests/user/my/history/", {}),
    ("GET", f"/contests/user/{USER}/history/", {}),
    ("POST", "/contests/user/my/task/", {"json": {"contest_id": C_ACTIVE}}),
    ("DELETE", f"/contests/user/my/task/{T_NEW}/", {}),
    (
        "POST",
        "/contests/user/my/task/send_solution",
        {"data": {"task_id": T_NEW}, "files": {"solution_file": ("a.txt", b"a", "text/plain")}},
    ),
]
ROUTE_IDS = [f"{m} {p}" for m, p, _ in ROUTES]


@pytest.fixture
def configs_calls() -> list[httpx.Request]:
    return []


@pytest.fixture
async def counted_client(
    configs_app: Any, raida_app: Any, user_center: Any, configs_calls: list[httpx.Request]
) -> AsyncIterator[httpx.AsyncClient]:
    """A step service whose calls to the configs service are recorded."""
    app = create_app(
        step_settings(user_center.public_key_pem),
        transports={
            "configs": RecordingTransport(httpx.ASGITransport(app=configs_app), configs_calls),
            "raida": httpx.ASGITransport(app=raida_app),
        },
    )
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=STEP_BASE_URL) as client:
            yield client


async def assert_no_upstream_call(raida_admin: Any, configs_calls: list[httpx.Request]) -> None:
    assert configs_calls == []
    assert await raida_calls(raida_admin, tokens=True) == []


@pytest.mark.parametrize(("method", "path", "kwargs"), ROUTES, ids=ROUTE_IDS)
async def test_no_token_is_401_token_missing(
    counted_client: httpx.AsyncClient,
    world: World,
    raida_admin: Any,
    configs_calls: list[httpx.Request],
    method: str,
    path: str,
    kwargs: dict[str, Any],
) -> None:
    headers = world.headers()
    del headers["Authorization"]
    response = await counted_client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "detail": {"code": "TOKEN_MISSING", "message": "Учетные данные не были предоставлены."}
    }
    await assert_no_upstream_call(raida_admin, configs_calls)


@pytest.mark.parametrize(("method", "path", "kwargs"), ROUTES, ids=ROUTE_IDS)
async def test_a_bad_project_id_is_400_invalid_header(
    counted_client: httpx.AsyncClient,
    world: World,
    raida_admin: Any,
    configs_calls: list[httpx.Request],
    method: str,
    path: str,
    kwargs: dict[str, Any],
) -> None:
    headers = {**world.headers(), "Project-ID": "e3eb60a2"}
    response = await counted_client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "INVALID_HEADER"
    assert response.json()["detail"]["fields"] == {"Project-ID": ["Must be a valid UUID."]}
    await assert_no_upstream_call(raida_admin, configs_calls)


async def test_a_missing_project_id_is_400(counted_client: httpx.AsyncClient, world: World) -> None:
    headers = world.headers()
    del headers["Project-ID"]
    response = await counted_client.get("/contests/active/", headers=headers)
    assert response.status_code == 400
    assert list(response.json()["detail"]["fields"]) == ["Project-ID"]


async def test_a_bad_account_id_is_400(counted_client: httpx.AsyncClient, world: World) -> None:
    response = await counted_client.get(
        "/contests/active/", headers=world.headers(**{"Account-ID": "nope"})
    )
    assert response.status_code == 400
    assert response.json()["detail"]["fields"] == {"Account-ID": ["Must be a valid UUID."]}


async def test_an_empty_account_id_is_400_not_absent(
    counted_client: httpx.AsyncClient, world: World, configs_calls: list[httpx.Request]
) -> None:
    response = await counted_client.get(
        "/contests/active/", headers=world.headers(**{"Account-ID": ""})
    )
    assert response.status_code == 400
    assert response.json()["detail"]["fields"] == {"Account-ID": ["Must be a valid UUID."]}
    assert configs_calls == []


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        ("Bearer garbage", "TOKEN_INCORRECT"),
        ("Bearer ", "TOKEN_INCORRECT"),
        ("Token abc", "TOKEN_INCORRECT"),
    ],
)
async def test_an_invalid_token_is_401(
    counted_client: httpx.AsyncClient,
    world: World,
    raida_admin: Any,
    configs_calls: list[httpx.Request],
    authorization: str,
    code: str,
) -> None:
    headers = {**world.headers(), "Authorization": authorization}
    response = await counted_client.get("/contests/active/", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"]["code"] == code
    await assert_no_upstream_call(raida_admin, configs_calls)


async def test_an_expired_token_is_401_token_expired(
    counted_client: httpx.AsyncClient, world: World, user_center: Any
) -> None:
    token = await user_center.mint(ttl=-60)
    headers = {**world.headers(), "Authorization": f"Bearer {token}"}
    response = await counted_client.get("/contests/active/", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"] == {"code": "TOKEN_EXPIRED", "message": "Токен устарел"}


async def test_a_token_signed_by_another_key_is_token_incorrect(
    counted_client: httpx.AsyncClient, world: World, user_center: Any
) -> None:
    token = await user_center.mint(foreign_key=True)
    headers = {**world.headers(), "Authorization": f"Bearer {token}"}
    response = await counted_client.get("/contests/active/", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"]["code"] == "TOKEN_INCORRECT"


@pytest.mark.parametrize("sub", [{"device_id": "x"}, {"user_id": "not-a-uuid"}, None, 42])
async def test_a_token_without_a_uuid_user_id_is_token_incorrect(
    counted_client: httpx.AsyncClient, world: World, user_center: Any, sub: Any
) -> None:
    token = await user_center.mint(claims={"sub": sub})
    headers = {**world.headers(), "Authorization": f"Bearer {token}"}
    response = await counted_client.get("/contests/user/my/tasks/", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"]["code"] == "TOKEN_INCORRECT"


async def test_a_bare_token_without_the_bearer_word_is_accepted(
    counted_client: httpx.AsyncClient, world: World
) -> None:
    headers = {**world.headers(), "Authorization": world.tokens[USER]}
    response = await counted_client.get("/contests/active/", headers=headers)
    assert response.status_code == 200


async def test_the_callers_token_and_headers_go_to_the_configs_service(
    counted_client: httpx.AsyncClient, world: World, configs_calls: list[httpx.Request]
) -> None:
    account = "0a1b2c3d-0000-4000-8000-000000000000"
    await counted_client.get(
        "/contests/active/",
        headers=world.headers(**{"Account-ID": account, "X-Request-ID": "trace-42"}),
    )
    [call] = configs_calls
    assert call.url.path == "/configs/node_id,contest_process_id,contest_status_id/"
    assert call.headers["authorization"] == f"Bearer {world.tokens[USER]}"
    assert call.headers["project-id"] == world.project_id
    assert call.headers["account-id"] == account
    assert call.headers["x-request-id"] == "trace-42"
