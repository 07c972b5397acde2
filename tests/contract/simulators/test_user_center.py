"""user-center-mock: tokens, JWKS, PEM, discovery, the mint back door, keys and the CLI."""

from __future__ import annotations

import uuid

import httpx
import jwt
import pytest

from step_platform.cli import main as cli_main
from step_platform.core.auth import TokenVerifier
from step_platform.core.errors import ApiError
from step_platform.core.settings import ConfigError
from user_center_mock.app import Settings, create_app
from user_center_mock.keys import KeyPair

pytestmark = pytest.mark.anyio

USER = "2098611d-32e2-4d8f-acea-76570af65843"
OPTIONS = {"verify_sub": False}


def decode_with_jwks(token: str, jwks: dict) -> dict:
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWKSet.from_dict(jwks)[kid]
    return jwt.decode(token, key, algorithms=["RS256"], options=OPTIONS)


async def test_a_token_verifies_against_the_pem(user_center):
    token = await user_center.token(USER, roles=["configs:write"], ttl=600)
    claims = jwt.decode(token, user_center.public_key_pem, algorithms=["RS256"], options=OPTIONS)
    assert claims["sub"]["user_id"] == USER
    assert claims["sub"]["roles"] == ["configs:write"]
    assert claims["exp"] - claims["iat"] == 600
    assert claims["iss"] == user_center.issuer
    uuid.UUID(claims["jti"])


async def test_a_token_verifies_against_the_jwks(user_center):
    token = await user_center.token(USER)
    claims = decode_with_jwks(token, await user_center.jwks())
    assert claims["sub"]["user_id"] == USER


async def test_the_token_header_names_the_jwks_key(user_center):
    token = await user_center.token(USER)
    header = jwt.get_unverified_header(token)
    (key,) = (await user_center.jwks())["keys"]
    assert header == {"alg": "RS256", "typ": "JWT", "kid": key["kid"]}
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")


async def test_the_token_endpoint_answers_bearer_and_expires_in(user_center):
    async with user_center.client() as client:
        response = await client.post("/api/token", json={"user_id": USER})
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600


async def test_sub_has_the_user_center_shape(user_center):
    claims = jwt.decode(
        await user_center.token(USER), options={"verify_signature": False, "verify_sub": False}
    )
    assert claims["sub"] == {
        "user_id": USER,
        "profile_id": USER,
        "account_id": None,
        "roles": [],
    }
    assert "aud" not in claims  # the original services reject any audience


async def test_our_services_verifier_accepts_the_token(user_center):
    verifier = TokenVerifier(user_center.public_key_pem, "RS256")
    token = await user_center.token(USER, roles=["configs:write"])
    principal = verifier.verify(f"Bearer {token}")
    assert principal.user_id == USER
    assert principal.has_role("configs:write")


async def test_an_expired_token_fails_verification(user_center):
    token = await user_center.mint(claims={"sub": {"user_id": USER}}, ttl=-60)
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, user_center.public_key_pem, algorithms=["RS256"], options=OPTIONS)
    with pytest.raises(jwt.ExpiredSignatureError):
        decode_with_jwks(token, await user_center.jwks())


async def test_a_foreign_key_token_fails_verification(user_center):
    token = await user_center.mint(foreign_key=True)
    assert jwt.get_unverified_header(token)["kid"] == (await user_center.jwks())["keys"][0]["kid"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, user_center.public_key_pem, algorithms=["RS256"], options=OPTIONS)
    with pytest.raises(jwt.InvalidSignatureError):
        decode_with_jwks(token, await user_center.jwks())


@pytest.mark.parametrize("algorithm", ["none", "HS256"])
async def test_none_and_hs256_tokens_are_refused_by_an_rs256_verifier(user_center, algorithm):
    token = await user_center.mint(algorithm=algorithm)
    assert jwt.get_unverified_header(token)["alg"] == algorithm
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(token, user_center.public_key_pem, algorithms=["RS256"], options=OPTIONS)
    with pytest.raises(ApiError):
        TokenVerifier(user_center.public_key_pem, "RS256").verify(token)


