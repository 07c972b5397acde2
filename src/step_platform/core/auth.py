"""Verification of User Center access tokens (configs and step services).

Only the configured asymmetric algorithm is accepted, so `alg: none`, HS* tokens and the
classic "HS256 signed with the public key" confusion all fail in PyJWT's algorithm check.
`sub` is the User Center's object (`{"user_id": ...}`) or a UUID string; PyJWT >= 2.10 would
reject an object `sub`, hence `verify_sub=False` and our own check.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from . import settings as env
from .errors import ApiError
from .ids import canonical_uuid
from .settings import ConfigError

ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")

MESSAGES = {
    "TOKEN_MISSING": "Учетные данные не были предоставлены.",
    "TOKEN_INCORRECT": "Некорректный токен",
    "TOKEN_EXPIRED": "Токен устарел",
    "FORBIDDEN": "Недостаточно прав для выполнения операции.",
}


def auth_error(code: str) -> ApiError:
    return ApiError(401, code, MESSAGES[code], headers={"WWW-Authenticate": "Bearer"})


def forbidden() -> ApiError:
    return ApiError(403, "FORBIDDEN", MESSAGES["FORBIDDEN"])


@dataclass(frozen=True)
class Principal:
    """Who is calling: the User Center user id (canonical lowercase UUID) and their grants."""

    user_id: str
    roles: frozenset[str] = frozenset()
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    def has_role(self, role: str) -> bool:
        return not role or role in self.roles


def check_algorithm(name: str) -> str:
    name = name.strip()
    if name not in ASYMMETRIC:
        raise ConfigError(
            f"JWT_ALGORITHM={name!r} is not allowed: use one of {', '.join(ASYMMETRIC)}"
        )
    return name


@dataclass(frozen=True)
class AuthSettings:
    """How a service verifies User Center tokens (`ACCESS_TOKEN_PUBLIC_KEY`, `JWT_ALGORITHM`,
    optional `JWT_ISSUER`); shared by the configs and step services."""

    public_key: str
    algorithm: str = "RS256"
    issuer: str | None = None

    @classmethod
    def from_env(cls, e: env.Env) -> AuthSettings:
        return cls(
            public_key=env.public_key(e),
            algorithm=check_algorithm(env.required(e, "JWT_ALGORITHM")),
            issuer=env.optional(e, "JWT_ISSUER") or None,
        )

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(self.public_key, self.algorithm, self.issuer)


VERIFIED_TOKENS_KEPT = 4096


class TokenVerifier:
    def __init__(
        self, public_key: str, algorithm: str, issuer: str | None = None, leeway: float = 5.0
    ) -> None:
        self.algorithm = check_algorithm(algorithm)
        try:
            self.key = load_pem_public_key(public_key.encode())
        except ValueError as exc:
            raise ConfigError(f"ACCESS_TOKEN_PUBLIC_KEY cannot be parsed: {exc}") from None
        self.issuer = issuer or None
        self.leeway = leeway
        # Tokens already verified, until their `exp`: a signature check is about a tenth of a
        # small read's CPU, and a token's validity cannot change before it expires (the key is
        # read once at start-up). Bounded, least recently used first out.
        self._verified: OrderedDict[str, Principal] = OrderedDict()

    @staticmethod
    def extract(authorization: str | None) -> str:
        """`Bearer <jwt>` (scheme case-insensitive) or a bare `<jwt>`, as the originals accept."""
        if authorization is None or not authorization.strip():
            raise auth_error("TOKEN_MISSING")
        parts = authorization.strip().split()
        if len(parts) == 2 and parts[0].lower() == "bearer":
            return parts[1]
        if len(parts) == 1 and parts[0].lower() != "bearer":
            return parts[0]
        raise auth_error("TOKEN_INCORRECT")

    def verify(self, authorization: str | None) -> Principal:
        token = self.extract(authorization)
        known = self._verified.get(token)
        if known is not None:
            if known.claims["exp"] > time.time() - self.leeway:
                self._verified.move_to_end(token)
                return known
            del self._verified[token]  # expired: the full check below says so
        principal = self._decode(token)
        self._verified[token] = principal
        if len(self._verified) > VERIFIED_TOKENS_KEPT:
            self._verified.popitem(last=False)
        return principal

    def _decode(self, token: str) -> Principal:
        options = {"require": ["exp"], "verify_sub": False, "verify_aud": False}
        try:
            claims = jwt.decode(
                token,
                self.key,  # type: ignore[arg-type]
                algorithms=[self.algorithm],
                issuer=self.issuer,
                leeway=self.leeway,
                options=options,  # type: ignore[arg-type]
            )
        except jwt.ExpiredSignatureError:
            raise auth_error("TOKEN_EXPIRED") from None
        except (jwt.InvalidTokenError, ValueError, TypeError):
            raise auth_error("TOKEN_INCORRECT") from None
        return principal_from(claims)


def principal_from(claims: dict[str, Any]) -> Principal:
    sub = claims.get("sub")
    roles: set[str] = set()
    if isinstance(sub, dict):
        user_id = canonical_uuid(sub.get("user_id"))
        sub_roles = sub.get("roles")
        if isinstance(sub_roles, list):
            roles.update(r for r in sub_roles if isinstance(r, str))
    else:
        user_id = canonical_uuid(sub)
    if user_id is None:
        raise auth_error("TOKEN_INCORRECT")
    top_roles = claims.get("roles")
    if isinstance(top_roles, list):
        roles.update(r for r in top_roles if isinstance(r, str))
    scope = claims.get("scope")
    if isinstance(scope, str):
        roles.update(scope.split())
    return Principal(user_id=user_id, roles=frozenset(roles), claims=claims)
