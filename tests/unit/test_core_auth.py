from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from step_platform.core.auth import TokenVerifier, check_algorithm
from step_platform.core.errors import ApiError
from step_platform.core.settings import ConfigError
from tests.keys import public_pem as public_pem_of
from tests.keys import rsa_key

USER = "2098611d-32e2-4d8f-acea-76570af65843"


@pytest.fixture(scope="module")
def keys() -> tuple[rsa.RSAPrivateKey, str]:
    private = rsa_key()
    return private, public_pem_of(private)


@pytest.fixture(scope="module")
def verifier(keys: tuple[rsa.RSAPrivateKey, str]) -> TokenVerifier:
    return TokenVerifier(keys[1], "RS256")


def sign(keys: tuple[rsa.RSAPrivateKey, str], claims: dict, **headers: str) -> str:
    return jwt.encode(claims, keys[0], algorithm="RS256", headers=headers or None)


def fresh(**extra: object) -> dict:
    return {"sub": {"user_id": USER}, "exp": int(time.time()) + 60, **extra}


def code_of(verifier: TokenVerifier, header: str | None) -> str:
    with pytest.raises(ApiError) as info:
        verifier.verify(header)
    assert info.value.status == 401
    assert info.value.headers["WWW-Authenticate"] == "Bearer"
    return info.value.code


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_user_center_token_with_object_sub_is_accepted(keys, verifier) -> None:
    principal = verifier.verify("Bearer " + sign(keys, fresh()))
    assert principal.user_id == USER


def test_bare_token_without_scheme_is_accepted(keys, verifier) -> None:
    assert verifier.verify(sign(keys, fresh())).user_id == USER


def test_lowercase_bearer_scheme_is_accepted(keys, verifier) -> None:
    assert verifier.verify("bearer " + sign(keys, fresh())).user_id == USER


def test_string_sub_holding_a_uuid_is_accepted(keys, verifier) -> None:
    token = sign(keys, {"sub": USER.upper(), "exp": int(time.time()) + 60})
    assert verifier.verify(f"Bearer {token}").user_id == USER


def test_missing_header_is_token_missing(verifier) -> None:
    assert code_of(verifier, None) == "TOKEN_MISSING"


def test_empty_header_is_token_missing(verifier) -> None:
    assert code_of(verifier, "  ") == "TOKEN_MISSING"


def test_bearer_without_token_is_incorrect(verifier) -> None:
    assert code_of(verifier, "Bearer ") == "TOKEN_INCORRECT"


def test_other_scheme_is_incorrect(keys, verifier) -> None:
    assert code_of(verifier, "Token " + sign(keys, fresh())) == "TOKEN_INCORRECT"


def test_garbage_is_incorrect(verifier) -> None:
    assert code_of(verifier, "Bearer not.a.jwt") == "TOKEN_INCORRECT"


def test_expired_token_is_token_expired(keys, verifier) -> None:
    token = sign(keys, fresh(exp=int(time.time()) - 120))
    assert code_of(verifier, f"Bearer {token}") == "TOKEN_EXPIRED"


def test_token_without_exp_is_incorrect(keys, verifier) -> None:
    token = sign(keys, {"sub": {"user_id": USER}})
    assert code_of(verifier, f"Bearer {token}") == "TOKEN_INCORRECT"


def test_alg_none_is_incorrect(verifier) -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64(json.dumps(fresh()).encode())
    assert code_of(verifier, f"Bearer {header}.{payload}.") == "TOKEN_INCORRECT"