async def test_mint_merges_claims_over_the_defaults(user_center):
    token = await user_center.mint(claims={"sub": "not-an-object", "scope": "a b"}, ttl=120)
    claims = jwt.decode(token, user_center.public_key_pem, algorithms=["RS256"], options=OPTIONS)
    assert claims["sub"] == "not-an-object"
    assert claims["scope"] == "a b"
    assert claims["exp"] - claims["iat"] == 120
    assert claims["iss"] == user_center.issuer


async def test_mint_removes_a_claim_given_as_null(user_center):
    token = await user_center.mint(claims={"exp": None, "iss": None})
    claims = jwt.decode(token, user_center.public_key_pem, algorithms=["RS256"], options=OPTIONS)
    assert "exp" not in claims and "iss" not in claims
    assert "user_id" in claims["sub"]


async def test_mint_merges_headers(user_center):
    token = await user_center.mint(headers={"kid": "other", "x-test": 1})
    header = jwt.get_unverified_header(token)
    assert header["kid"] == "other" and header["x-test"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"claims": []},
        {"headers": "x"},
        {"ttl": "1h"},
        {"foreign_key": "yes"},
        {"algorithm": "HS512"},
        {"colour": "red"},
    ],
)
async def test_an_invalid_mint_body_is_400(user_center, body):
    async with user_center.client() as client:
        response = await client.post("/__admin/mint", json=body)
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"user_id": "nope"},
        {"user_id": USER, "roles": "admin"},
        {"user_id": USER, "roles": [1]},
        {"user_id": USER, "ttl": 0},
        {"user_id": USER, "ttl": -5},
        {"user_id": USER, "ttl": True},
        {"user_id": USER, "ttl": None},
        {"user_id": USER, "ttl": 10 * 365 * 24 * 3600 + 1},
    ],
)
async def test_an_invalid_token_request_is_400(user_center, body):
    async with user_center.client() as client:
        response = await client.post("/api/token", json=body)
    assert response.status_code == 400
    assert isinstance(response.json()["detail"]["message"], str)


async def test_a_malformed_json_token_request_is_400(user_center):
    async with user_center.client() as client:
        response = await client.post("/api/token", content=b"{user")
    assert response.status_code == 400


async def test_the_pem_route_serves_the_public_key(user_center):
    async with user_center.client() as client:
        response = await client.get("/public-key.pem")
    assert response.text == user_center.public_key_pem
    assert response.text.startswith("-----BEGIN PUBLIC KEY-----")


async def test_the_discovery_document_points_at_the_jwks(user_center):
    async with user_center.client() as client:
        doc = (await client.get("/.well-known/openid-configuration")).json()
        jwks = await client.get(doc["jwks_uri"].replace("http://user-center.test", ""))
    assert doc["issuer"] == user_center.issuer
    assert doc["jwks_uri"] == "http://user-center.test/.well-known/jwks.json"
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert jwks.status_code == 200


async def test_health_and_context_headers(user_center):
    async with user_center.client() as client:
        response = await client.get("/healthz")
        ready = await client.get("/readyz")
    assert response.headers["x-served-by"].startswith("user-center-mock/")
    assert response.headers["x-request-id"]
    assert ready.json()["status"] == "ok"


# --- keys ------------------------------------------------------------------------------------


def test_the_key_is_kept_in_the_state_dir_across_restarts(tmp_path):
    settings = Settings.from_env({"STEP_STATE_DIR": str(tmp_path)})
    first = create_app(settings).state.issuer.key
    second = create_app(settings).state.issuer.key
    assert first.kid == second.kid
    assert (tmp_path / "user-center-key.pem").stat().st_mode & 0o077 == 0


def test_a_key_file_is_used_as_given(tmp_path):
    pair = KeyPair.generate()
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(pair.private_pem())
    app = create_app(Settings.from_env({"USER_CENTER_KEY_FILE": str(key_file)}))
    assert app.state.issuer.key.kid == pair.kid
    assert app.state.issuer.key.public_pem == pair.public_pem


