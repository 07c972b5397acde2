"""Docs, health, CORS, paths, methods and hosts of the step service."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import yaml
from asgi_lifespan import LifespanManager

from step_platform.contests.app import create_app
from step_platform.core.app import CommonSettings
from tests.fixtures.step import STEP_BASE_URL, step_settings, step_transports

from .conftest import World, detail

pytestmark = pytest.mark.anyio


async def test_root_redirects_to_the_docs(step_client: httpx.AsyncClient) -> None:
    response = await step_client.get("/")
    assert response.status_code == 301
    assert response.headers["location"] == "/docs/"


async def test_swagger_ui_is_served_from_local_assets(step_client: httpx.AsyncClient) -> None:
    page = await step_client.get("/docs/")
    assert page.status_code == 200
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    bundle = await step_client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200


async def test_the_openapi_document_lists_every_route(step_client: httpx.AsyncClient) -> None:
    response = await step_client.get("/docs/schema/")
    assert response.status_code == 200
    doc = yaml.safe_load(response.text)
    assert doc["openapi"] == "3.0.3"
    assert doc["info"]["title"] == "API Contests"
    assert doc["info"]["version"] == "0.0.1"
    assert sorted(doc["paths"]) == sorted(
        [
            "/contests/active/",
            "/contests/archive/",
            "/contests/{contest_id}/",
            "/contests/{contest_id}/task/",
            "/contests/user/my/tasks/",
            "/contests/user/my/history/",
            "/contests/user/{user_id}/history/",
            "/contests/user/my/task/",
            "/contests/user/my/task/{task_id}/",
            "/contests/user/my/task/send_solution",
            "/config-schema/",
        ]
    )
    for path, item in doc["paths"].items():
        if path == "/config-schema/":
            assert item["get"]["security"] == []
            continue
        for op in item.values():
            assert op["tags"] == ["Contests"]
            names = [p["name"] for p in op["parameters"]]
            assert names[:2] == ["Project-ID", "Account-ID"]
    json_doc = (await step_client.get("/docs/schema/", params={"format": "json"})).json()
    assert json_doc == doc


async def test_healthz(step_client: httpx.AsyncClient) -> None:
    response = await step_client.get("/healthz")
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_raida_and_the_configs_service(step_client: httpx.AsyncClient) -> None:
    response = await step_client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"raida": "ok", "configs": "ok"}}


async def test_readyz_is_503_naming_raida_when_it_fails(
    step_client: httpx.AsyncClient, raida_admin: Any
) -> None:
    await raida_admin.faults(route="/api/users/token", error_rate=1, error_status=500)
    response = await step_client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["raida"].startswith("fail")
    assert response.json()["checks"]["configs"] == "ok"


async def test_cors_preflight_allows_the_context_headers(step_client: httpx.AsyncClient) -> None:
    response = await step_client.options(
        "/contests/active/",
        headers={
            "Origin": "https://step.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization, Project-ID, Account-ID, X-Request-ID",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://step.example"
    allowed = response.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "project-id", "account-id", "x-request-id"):
        assert header in allowed


async def test_cors_refuses_other_origins(step_client: httpx.AsyncClient) -> None:
    response = await step_client.options(
        "/contests/active/",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in response.headers


async def test_error_answers_carry_cors_headers(step_client: httpx.AsyncClient) -> None:
    response = await step_client.get(
        "/contests/active/", headers={"Origin": "https://step.example"}
    )
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == "https://step.example"


@pytest.mark.parametrize(
    "path", ["/contests/active", "/contests/active/", "//contests/active/", "/contests//active"]
)
async def test_paths_answer_with_and_without_slashes_directly(
    step_client: httpx.AsyncClient, world: World, path: str
) -> None:
    # A full URL: httpx would read a relative "//contests/..." as a host name.
    response = await step_client.get(STEP_BASE_URL + path, headers=world.headers())
    assert response.status_code == 200


async def test_a_wrong_method_is_405(step_client: httpx.AsyncClient, world: World) -> None:
    response = await step_client.post("/contests/active/", headers=world.headers())
    assert response.status_code == 405
    assert detail(response) == {
        "code": "METHOD_NOT_ALLOWED",
        "message": 'Метод "POST" не разрешен.',
    }
    assert "GET" in response.headers["allow"]


async def test_an_unknown_route_is_json_404(step_client: httpx.AsyncClient) -> None:
    response = await step_client.get("/api/contests/archive/")
    assert response.status_code == 404
    assert detail(response)["code"] == "NOT_FOUND"


async def test_responses_carry_request_id_and_served_by(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get(
        "/contests/active/", headers={**world.headers(), "X-Request-ID": "abc-123"}
    )
    assert response.headers["x-request-id"] == "abc-123"
    assert response.headers["x-served-by"] == "step/test"


async def test_json_is_compact_utf8_with_cyrillic_unescaped(
    step_client: httpx.AsyncClient, world: World
) -> None:
    response = await step_client.get("/contests/active/", headers=world.headers())
    assert response.headers["content-type"] == "application/json"
    assert "Получение".encode() in response.content
    assert b'{"detail":{"code":"OK"' in response.content


async def test_an_unknown_host_is_400(
    configs_app: Any, raida_app: Any, user_center: Any, world: World
) -> None:
    app = create_app(
        step_settings(
            user_center.public_key_pem,
            common=CommonSettings(instance_id="test", allowed_hosts=(".step.localhost",)),
        ),
        transports=step_transports(configs_app, raida_app),
    )
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=STEP_BASE_URL) as client:
            refused = await client.get("/contests/active/", headers=world.headers())
            allowed = await client.get(
                "/contests/active/", headers={**world.headers(), "Host": "api.step.localhost"}
            )
    assert refused.status_code == 400
    assert detail(refused)["code"] == "DISALLOWED_HOST"
    assert allowed.status_code == 200


async def test_send_solution_has_no_delete(step_client: httpx.AsyncClient, world: World) -> None:
    response = await step_client.delete(
        "/contests/user/my/task/send_solution", headers=world.headers()
    )
    assert response.status_code == 405


@pytest.mark.parametrize("configs_url", ["http://configs.test", "http://configs.test/"])
async def test_the_configs_url_works_with_or_without_a_trailing_slash(
    configs_app: Any, raida_app: Any, user_center: Any, world: World, configs_url: str
) -> None:
    app = create_app(
        step_settings(user_center.public_key_pem, configs_url=configs_url),
        transports=step_transports(configs_app, raida_app),
    )
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=STEP_BASE_URL) as client:
            response = await client.get("/contests/active/", headers=world.headers())
    assert response.status_code == 200
