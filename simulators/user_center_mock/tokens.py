"""Minting tokens in the User Center's format.

A real token (the User Center's token format) is RS256 with `sub` an **object** holding
`user_id` (plus profile/account ids and, here, the roles). We add `iss`, `iat`, `exp`, `jti`
and a `kid` header, which the original services ignore and ours may check.

`mint` is also the test back door: claims merged over the defaults (`None` removes one),
any lifetime (negative = already expired), the foreign key (not in the JWKS) for
bad-signature tests, and the `none` / `HS256`-with-the-public-key algorithms that verifiers
must refuse.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import jwt

from .keys import KeyPair

ALGORITHMS = ("RS256", "none", "HS256")
DEFAULT_TTL = 3600  # s, a token without a `ttl` asked
MAX_TTL = 10 * 365 * 24 * 3600  # s, the longest a token may be asked for


def default_claims(
    user_id: str, roles: Sequence[str], ttl: int, issuer: str, now: int | None = None
) -> dict[str, Any]:
    now = int(time.time()) if now is None else now
    return {
        "iss": issuer,
        "sub": {
            "user_id": user_id,
            "profile_id": user_id,
            "account_id": None,
            "roles": list(roles),
        },
        "iat": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
    }


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: Mapping[str, Any], claims: Mapping[str, Any]) -> str:
    def part(obj: Mapping[str, Any]) -> str:
        return _b64(json.dumps(obj, separators=(",", ":")).encode())

    return f"{part(header)}.{part(claims)}"


def encode(
    claims: Mapping[str, Any],
    key: KeyPair,
    *,
    headers: Mapping[str, Any] | None = None,
    algorithm: str = "RS256",
    public_pem: str | None = None,
) -> str:
    """Sign `claims`; `headers` are merged over `{"alg", "typ": "JWT", "kid"}`."""
    header: dict[str, Any] = {"alg": algorithm, "typ": "JWT", "kid": key.kid}
    header.update(headers or {})
    if algorithm == "RS256":
        return jwt.encode(dict(claims), key.private, algorithm="RS256", headers=header)
    if algorithm == "none":
        return _unsigned(header, claims) + "."
    if algorithm == "HS256":
        # The classic key-confusion attack: HMAC keyed with the public PEM. PyJWT refuses to
        # produce it, so it is built by hand.
        signing_input = _unsigned(header, claims)
        secret = (public_pem or key.public_pem).encode()
        digest = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(digest)}"
    raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}")


def mint(
    key: KeyPair,
    *,
    issuer: str,
    claims: Mapping[str, Any] | None = None,
    headers: Mapping[str, Any] | None = None,
    ttl: int = DEFAULT_TTL,
    user_id: str | None = None,
    roles: Sequence[str] = (),
    algorithm: str = "RS256",
    public_pem: str | None = None,
) -> str:
    """A token with default claims for `user_id` (random when omitted) and `claims` merged in."""
    merged = default_claims(user_id or str(uuid.uuid4()), roles, ttl, issuer)
    for name, value in (claims or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return encode(merged, key, headers=headers, algorithm=algorithm, public_pem=public_pem)
