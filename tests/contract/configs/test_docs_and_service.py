"""Docs, health, the root redirect and the generic HTTP behaviour of the configs service."""

from __future__ import annotations

import pytest
import yaml

pytestmark = pytest.mark.anyio


async def test_root_redirects_to_the_docs(configs_client):
    response = await configs_client.get("/")
    assert response.status_code == 301
    assert response.headers["location"] == "/docs/"


async def test_swagger_ui_is_served_from_local_assets(configs_client):
    page = await configs_client.get("/docs/")
    assert page.status_code == 200
    assert "swagger-ui" in page.text
    assert "cdn" not in page.text.lower()
    asset = await configs_client.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200


async def test_the_schema_is_yaml_by_default_and_json_on_request(configs_client):
    as_yaml = await configs_client.get("/docs/schema/")
    assert as_yaml.status_code == 200
    assert as_yaml.headers["content-type"].startswith("application/vnd.oai.openapi")
    document = yaml.safe_load(as_yaml.text)
    as_json = await configs_client.get("/docs/schema/?format=json")
    assert as_json.json() == document
    assert document["openapi"] == "3.0.3"
    assert document["info"] == {
        "title": "API Configs",
        "version": "0.0.1",
        "description": "API Configs",
    }
    assert document["paths"]["/configs/"]["get"]["operationId"] == "get_all_configs"
    assert set(document["paths"]["/configs/{config_type}/"]) == {"get", "put", "patch", "delete"}
    for route in ("/configs/", "/configs/{config_type}/"):
        for operation in document["paths"][route].values():
            names = {p["name"] for p in operation["parameters"]}
            assert {"Project-ID", "Account-ID"} <= names
            assert operation["tags"] == ["Configs"]


async def test_the_consumer_routes_and_the_write_check_are_documented(configs_client):
    document = (await configs_client.get("/docs/schema/?format=json")).json()
    paths = document["paths"]
    assert set(paths["/configs/_consumers/"]) == {"get"}
    assert set(paths["/configs/_consumers/{name}/"]) == {"get", "put", "delete"}
    assert set(paths["/configs/_validate/"]) == {"post"}
    assert "422" in paths["/configs/_validate/"]["post"]["responses"]
    for method, operation in paths["/configs/{config_type}/"].items():
        if method != "get":
            assert "422" in operation["responses"]
            assert "X-Consumer-Override" in {p["name"] for p in operation["parameters"]}
    assert "BreaksConsumer" in document["components"]["schemas"]


async def test_healthz(configs_client, registry_calls):
    response = await configs_client.get("/healthz")
    assert response.json() == {"status": "ok"}
    assert registry_calls == []


async def test_an_unknown_route_is_a_json_404(configs_client):
    response = await configs_client.get("/nope/")
    assert response.status_code == 404
    assert response.json()["detail"]["code"] == "NOT_FOUND"