def test_hs256_signed_with_the_public_key_as_secret_is_incorrect(keys, verifier) -> None:
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(fresh()).encode())
    mac = hmac.new(keys[1].encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert code_of(verifier, f"Bearer {header}.{payload}.{b64(mac)}") == "TOKEN_INCORRECT"


def test_token_of_another_key_is_incorrect(verifier) -> None:
    other = rsa_key()
    token = jwt.encode(fresh(), other, algorithm="RS256")
    assert code_of(verifier, f"Bearer {token}") == "TOKEN_INCORRECT"


@pytest.mark.parametrize(
    "sub", [None, "not-a-uuid", {"user_id": "x"}, {"profile_id": USER}, 42, ["a"]]
)
def test_sub_without_a_uuid_user_id_is_incorrect(keys, verifier, sub) -> None:
    claims = {"exp": int(time.time()) + 60}
    if sub is not None:
        claims["sub"] = sub
    assert code_of(verifier, "Bearer " + sign(keys, claims)) == "TOKEN_INCORRECT"


def test_audience_claim_is_tolerated(keys, verifier) -> None:
    assert verifier.verify("Bearer " + sign(keys, fresh(aud="step"))).user_id == USER


def test_issuer_is_checked_only_when_configured(keys) -> None:
    strict = TokenVerifier(keys[1], "RS256", issuer="https://uc")
    assert strict.verify("Bearer " + sign(keys, fresh(iss="https://uc"))).user_id == USER
    assert code_of(strict, "Bearer " + sign(keys, fresh(iss="https://evil"))) == "TOKEN_INCORRECT"


def test_roles_come_from_sub_roles_and_scope(keys, verifier) -> None:
    claims = fresh(scope="configs:write other")
    claims["sub"]["roles"] = ["admin"]
    principal = verifier.verify("Bearer " + sign(keys, claims))
    assert principal.roles == {"admin", "configs:write", "other"}
    assert principal.has_role("configs:write")
    assert principal.has_role("")
    assert not principal.has_role("missing")


@pytest.mark.parametrize("alg", ["HS256", "none", "rs256", ""])
def test_symmetric_or_unknown_algorithm_setting_is_refused(alg: str) -> None:
    with pytest.raises(ConfigError, match="JWT_ALGORITHM"):
        check_algorithm(alg)


def test_unparsable_public_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="ACCESS_TOKEN_PUBLIC_KEY"):
        TokenVerifier("-----BEGIN PUBLIC KEY-----\nzzz\n-----END PUBLIC KEY-----", "RS256")


def test_principal_user_id_is_canonical(keys, verifier) -> None:
    raw = uuid.UUID(USER).hex.upper()
    token = sign(keys, {"sub": {"user_id": raw}, "exp": int(time.time()) + 60})
    assert verifier.verify(token).user_id == USER


# --- verified tokens are remembered until they expire ------------------------------------------


def counting(verifier: TokenVerifier) -> list[str]:
    """The tokens `verifier` fully decodes (signature checked) from now on."""
    decoded: list[str] = []
    decode = verifier._decode

    def spy(token: str):
        decoded.append(token)
        return decode(token)

    verifier._decode = spy  # type: ignore[method-assign]
    return decoded


def test_a_verified_token_is_not_decoded_again(keys) -> None:
    verifier = TokenVerifier(keys[1], "RS256")
    decoded = counting(verifier)
    token = sign(keys, fresh())
    first = verifier.verify(f"Bearer {token}")
    again = verifier.verify(token)
    assert again == first
    assert decoded == [token]


def test_a_remembered_token_is_refused_once_it_expires(keys) -> None:
    verifier = TokenVerifier(keys[1], "RS256", leeway=0)
    exp = int(time.time()) + 1
    token = sign(keys, fresh(exp=exp))
    verifier.verify(f"Bearer {token}")
    time.sleep(max(0.0, exp - time.time()) + 0.05)
    assert code_of(verifier, f"Bearer {token}") == "TOKEN_EXPIRED"


def test_a_tampered_copy_of_a_remembered_token_is_incorrect(keys) -> None:
    verifier = TokenVerifier(keys[1], "RS256")
    token = sign(keys, fresh())
    verifier.verify(f"Bearer {token}")
    head, _, signature = token.split(".")
    forged = b64(json.dumps(fresh(sub={"user_id": str(uuid.uuid4())})).encode())
    assert code_of(verifier, f"Bearer {head}.{forged}.{signature}") == "TOKEN_INCORRECT"


def test_only_the_most_recently_used_tokens_are_remembered(keys, monkeypatch) -> None:
    monkeypatch.setattr("step_platform.core.auth.VERIFIED_TOKENS_KEPT", 2)
    verifier = TokenVerifier(keys[1], "RS256")
    decoded = counting(verifier)
    a, b, c = (sign(keys, fresh(jti=n)) for n in "abc")
    for token in (a, b, a, c, a, b):  # c pushes b out (a was used more recently)
        verifier.verify(token)
    assert decoded == [a, b, c, b]