def test_a_missing_key_file_stops_start_up(tmp_path):
    with pytest.raises(ConfigError, match="USER_CENTER_KEY_FILE"):
        Settings.from_env({"USER_CENTER_KEY_FILE": str(tmp_path / "none.pem")})


def test_a_key_file_that_is_not_a_private_key_stops_start_up(tmp_path):
    key_file = tmp_path / "key.pem"
    key_file.write_text(KeyPair.generate().public_pem)
    with pytest.raises(ConfigError, match="not a PEM RSA private key"):
        create_app(Settings(key_file=key_file))


def test_the_issuer_comes_from_the_environment(tmp_path):
    settings = Settings.from_env(
        {"STEP_STATE_DIR": str(tmp_path), "USER_CENTER_ISSUER": "http://uc.example"}
    )
    assert settings.issuer == "http://uc.example"
    assert Settings.from_env({}).issuer == "http://127.0.0.1:8091"


# --- step-platform token ---------------------------------------------------------------------


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("STEP_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("USER_CENTER_KEY_FILE", raising=False)
    monkeypatch.delenv("USER_CENTER_ISSUER", raising=False)
    return tmp_path


async def test_a_cli_token_verifies_against_a_user_center_on_the_same_state_dir(state_dir, capsys):
    assert cli_main(["token", "--user-id", USER, "--ttl", "60", "--role", "a", "--role", "b"]) == 0
    token = capsys.readouterr().out.strip()
    app = create_app(Settings.from_env({"STEP_STATE_DIR": str(state_dir)}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://uc.test") as client:
        jwks = (await client.get("/.well-known/jwks.json")).json()
    claims = decode_with_jwks(token, jwks)
    assert claims["sub"]["user_id"] == USER
    assert claims["sub"]["roles"] == ["a", "b"]
    assert claims["exp"] - claims["iat"] == 60


def test_cli_public_key_prints_the_servers_pem(state_dir, capsys):
    assert cli_main(["token", "--public-key"]) == 0
    printed = capsys.readouterr().out
    app = create_app(Settings.from_env({"STEP_STATE_DIR": str(state_dir)}))
    assert printed == app.state.issuer.key.public_pem


def test_cli_token_without_a_user_id_uses_a_random_one(state_dir, capsys):
    assert cli_main(["token"]) == 0
    claims = jwt.decode(
        capsys.readouterr().out.strip(), options={"verify_signature": False, "verify_sub": False}
    )
    uuid.UUID(claims["sub"]["user_id"])


def test_cli_token_with_a_key_file(state_dir, tmp_path, capsys):
    pair = KeyPair.generate()
    key_file = tmp_path / "own.pem"
    key_file.write_bytes(pair.private_pem())
    assert cli_main(["token", "--key", str(key_file), "--user-id", USER]) == 0
    token = capsys.readouterr().out.strip()
    jwt.decode(token, pair.public_pem, algorithms=["RS256"], options=OPTIONS)


def test_cli_token_rejects_a_non_uuid_user_id(state_dir, capsys):
    assert cli_main(["token", "--user-id", "bob"]) == 2
    assert "not a UUID" in capsys.readouterr().err


def test_cli_token_with_a_missing_key_file_fails_with_one_line(state_dir, tmp_path, capsys):
    assert cli_main(["token", "--key", str(tmp_path / "none.pem")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "none.pem" in err


async def test_a_token_request_without_ttl_lasts_the_default(user_center):
    async with user_center.client() as client:
        response = await client.post("/api/token", json={"user_id": USER})
    assert response.json()["expires_in"] == 3600


async def test_the_token_body_is_documented_required_with_the_ttl_range(user_center):
    async with user_center.client() as client:
        doc = (await client.get("/docs/schema", params={"format": "json"})).json()
    request = doc["paths"]["/api/token"]["post"]["requestBody"]
    assert request["required"] is True  # no body is no user_id: 400
    ttl = request["content"]["application/json"]["schema"]["properties"]["ttl"]
    assert (ttl["type"], ttl["minimum"], ttl["maximum"]) == ("integer", 1, 10 * 365 * 24 * 3600)
    assert "nullable" not in ttl
