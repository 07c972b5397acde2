"""The project's config set through HTTP: SERVICE_ERROR naming broken paths, configs failures,
and the per-user cache."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from hypothesis import given, settings
from hypothesis import strategies as st

from step_platform.configs.app import create_app as create_configs
from step_platform.contests import config_format as cf
from step_platform.contests.app import create_app
from step_platform.seed import seed_config_set
from step_platform.testing.strategies import BrokenConfigSet, broken_config_sets
from tests.fixtures.configs import RecordingTransport, configs_settings
from tests.fixtures.step import STEP_BASE_URL, step_settings

from .conftest import C_ACTIVE, C_DONE_REJECTED, OTHER, USER, World, detail

pytestmark = pytest.mark.anyio

UNKNOWN = "00000000-0000-4000-8000-000000000000"
MESSAGE = "Неправильный формат конфигураций для проекта"

# (method, path, request kwargs, the config paths the route reads)
ROUTES: list[tuple[str, str, dict[str, Any], cf.Need]] = [
    ("GET", "/contests/active/", {}, cf.ACTIVE),
    ("GET", "/contests/archive/", {}, cf.ARCHIVE),
    ("GET", f"/contests/{C_ACTIVE}/", {}, cf.DETAILS),
    ("GET", f"/contests/{C_ACTIVE}/task/", {}, cf.CONTEST_TASKS),
    ("GET", "/contests/user/my/tasks/", {}, cf.MY_TASKS),
    ("GET", "/contests/user/my/history/", {}, cf.HISTORY),
    ("GET", f"/contests/user/{OTHER}/history/", {}, cf.HISTORY),
    ("POST", "/contests/user/my/task/", {"json": {"contest_id": C_DONE_REJECTED}}, cf.JOIN),
    ("DELETE", f"/contests/user/my/task/{UNKNOWN}/", {}, cf.QUIT),
    (
        "POST",
        "/contests/user/my/task/send_solution",
        {"data": {"task_id": UNKNOWN}, "files": {"solution_file": ("a.txt", b"a", "text/plain")}},
        cf.SEND_SOLUTION,
    ),
]
ROUTE_IDS = [f"{m} {p}" for m, p, _, _ in ROUTES]


async def new_project(load_configs: Any, configs: dict[str, Any]) -> str:
    project_id = str(uuid.uuid4())
    await load_configs(project_id, configs)
    return project_id


@pytest.mark.parametrize(("method", "path", "kwargs", "need"), ROUTES, ids=ROUTE_IDS)
async def test_a_project_without_configs_is_404_naming_the_project_and_every_type(
    step_client: httpx.AsyncClient,
    world: World,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    need: cf.Need,
) -> None:
    project_id = str(uuid.uuid4())
    headers = {**world.headers(), "Project-ID": project_id}
    response = await step_client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == 404
    assert detail(response) == {
        "code": "PROJECT_NOT_FOUND",
        "message": f"Для проекта {project_id} не найдено ни одной конфигурации.",
        "project_id": project_id,
        "missing": list(need.types),
    }


async def test_a_missing_type_breaks_only_the_routes_that_read_it(
    step_client: httpx.AsyncClient, world: World, load_configs: Any
) -> None:
    configs = seed_config_set()
    del configs["contest_status_id"]
    headers = {**world.headers(), "Project-ID": await new_project(load_configs, configs)}
    active = await step_client.get("/contests/active/", headers=headers)
    assert active.status_code == 500
    assert detail(active)["errors"] == ["contest_status_id"]
    tasks = await step_client.get(f"/contests/{C_ACTIVE}/task/", headers=headers)
    assert tasks.status_code == 200


async def test_a_missing_inner_key_is_named_by_its_path(
    step_client: httpx.AsyncClient, world: World, load_configs: Any
) -> None:
    configs = seed_config_set()
    del configs["contest_status_id"]["no_winner"]
    configs["node_id"]["value"] = "None"
    headers = {**world.headers(), "Project-ID": await new_project(load_configs, configs)}
    response = await step_client.get("/contests/archive/", headers=headers)
    assert response.status_code == 500
    assert detail(response)["errors"] == ["node_id.value", "contest_status_id.no_winner"]
    active = await step_client.get("/contests/active/", headers=headers)
    assert detail(active)["errors"] == ["node_id.value"]


# Broken versions of the seed's set, so that what is left intact still points at raida-mock.
@settings(max_examples=50)
@given(case=broken_config_sets(base=st.builds(seed_config_set)))
async def test_every_broken_set_breaks_exactly_the_routes_that_read_it(
    step_client: httpx.AsyncClient,
    world: World,
    load_configs: Any,
    case: BrokenConfigSet,
) -> None:
    headers = {**world.headers(), "Project-ID": await new_project(load_configs, case.data)}
    for method, path, kwargs, need in ROUTES:
        response = await step_client.request(method, path, headers=headers, **kwargs)
        expected = case.paths_read_by(need.paths)
        if not any(t in case.data for t in need.types):  # nothing of the route's: unknown
            assert response.status_code == 404, (path, response.text)
            assert detail(response)["code"] == "PROJECT_NOT_FOUND"
        elif expected:
            assert response.status_code == 500, (path, response.text)
            body = detail(response)
            assert (body["code"], body["message"]) == ("SERVICE_ERROR", MESSAGE)
            assert body["errors"] == expected
        else:
            assert response.status_code < 500, (path, response.text)


# --- failures of the configs service ------------------------------------------------------


async def client_for(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=STEP_BASE_URL)


@pytest.fixture
async def black_hole() -> AsyncIterator[str]:
    """A socket that accepts connections and never answers."""
    waiting: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        waiting.append(writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for writer in waiting:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_an_unreachable_configs_service_is_503(
    world: World, raida_app: Any, user_center: Any
) -> None:
    app = create_app(
        step_settings(user_center.public_key_pem, configs_url="http://127.0.0.1:9/"),
        transports={"raida": httpx.ASGITransport(app=raida_app)},
    )
    async with LifespanManager(app) as manager, await client_for(manager.app) as client:
        response = await client.get("/contests/active/", headers=world.headers())
    assert response.status_code == 503
    assert detail(response)["code"] == "UPSTREAM_UNAVAILABLE"
    assert detail(response)["upstream"] == "configs"


async def test_a_configs_service_that_does_not_answer_is_504(
    world: World, raida_app: Any, user_center: Any, black_hole: str
) -> None:
    from step_platform.core.app import CommonSettings

    app = create_app(
        step_settings(
            user_center.public_key_pem,
            configs_url=black_hole,
            common=CommonSettings(instance_id="test", connect_timeout=0.2, timeout=0.2),
        ),
        transports={"raida": httpx.ASGITransport(app=raida_app)},
    )
    async with LifespanManager(app) as manager, await client_for(manager.app) as client:
        response = await client.get("/contests/active/", headers=world.headers())
    assert response.status_code == 504
    assert detail(response)["code"] == "UPSTREAM_TIMEOUT"
    assert detail(response)["upstream"] == "configs"


async def test_a_failing_configs_service_is_502(
    world: World, raida_app: Any, user_center: Any
) -> None:
    # The configs service answers 5xx because its registry is unreachable.
    configs = create_configs(
        configs_settings(user_center.public_key_pem, registry_url="http://127.0.0.1:9")
    )
    async with LifespanManager(configs) as configs_manager:
        app = create_app(
            step_settings(user_center.public_key_pem),
            transports={
                "configs": httpx.ASGITransport(app=configs_manager.app),
                "raida": httpx.ASGITransport(app=raida_app),
            },
        )
        async with LifespanManager(app) as manager, await client_for(manager.app) as client:
            response = await client.get("/contests/active/", headers=world.headers())
    assert response.status_code == 502
    assert detail(response)["code"] == "UPSTREAM_ERROR"
    assert detail(response)["upstream"] == "configs"


async def test_a_401_of_the_configs_service_passes_through_with_its_code(
    world: World, registry_app: Any, raida_app: Any, user_center: Any
) -> None:
    # This configs service insists on an issuer the caller's token does not carry.
    configs = create_configs(
        configs_settings(user_center.public_key_pem, issuer="https://elsewhere.example"),
        transports={"registry": httpx.ASGITransport(app=registry_app)},
    )
    async with LifespanManager(configs) as configs_manager:
        app = create_app(
            step_settings(user_center.public_key_pem),
            transports={
                "configs": httpx.ASGITransport(app=configs_manager.app),
                "raida": httpx.ASGITransport(app=raida_app),
            },
        )
        async with LifespanManager(app) as manager, await client_for(manager.app) as client:
            response = await client.get("/contests/active/", headers=world.headers())
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert detail(response)["code"] == "TOKEN_INCORRECT"


# --- the cache ----------------------------------------------------------------------------


@pytest.fixture
def configs_calls() -> list[httpx.Request]:
    return []


@pytest.fixture
async def cached_client(
    configs_app: Any, raida_app: Any, user_center: Any, configs_calls: list[httpx.Request]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        step_settings(user_center.public_key_pem, config_cache_ttl=60.0),
        transports={
            "configs": RecordingTransport(httpx.ASGITransport(app=configs_app), configs_calls),
            "raida": httpx.ASGITransport(app=raida_app),
        },
    )
    async with LifespanManager(app) as manager, await client_for(manager.app) as client:
        yield client


async def test_a_users_config_set_is_cached_per_route_types(
    cached_client: httpx.AsyncClient, world: World, configs_calls: list[httpx.Request]
) -> None:
    for _ in range(3):
        assert (await cached_client.get("/contests/active/", headers=world.headers())).is_success
    await cached_client.get("/contests/archive/", headers=world.headers())  # same types
    await cached_client.get("/contests/user/my/tasks/", headers=world.headers())
    assert [c.url.path for c in configs_calls] == [
        "/configs/node_id,contest_process_id,contest_status_id/",
        "/configs/node_id,contest_process_id,contest_status_id,task_status_id,task_process_id/",
    ]


async def test_the_cache_is_never_shared_across_users_or_contexts(
    cached_client: httpx.AsyncClient, world: World, configs_calls: list[httpx.Request]
) -> None:
    await cached_client.get("/contests/active/", headers=world.headers(USER))
    await cached_client.get("/contests/active/", headers=world.headers(OTHER))
    await cached_client.get(
        "/contests/active/",
        headers=world.headers(USER, **{"Account-ID": "0a1b2c3d-0000-4000-8000-000000000000"}),
    )
    assert len(configs_calls) == 3
    assert [c.headers["authorization"] for c in configs_calls[:2]] == [
        f"Bearer {world.tokens[USER]}",
        f"Bearer {world.tokens[OTHER]}",
    ]
