"""The shared middleware stack and error handling, through a small app built like a service."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from step_platform.core.app import CommonSettings, Cors, build_app
from step_platform.core.docs import CONTEXT_HEADERS, docs_routes, document
from step_platform.core.errors import ApiError
from step_platform.core.headers import context_headers
from step_platform.core.health import health_routes
from step_platform.core.responses import JSON
from step_platform.core.settings import ConfigError

pytestmark = pytest.mark.anyio

PROJECT = "e3eb60a2-3bb7-4983-8e2f-47490b979eb9"


async def echo(request: Request) -> Response:
    body = await request.body()
    return JSON({"path": request.url.path, "size": len(body), "text": "конфиг"})


async def boom(request: Request) -> Response:
    raise RuntimeError("secret internals")


async def refuse(request: Request) -> Response:
    raise ApiError(409, "ENTITY_EXISTS", "exists", fields={"object_code": ["taken"]})


async def ctx(request: Request) -> Response:
    c = context_headers(request)
    return JSON({"project_id": c.project_id, "account_id": c.account_id})


async def failing_check(request: Request) -> None:
    raise ConnectionError("db down")


async def passing_check(request: Request) -> None:
    return None


def make_app(**common: object):
    routes = [
        Route("/things", echo, methods=["GET", "POST"]),
        Route("/boom", boom),
        Route("/refuse", refuse),
        Route("/ctx", ctx),
        *health_routes({"db": failing_check, "cache": passing_check}),
        *docs_routes(
            lambda: document("Things API", "1.0", "Things", {"/things/": {}}),
            title="Things API",
            ui_path="/docs",
            schema_path="/docs/schema",
        ),
    ]
    settings = CommonSettings(
        allowed_hosts=("testserver", ".step.localhost"), instance_id="i1", max_body_bytes=100
    )
    settings = CommonSettings(**{**settings.__dict__, **common})
    return build_app(
        service="things",
        routes=routes,
        common=settings,
        cors=Cors(origins=("https://step.example",)),
    )


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.mark.parametrize("path", ["/things", "/things/", "//things/", "/things//"])
async def test_route_answers_every_slash_spelling_directly(client, path) -> None:
    response = await client.get(f"http://testserver{path}")
    assert response.status_code == 200
    assert response.json()["path"] == "/things"


async def test_json_is_compact_utf8(client) -> None:
    response = await client.get("/things/")
    assert '"text":"конфиг"' in response.content.decode()


async def test_unknown_route_is_json_not_found(client) -> None:
    response = await client.get("/nope/")
    assert response.status_code == 404
    assert response.json() == {"detail": {"code": "NOT_FOUND", "message": "Not found."}}


async def test_wrong_method_is_405_with_allow(client) -> None:
    response = await client.delete("/things/")
    assert response.status_code == 405
    assert response.json()["detail"]["code"] == "METHOD_NOT_ALLOWED"
    assert "GET" in response.headers["allow"]


async def test_unexpected_error_is_500_envelope_without_internals(client) -> None:
    response = await client.get("/boom/")
    assert response.status_code == 500
    assert response.json()["detail"]["code"] == "INTERNAL_ERROR"
    assert "secret" not in response.text


async def test_api_error_extra_keys_land_in_detail(client) -> None:
    response = await client.get("/refuse/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": {
            "code": "ENTITY_EXISTS",
            "message": "exists",
            "fields": {"object_code": ["taken"]},
        }
    }


async def test_request_id_is_echoed(client) -> None:
    response = await client.get("/things/", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


async def test_request_id_is_made_when_absent_or_unsafe(client) -> None:
    response = await client.get("/things/", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response.headers["x-request-id"] != "bad id\twith spaces"
    assert len(response.headers["x-request-id"]) == 32


async def test_served_by_names_service_and_instance(client) -> None:
    response = await client.get("/nope/")
    assert response.headers["x-served-by"] == "things/i1"


async def test_unknown_host_is_400_disallowed_host(client) -> None:
    response = await client.get("/things/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "DISALLOWED_HOST"


async def test_subdomain_of_dotted_host_is_allowed(client) -> None:
    response = await client.get("/things/", headers={"Host": "api.step.localhost:8000"})
    assert response.status_code == 200


async def test_health_is_reachable_with_any_host(client) -> None:
    response = await client.get("/healthz", headers={"Host": "10.0.0.7:8080"})
    assert response.json() == {"status": "ok"}


async def test_readyz_names_the_failing_check(client) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["cache"] == "ok"
    assert body["checks"]["db"].startswith("fail")
    assert "db" in body["detail"]["message"]


async def test_body_over_limit_by_length_is_413(client) -> None:
    response = await client.post("/things/", content=b"x" * 101)
    assert response.status_code == 413
    assert response.json()["detail"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_streamed_body_over_limit_is_413(client) -> None:
    async def chunks():
        for _ in range(5):
            yield b"x" * 30

    response = await client.post("/things/", content=chunks())
    assert response.status_code == 413


async def test_body_within_limit_passes(client) -> None:
    response = await client.post("/things/", content=b"x" * 100)
    assert response.json()["size"] == 100


async def test_root_redirects_permanently_to_docs(client) -> None:
    response = await client.get("/")
    assert response.status_code == 301
    assert response.headers["location"] == "/docs/"


async def test_swagger_ui_is_served_from_local_assets(client) -> None:
    page = await client.get("/docs/")
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "http" not in page.text.split("<body>")[1]
    asset = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert len(asset.content) > 100_000


async def test_schema_is_yaml_by_default_and_json_on_request(client) -> None:
    yaml_doc = await client.get("/docs/schema/")
    assert yaml_doc.headers["content-type"].startswith("application/vnd.oai.openapi")
    assert yaml_doc.text.startswith("openapi: 3.0.3")
    json_doc = await client.get("/docs/schema/?format=json")
    assert json_doc.json()["info"]["title"] == "Things API"


async def test_cors_preflight_allows_context_headers(client) -> None:
    response = await client.options(
        "/things/",
        headers={
            "Origin": "https://step.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Project-ID, Account-ID, Authorization",
        },
    )
    assert response.status_code == 200
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "project-id" in allowed and "account-id" in allowed


async def test_cors_headers_on_error_answers(client) -> None:
    response = await client.get("/nope/", headers={"Origin": "https://step.example"})
    assert response.headers["access-control-allow-origin"] == "https://step.example"


async def test_context_headers_are_canonicalised(client) -> None:
    response = await client.get("/ctx/", headers={"Project-ID": "{" + PROJECT.upper() + "}"})
    assert response.json() == {"project_id": PROJECT, "account_id": None}


@pytest.mark.parametrize("value", ["", " "])
async def test_an_empty_account_id_is_400_naming_the_header(client, value) -> None:
    response = await client.get("/ctx/", headers={"Project-ID": PROJECT, "Account-ID": value})
    assert response.status_code == 400
    assert list(response.json()["detail"]["fields"]) == ["Account-ID"]


async def test_missing_project_id_is_400_naming_the_header(client) -> None:
    response = await client.get("/ctx/")
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "INVALID_HEADER"
    assert list(response.json()["detail"]["fields"]) == ["Project-ID"]


async def test_malformed_account_id_is_400_naming_the_header(client) -> None:
    response = await client.get("/ctx/", headers={"Project-ID": PROJECT, "Account-ID": "nope"})
    assert response.status_code == 400
    assert list(response.json()["detail"]["fields"]) == ["Account-ID"]


PROJECT = "e3eb60a2-3bb7-4983-8e2f-47490b979eb9"


def settings_env(**extra: str) -> dict[str, str]:
    return {"ALLOWED_HOSTS": "*", **extra}


def test_docs_project_id_is_read_and_canonicalised() -> None:
    common = CommonSettings.from_env(
        settings_env(DOCS_PROJECT_ID=PROJECT.upper()), hosts_var="ALLOWED_HOSTS", sep=","
    )
    assert common.docs_examples() == {"Project-ID": PROJECT}


def test_no_docs_project_id_means_no_examples() -> None:
    common = CommonSettings.from_env(settings_env(), hosts_var="ALLOWED_HOSTS", sep=",")
    assert common.docs_examples() == {}


def test_a_docs_project_id_that_is_not_a_uuid_stops_start_up() -> None:
    with pytest.raises(ConfigError, match="DOCS_PROJECT_ID='p1' is not a UUID"):
        CommonSettings.from_env(
            settings_env(DOCS_PROJECT_ID="p1"), hosts_var="ALLOWED_HOSTS", sep=","
        )


async def test_swagger_ui_pre_fills_the_configured_project_id() -> None:
    def doc() -> dict:
        op = {"parameters": [*CONTEXT_HEADERS], "responses": {}}
        return document("t", "1", "d", {"/x": {"get": op}})

    app = build_app(
        service="t",
        common=CommonSettings(),
        routes=docs_routes(
            doc, title="t", ui_path="/docs", schema_path="/docs/schema",
            examples={"Project-ID": PROJECT},
        ),
    )  # fmt: skip
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        body = (await client.get("/docs/schema/?format=json")).json()
    params = {p["name"]: p for p in body["paths"]["/x"]["get"]["parameters"]}
    assert params["Project-ID"]["example"] == PROJECT
    assert "example" not in params["Account-ID"]
    assert "example" not in CONTEXT_HEADERS[0]  # the shared declaration is left alone
