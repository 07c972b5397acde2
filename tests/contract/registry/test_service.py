"""Service routes and HTTP behaviour: info, docs, health, errors, slashes, media types."""

from __future__ import annotations

import anyio
import httpx
import pytest
import yaml
from asgi_lifespan import LifespanManager

from step_platform.core.app import CommonSettings
from step_platform.registry.app import Settings, create_app

from .helpers import MISSING, create_config, detail

pytestmark = pytest.mark.anyio


async def test_info_is_the_originals_version_document(registry_client):
    response = await registry_client.get("/info/")
    assert response.status_code == 200
    assert response.json() == {"version": "0.6.0", "add-ons": []}
    assert response.text.startswith('{\n    "version"')


async def test_schema_is_openapi_303_yaml_by_default(registry_client):
    response = await registry_client.get("/schema/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.oai.openapi")
    doc = yaml.safe_load(response.text)
    assert doc["openapi"] == "3.0.3"
    assert doc["info"]["title"] == "Registry API"


async def test_schema_as_json_documents_every_route_and_operation(registry_client):
    doc = (await registry_client.get("/schema/?format=json")).json()
    operations = {
        op["operationId"]
        for path in doc["paths"].values()
        for op in path.values()
        if "operationId" in op
    }
    for kind, one in (("configs", "config"), ("links", "link")):
        for action in ("list", "create", "update", "partial_update", "destroy"):
            assert f"api_{kind}_{action}" in operations
        for action in ("create", "retrieve", "update", "partial_update", "destroy"):
            assert f"api_{one}_{action}" in operations
    bulk = doc["paths"]["/api/configs/"]["post"]["requestBody"]["content"]["application/json"]
    assert bulk["schema"]["type"] == "array"
    params = {p["name"] for p in doc["paths"]["/api/configs/"]["get"]["parameters"]}
    assert {"data", "search", "field", "ordering", "limit", "offset", "object_type"} <= params
    link_params = {p["name"] for p in doc["paths"]["/api/links/"]["get"]["parameters"]}
    assert {"weight__gt", "direction__lt", "object1"} <= link_params


async def test_swagger_ui_is_served_from_local_assets(registry_client):
    page = await registry_client.get("/swagger-ui/")
    assert page.status_code == 200
    assert "swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    asset = await registry_client.get("/swagger-ui/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000
    init = await registry_client.get("/swagger-ui/assets/init.js")
    assert init.status_code == 200


async def test_swagger_assets_are_cacheable_and_the_ui_page_is_not(registry_client):
    asset = await registry_client.get("/swagger-ui/assets/swagger-ui.css")
    init = await registry_client.get("/swagger-ui/assets/init.js")
    page = await registry_client.get("/swagger-ui/")
    assert asset.headers["cache-control"] == "public, max-age=86400"
    assert "etag" in asset.headers
    assert init.headers["cache-control"] == "public, max-age=86400"
    assert "cache-control" not in page.headers


async def test_root_redirects_to_the_docs(registry_client):
    response = await registry_client.get("/")
    assert response.status_code == 301
    assert response.headers["location"] == "/swagger-ui/"


async def test_healthz_and_readyz(registry_client):
    assert (await registry_client.get("/healthz")).json() == {"status": "ok"}
    ready = await registry_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "schema": "ok"}}


async def test_readyz_fails_on_an_unmigrated_database(postgres_server):
    name = await anyio.to_thread.run_sync(postgres_server.create_database)
    try:
        app = create_app(Settings(database_url=postgres_server.url(name)))
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://r") as client:
                response = await client.get("/readyz")
                assert (await client.get("/healthz")).status_code == 200
    finally:
        await anyio.to_thread.run_sync(postgres_server.drop_database, name)
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["schema"].startswith("fail")
    assert body["detail"]["code"] == "NOT_READY"


async def test_an_unreachable_database_is_503_not_500():
    url = "postgresql://postgres@127.0.0.1:1/none"
    app = create_app(Settings(database_url=url))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://r") as client:
            response = await client.get("/readyz")
            listed = await client.get("/api/configs/")
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("fail")
    assert listed.status_code == 503
    assert detail(listed)["code"] == "DATABASE_UNAVAILABLE"


