"""user-center-mock: issues the RS256 tokens the services verify (`serve user-center-mock`).

Routes: `POST /api/token` (a token for a user), `GET /.well-known/jwks.json`,
`GET /public-key.pem` (for `ACCESS_TOKEN_PUBLIC_KEY`), `GET /.well-known/openid-configuration`,
and the test back door `POST /__admin/mint`.

Settings (environment): `USER_CENTER_KEY_FILE` (an existing PEM private key; `serve --key`),
else the key kept in `STEP_STATE_DIR` (default `./.step-platform`); `USER_CENTER_ISSUER`
(default `http://127.0.0.1:8091`); `ALLOWED_HOSTS` (default `*`), `DEBUG`, `INSTANCE_ID`.
The key is loaded (or created) by `create_app`, so a bad key file stops start-up with one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from step_platform.core import settings as env
from step_platform.core.app import CommonSettings, build_app
from step_platform.core.docs import docs_routes
from step_platform.core.errors import bad_request
from step_platform.core.health import health_routes
from step_platform.core.ids import canonical_uuid
from step_platform.core.middleware import instance_id_from
from step_platform.core.responses import JSON

from . import keys, tokens
from .openapi import openapi
from .tokens import DEFAULT_TTL, MAX_TTL

SERVICE = "user-center-mock"
DEFAULT_ISSUER = "http://127.0.0.1:8091"


@dataclass(frozen=True)
class Settings:
    key_file: Path | None = None
    state_dir: Path = Path(keys.DEFAULT_STATE_DIR)
    issuer: str = DEFAULT_ISSUER
    common: CommonSettings = field(default_factory=CommonSettings)

    @property
    def key_path(self) -> Path:
        return self.key_file or keys.state_key_path(self.state_dir)

    @classmethod
    def from_env(cls, e: env.Env) -> Settings:
        key_file = env.optional(e, "USER_CENTER_KEY_FILE")
        if key_file and not Path(key_file).is_file():
            raise env.ConfigError(f"USER_CENTER_KEY_FILE={key_file!r}: no such file")
        return cls(
            key_file=Path(key_file) if key_file else None,
            state_dir=keys.state_dir(e),
            issuer=env.optional(e, "USER_CENTER_ISSUER", DEFAULT_ISSUER) or DEFAULT_ISSUER,
            common=CommonSettings(
                debug=env.boolean(e, "DEBUG"),
                allowed_hosts=env.word_list(e, "ALLOWED_HOSTS", sep=",", default=("*",)),
                instance_id=instance_id_from(e),
            ),
        )


class Issuer:
    """The service key, the throwaway foreign key, and the issuer name."""

    def __init__(self, key: keys.KeyPair, issuer: str) -> None:
        self.key = key
        self.issuer = issuer

    @cached_property
    def foreign_key(self) -> keys.KeyPair:
        return keys.KeyPair.generate()

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.jwk()]}


def _issuer(request: Request) -> Issuer:
    issuer: Issuer = request.app.state.issuer
    return issuer


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"Malformed JSON body: {exc}") from None
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.")
    return body


def _ttl(body: dict[str, Any], *, allow_negative: bool) -> int:
    """The body's `ttl` in seconds: absent is DEFAULT_TTL; null is refused like any non-integer
    (the document says integer, as a client reads it)."""
    if "ttl" not in body:
        return DEFAULT_TTL
    value = body["ttl"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request("ttl must be an integer number of seconds.", fields={"ttl": ["integer"]})
    if (value <= 0 and not allow_negative) or abs(value) > MAX_TTL:
        raise bad_request(
            f"ttl must be between 1 and {MAX_TTL} seconds.", fields={"ttl": ["out of range"]}
        )
    return value


async def issue_token(request: Request) -> Response:
    """`{"user_id", "roles"?, "ttl"?}` -> `{"access_token", "token_type", "expires_in"}`."""
    body = await _json(request)
    user_id = canonical_uuid(body.get("user_id"))
    if user_id is None:
        raise bad_request("user_id must be a UUID.", fields={"user_id": ["UUID required"]})
    roles = body.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise bad_request("roles must be a list of strings.", fields={"roles": ["list"]})
    ttl = _ttl(body, allow_negative=False)
    issuer = _issuer(request)
    token = tokens.mint(issuer.key, issuer=issuer.issuer, user_id=user_id, roles=roles, ttl=ttl)
    return JSON({"access_token": token, "token_type": "Bearer", "expires_in": ttl})


async def mint(request: Request) -> Response:
    """Test back door: `{"claims", "headers", "ttl", "foreign_key", "algorithm"}`, all optional."""
    body = await _json(request)
    unknown = sorted(set(body) - {"claims", "headers", "ttl", "foreign_key", "algorithm"})
    if unknown:
        raise bad_request(f"Unknown keys: {', '.join(unknown)}.")
    claims = {} if body.get("claims") is None else body["claims"]
    headers = {} if body.get("headers") is None else body["headers"]
    if not isinstance(claims, dict) or not isinstance(headers, dict):
        raise bad_request("claims and headers must be JSON objects.")
    foreign = body.get("foreign_key", False)
    if not isinstance(foreign, bool):
        raise bad_request("foreign_key must be a boolean.")
    algorithm = body.get("algorithm", "RS256")
    if algorithm not in tokens.ALGORITHMS:
        raise bad_request(f"algorithm must be one of {', '.join(tokens.ALGORITHMS)}.")
    issuer = _issuer(request)
    key = issuer.foreign_key if foreign else issuer.key
    headers = {"kid": issuer.key.kid, **headers}  # a foreign token still names the real kid
    token = tokens.mint(
        key,
        issuer=issuer.issuer,
        claims=claims,
        headers=headers,
        ttl=_ttl(body, allow_negative=True),
        algorithm=algorithm,
        public_pem=issuer.key.public_pem,
    )
    return JSON({"access_token": token})


async def jwks(request: Request) -> Response:
    return JSON(_issuer(request).jwks(), headers={"Cache-Control": "max-age=300"})


async def public_key(request: Request) -> Response:
    return PlainTextResponse(_issuer(request).key.public_pem, media_type="application/x-pem-file")


async def discovery(request: Request) -> Response:
    issuer = _issuer(request)
    base = str(request.base_url).rstrip("/")
    return JSON(
        {
            "issuer": issuer.issuer,
            "jwks_uri": f"{base}/.well-known/jwks.json",
            "token_endpoint": f"{base}/api/token",
            "public_key_pem_uri": f"{base}/public-key.pem",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "claims_supported": ["iss", "sub", "iat", "exp", "jti"],
        }
    )


def create_app(settings: Settings) -> Starlette:
    if settings.key_file is not None:
        key = keys.load(settings.key_file)
    else:
        key = keys.load_or_create(settings.key_path)
    issuer = Issuer(key, settings.issuer)

    async def key_loaded(request: Request) -> None:
        assert issuer.key.kid

    routes = [
        Route("/api/token", issue_token, methods=["POST"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET", "HEAD"]),
        Route("/.well-known/openid-configuration", discovery, methods=["GET", "HEAD"]),
        Route("/public-key.pem", public_key, methods=["GET", "HEAD"]),
        Route("/__admin/mint", mint, methods=["POST"]),
        *health_routes({"key": key_loaded}),
        *docs_routes(
            openapi, title="user-center-mock", ui_path="/docs", schema_path="/docs/schema"
        ),
    ]
    app = build_app(service=SERVICE, routes=routes, common=settings.common)
    app.state.settings = settings
    app.state.issuer = issuer
    return app
