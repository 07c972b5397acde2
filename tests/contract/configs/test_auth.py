"""Authentication and the write role (issue 4)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx
import pytest

from .conftest import WRITE_ROLE, P

pytestmark = pytest.mark.anyio

TYPES_URL = "/configs/node_id/"


def b64url(data: dict[str, Any] | bytes) -> bytes:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": {"user_id": str(uuid.uuid4())}, "iat": now, "exp": now + 600, **extra}


def hs256_token(secret: bytes) -> str:
    signing_input = b64url({"alg": "HS256", "typ": "JWT"}) + b"." + b64url(claims())
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + b64url(signature)).decode()


def assert_401(response: httpx.Response, code: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"]["code"] == code


async def test_a_request_without_authorization_is_401_token_missing(configs_client, registry_calls):
    response = await configs_client.get(TYPES_URL, headers={"Project-ID": P})
    assert_401(response, "TOKEN_MISSING")
    assert response.json()["detail"]["message"] == "Учетные данные не были предоставлены."
    assert registry_calls == []


async def test_an_empty_authorization_header_is_token_missing(configs_client):
    response = await configs_client.get(TYPES_URL, headers={"Authorization": "", "Project-ID": P})
    assert_401(response, "TOKEN_MISSING")


@pytest.mark.parametrize("value", ["Bearer", "Bearer not.a.jwt", "Token abc", "garbage"])
async def test_a_malformed_token_is_token_incorrect(configs_client, registry_calls, value):
    response = await configs_client.get(
        TYPES_URL, headers={"Authorization": value, "Project-ID": P}
    )
    assert_401(response, "TOKEN_INCORRECT")
    assert response.json()["detail"]["message"] == "Некорректный токен"
    assert registry_calls == []


async def test_an_expired_token_is_token_expired(configs_client, user_center, registry_calls):
    token = await user_center.mint(ttl=-60)
    response = await configs_client.get(
        TYPES_URL, headers={"Authorization": f"Bearer {token}", "Project-ID": P}
    )
    assert_401(response, "TOKEN_EXPIRED")
    assert response.json()["detail"]["message"] == "Токен устарел"
    assert registry_calls == []


async def test_a_token_signed_by_another_key_is_rejected(configs_client, user_center):
    token = await user_center.mint(foreign_key=True)
    response = await configs_client.get(
        TYPES_URL, headers={"Authorization": f"Bearer {token}", "Project-ID": P}
    )
    assert_401(response, "TOKEN_INCORRECT")


async def test_alg_none_is_rejected(configs_client, user_center):
    token = await user_center.mint(algorithm="none")
    response = await configs_client.get(
        TYPES_URL, headers={"Authorization": f"Bearer {token}", "Project-ID": P}
    )
    assert_401(response, "TOKEN_INCORRECT")


async def test_hs256_signed_with_the_public_key_as_secret_is_rejected(configs_client, user_center):
    token = await user_center.mint(algorithm="HS256")
    response = await configs_client.get(
        TYPES_URL, headers={"Authorization": f"Bearer {token}", "Project-ID": P}
    )
    assert_401(response, "TOKEN_INCORRECT")


async def test_a_token_without_exp_is_rejected(configs_client, user_center):
    token = await user_center.mint(claims={"exp": None})
    response = await configs_client.get(
        TYPES_URL, headers={"Authorization": f"Bearer {token}", "Project-ID": P}
    )
    assert_401(response, "TOKEN_INCORRECT")


async def test_hs256_with_any_secret_is_rejected(configs_client):
    response = await configs_client.get(
        TYPES_URL, headers={"Authorization": f"Bearer {hs256_token(b'secret')}", "Project-ID": P}
    )
    assert_401(response, "TOKEN_INCORRECT")


async def test_a_token_from_the_future_is_rejected(configs_client, user_center):
    later = int(time.time()) + 3600
    token = await user_center.mint(claims={"nbf": later})
    response = await configs_client.get(
        TYPES_URL, headers={"Authorization": f"Bearer {token}", "Project-ID": P}
    )
    assert_401(response, "TOKEN_INCORRECT")


@pytest.mark.parametrize(
    "sub",
    [
        None,  # removes `sub`
        "not-a-uuid",
        {"user_id": "not-a-uuid"},
        {"profile_id": str(uuid.uuid4())},
        42,
        [str(uuid.uuid4())],
    ],
)
async def test_a_sub_without_a_uuid_user_is_rejected(configs_client, user_center, sub):
    token = await user_center.mint(claims={"sub": sub})
    response = await configs_client.get(
        TYPES_URL, headers={"Authorization": f"Bearer {token}", "Project-ID": P}
    )
    assert_401(response, "TOKEN_INCORRECT")


async def test_sub_as_the_user_centers_object_is_accepted(
    configs_client, user_center, load_configs
):
    await load_configs(P, {"node_id": {"value": 1}})
    token = await user_center.token()
    response = await configs_client.get(
        TYPES_URL, headers={"Authorization": f"Bearer {token}", "Project-ID": P}
    )
    assert response.status_code == 200, response.text


async def test_sub_as_a_uuid_string_is_accepted(configs_client, user_center, load_configs):
    await load_configs(P, {"node_id": {"value": 1}})
    token = await user_center.mint(claims={"sub": str(uuid.uuid4())})
    response = await configs_client.get(
        TYPES_URL, headers={"Authorization": f"Bearer {token}", "Project-ID": P}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("scheme", ["Bearer {}", "bearer {}", "{}", "  Bearer   {}  "])
async def test_the_bearer_scheme_is_optional_and_case_insensitive(
    configs_client, user_center, load_configs, scheme
):
    await load_configs(P, {"node_id": {"value": 1}})
    token = await user_center.token()
    response = await configs_client.get(
        TYPES_URL, headers={"Authorization": scheme.format(token), "Project-ID": P}
    )
    assert response.status_code == 200, response.text


async def test_authentication_comes_before_header_checks(configs_client):
    response = await configs_client.get(
        TYPES_URL, headers={"Authorization": "Bearer x", "Project-ID": "nope"}
    )
    assert_401(response, "TOKEN_INCORRECT")


async def test_the_issuer_is_checked_when_configured(
    start_configs, registry_app, user_center, load_configs
):
    await load_configs(P, {"node_id": {"value": 1}})
    good = await user_center.mint()
    wrong = await user_center.mint(claims={"iss": "somebody"})
    missing = await user_center.mint(claims={"iss": None})
    async with start_configs(registry_app, issuer=user_center.issuer) as client:
        answers = [
            await client.get(TYPES_URL, headers={"Authorization": f"Bearer {t}", "Project-ID": P})
            for t in (good, wrong, missing)
        ]
    assert answers[0].status_code == 200, answers[0].text
    assert_401(answers[1], "TOKEN_INCORRECT")
    assert_401(answers[2], "TOKEN_INCORRECT")


# --- the write role ------------------------------------------------------------------------

NEW = {"project_id": P, "object_type": "node_id", "data": {"value": 1}}


async def test_writing_without_the_role_is_403_forbidden(configs_client, bearer, registry_calls):
    headers = {**await bearer(roles=("configs:read",)), "Project-ID": P}
    for method, url, body in [
        ("POST", "/configs/", NEW),
        ("PUT", "/configs/node_id/", {"data": {}}),
        ("PATCH", "/configs/node_id/", {"data": {}}),
        ("DELETE", "/configs/node_id/", None),
    ]:
        response = await configs_client.request(method, url, json=body, headers=headers)
        assert response.status_code == 403, (method, response.text)
        assert response.json()["detail"]["code"] == "FORBIDDEN"
    assert registry_calls == []


async def test_the_role_in_sub_roles_allows_writing(configs_client, bearer):
    headers = {**await bearer(roles=(WRITE_ROLE,)), "Project-ID": P}
    response = await configs_client.post("/configs/", json=NEW, headers=headers)
    assert response.status_code == 201, response.text


async def test_the_role_in_the_scope_claim_allows_writing(configs_client, user_center):
    token = await user_center.mint(claims={"scope": f"openid {WRITE_ROLE} profile"})
    headers = {"Authorization": f"Bearer {token}", "Project-ID": P}
    response = await configs_client.post("/configs/", json=NEW, headers=headers)
    assert response.status_code == 201, response.text


async def test_a_role_that_merely_contains_the_name_is_not_enough(configs_client, user_center):
    token = await user_center.mint(claims={"scope": f"{WRITE_ROLE}s x{WRITE_ROLE}"})
    headers = {"Authorization": f"Bearer {token}", "Project-ID": P}
    response = await configs_client.post("/configs/", json=NEW, headers=headers)
    assert response.status_code == 403, response.text


async def test_an_empty_write_role_lets_any_valid_token_write(start_configs, registry_app, bearer):
    headers = {**await bearer(), "Project-ID": P}
    async with start_configs(registry_app, write_role="") as client:
        response = await client.post("/configs/", json=NEW, headers=headers)
    assert response.status_code == 201, response.text


async def test_reads_need_no_role(configs_client, bearer, load_configs):
    await load_configs(P, {"node_id": {"value": 1}})
    response = await configs_client.get(TYPES_URL, headers={**await bearer(), "Project-ID": P})
    assert response.status_code == 200, response.text