async def test_unknown_routes_are_json_404(registry_client):
    for path in ("/api/", "/api/configs/x/", "/nothing"):
        response = await registry_client.get(path)
        assert response.status_code == 404
        assert detail(response)["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/api/config/", {"POST", "OPTIONS"}),
        ("DELETE", "/api/link/", {"POST", "OPTIONS"}),
        ("POST", f"/api/config/{MISSING}/", {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"}),
    ],
)
async def test_wrong_methods_are_405_with_allow(registry_client, method, path, allow):
    response = await registry_client.request(method, path)
    assert response.status_code == 405
    assert detail(response)["code"] == "METHOD_NOT_ALLOWED"
    assert {m.strip() for m in response.headers["allow"].split(",")} == allow


async def test_every_route_answers_without_its_final_slash_and_with_a_doubled_one(
    registry_client,
):
    base = "http://registry.test"
    for path in ("/api/config", "//api/config/", "/api/config//"):
        response = await registry_client.post(base + path, json={"name": path})
        assert response.status_code == 201
    created = response.json()
    for path in (f"/api/config/{created['id']}", f"//api/config/{created['id']}/"):
        assert (await registry_client.get(base + path)).json() == created
    assert len((await registry_client.get("/api/configs")).json()) == 3


@pytest.mark.parametrize(
    ("headers", "content", "shown"),
    [
        ({"content-type": "text/plain"}, b'{"name": "x"}', "text/plain"),
        (
            {"content-type": "application/x-www-form-urlencoded"},
            b"name=x",
            "application/x-www-form-urlencoded",
        ),
        ({}, b'{"name": "x"}', "text/plain"),
    ],
)
async def test_bodies_must_be_json(registry_client, headers, content, shown):
    response = await registry_client.post("/api/config/", content=content, headers=headers)
    assert response.status_code == 415
    d = detail(response)
    assert d["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert d["message"] == f'Unsupported media type "{shown}" in request.'


async def test_a_json_content_type_with_charset_is_accepted(registry_client):
    response = await registry_client.post(
        "/api/config/",
        content=b'{"name": "x"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "content",
    [
        b'{"name": ',
        b"{'a': 1}",
        b'{"weight": NaN}',
        b'{"x": Infinity}',
        b'{"x": 1e999}',
        b"\xff\xfe\x00",
    ],
)
async def test_malformed_json_is_400_never_500(registry_client, content):
    response = await registry_client.post(
        "/api/configs/", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    d = detail(response)
    assert d["code"] == "INVALID_JSON"
    assert d["message"].startswith("JSON parse error - ")


async def test_options_describe_the_routes(registry_client):
    response = await registry_client.options("/api/configs/")
    body = response.json()
    assert response.status_code == 200
    assert body["name"] == "Configs Viewset List"
    assert set(body["actions"]) == {"POST", "PUT"}
    assert body["actions"]["POST"]["name"]["max_length"] == 254
    detail_options = await registry_client.options(f"/api/config/{MISSING}/")
    assert detail_options.status_code == 200


async def test_responses_carry_request_id_and_served_by(registry_client):
    response = await registry_client.get("/api/configs/", headers={"X-Request-ID": "req-1"})
    assert response.headers["x-request-id"] == "req-1"
    assert response.headers["x-served-by"].startswith("registry/")


@pytest.mark.parametrize("path", ["/api/configs/", "/nothing", "/healthz"])
async def test_responses_carry_the_originals_security_headers(registry_client, path):
    headers = (await registry_client.get(path)).headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"


async def test_a_disallowed_host_is_400(registry_database_url):
    settings = Settings(
        database_url=registry_database_url,
        common=CommonSettings(allowed_hosts=(".step.localhost", "127.0.0.1")),
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://evil.test") as client:
            response = await client.get("/api/configs/")
            allowed = await client.get("/info/", headers={"host": "registry.step.localhost:8002"})
            health = await client.get("/healthz")
    assert response.status_code == 400
    assert detail(response)["code"] == "DISALLOWED_HOST"
    assert allowed.status_code == 200
    assert health.status_code == 200


async def test_writes_to_links_and_configs_do_not_mix(registry_client):
    await create_config(registry_client, name="c")
    assert (await registry_client.get("/api/links/")).json() == []
