"""raida-mock: the token endpoint and bearer checks (Raida §2.1)."""

from __future__ import annotations

import anyio
import httpx
import pytest
from asgi_lifespan import LifespanManager

from raida_mock.app import Settings, create_app
from step_platform.core.settings import ConfigError

from .conftest import CREDENTIALS, NODE

pytestmark = pytest.mark.anyio

CONTEST = "e2ccc043-2558-4bd1-872e-4df6cf7b5256"


@pytest.mark.parametrize("path", ["/api/users/token/", "/api/users/token"])
async def test_the_seed_credentials_get_a_bearer_token(raida_client, path):
    response = await raida_client.post(path, data=CREDENTIALS)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert isinstance(body["access_token"], str) and len(body["access_token"]) > 20


async def test_the_token_works_on_the_api(raida_client):
    token = (await raida_client.post("/api/users/token/", data=CREDENTIALS)).json()["access_token"]
    response = await raida_client.get(
        f"/api/tasks/{NODE}/{CONTEST}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200


async def test_a_wrong_password_is_401_with_a_raida_style_body(raida_client):
    response = await raida_client.post(
        "/api/users/token/", data={"username": CREDENTIALS["username"], "password": "nope"}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert isinstance(response.json()["detail"], str)


async def test_missing_credentials_are_400(raida_client):
    response = await raida_client.post("/api/users/token/", data={"username": "x"})
    assert response.status_code == 400
    assert "username" in response.json()["detail"]


async def test_a_malformed_multipart_token_request_is_400(raida_client):
    response = await raida_client.post(
        "/api/users/token/",
        content=b'--zz\r\nContent-Disposition: form-data; name="username"\r\n\r\nx',
        headers={"Content-Type": "multipart/form-data; boundary=zz"},
    )
    assert response.status_code == 400


async def test_credentials_come_from_user_raida_and_passwd_raida():
    settings = Settings.from_env({"USER_RAIDA": "svc@example.org", "PASSWD_RAIDA": "s3cret"})
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://raida.test") as c:
            default = await c.post("/api/users/token/", data=CREDENTIALS)
            configured = await c.post(
                "/api/users/token/", data={"username": "svc@example.org", "password": "s3cret"}
            )
    assert default.status_code == 401
    assert configured.status_code == 200


async def test_a_missing_token_is_401(raida_client):
    response = await raida_client.get(f"/api/tasks/{NODE}/{CONTEST}")
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer None", "Bearer abc", "Token abc", "Bearer "])
async def test_an_invalid_token_is_401(raida_client, header):
    response = await raida_client.get(
        f"/api/tasks/{NODE}/{CONTEST}", headers={"Authorization": header}
    )
    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)


async def test_an_expired_token_is_401():
    app = create_app(Settings(token_ttl=0.05))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://raida.test") as c:
            body = (await c.post("/api/users/token/", data=CREDENTIALS)).json()
            await anyio.sleep(0.2)
            response = await c.get(
                f"/api/tasks/{NODE}/{CONTEST}",
                headers={"Authorization": f"Bearer {body['access_token']}"},
            )
    assert body["expires_in"] == 0.05
    assert response.status_code == 401
    assert response.json() == {"detail": "Token expired"}


async def test_a_new_token_does_not_revoke_earlier_ones(raida_client):
    first = (await raida_client.post("/api/users/token/", data=CREDENTIALS)).json()
    await raida_client.post("/api/users/token/", data=CREDENTIALS)
    response = await raida_client.get(
        f"/api/tasks/{NODE}/{CONTEST}", headers={"Authorization": f"Bearer {first['access_token']}"}
    )
    assert response.status_code == 200


async def test_revoked_tokens_are_401(raida_client, auth):
    revoked = await raida_client.delete("/__admin/tokens")
    response = await raida_client.get(f"/api/tasks/{NODE}/{CONTEST}", headers=auth)
    assert revoked.json()["revoked"] >= 1
    assert response.status_code == 401


async def test_an_admin_token_works_and_is_not_journaled(raida_client, raida_admin):
    await raida_admin.clear_journal()
    response = await raida_client.get(
        f"/api/tasks/{NODE}/{CONTEST}", headers=await raida_admin.headers()
    )
    assert response.status_code == 200
    assert [e["path"] for e in await raida_admin.journal()] == [f"/api/tasks/{NODE}/{CONTEST}"]


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_bad_token_ttl_stops_start_up(value):
    with pytest.raises(ConfigError, match="RAIDA_TOKEN_TTL"):
        Settings.from_env({"RAIDA_TOKEN_TTL": value})


async def test_an_empty_username_is_400(raida_client):
    response = await raida_client.post("/api/users/token/", data={"username": "", "password": ""})
    assert response.status_code == 400


async def test_the_token_body_is_documented_required_with_a_username(raida_client):
    doc = (await raida_client.get("/docs/schema?format=json")).json()
    body = doc["paths"]["/api/users/token/"]["post"]["requestBody"]
    schema = body["content"]["application/x-www-form-urlencoded"]["schema"]
    assert body["required"] is True
    assert schema["required"] == ["username", "password"]
    assert schema["properties"]["username"]["minLength"] == 1
