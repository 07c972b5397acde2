"""The RSA key pair of the user-center-mock, where it lives, and its public forms (PEM, JWK).

Without `--key FILE` the key is kept in the state directory (`STEP_STATE_DIR`, default
`./.step-platform`) as `user-center-key.pem`, created on first use. Both the server and
`step-platform token` go through `load_or_create`, so a token printed on the command line
verifies against a running user-center-mock. Creation is atomic (write a temporary file, then
hard-link it into place), so two processes starting together end up with the same key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from step_platform.core.settings import ConfigError

KEY_FILE_NAME = "user-center-key.pem"
DEFAULT_STATE_DIR = ".step-platform"


def state_dir(env: Any) -> Path:
    return Path(env.get("STEP_STATE_DIR") or DEFAULT_STATE_DIR)


def state_key_path(directory: Path) -> Path:
    return directory / KEY_FILE_NAME


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class KeyPair:
    private: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> KeyPair:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def from_pem(cls, data: bytes, source: str = "key") -> KeyPair:
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{source} is not a PEM RSA private key: {exc}") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigError(f"{source} is not an RSA private key")
        return cls(key)

    def private_pem(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @cached_property
    def public_pem(self) -> str:
        return (
            self.private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    @cached_property
    def kid(self) -> str:
        """The RFC 7638 thumbprint of the public key, so the id follows the key, not a file."""
        numbers = self.private.public_key().public_numbers()
        canonical = json.dumps(
            {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)},
            separators=(",", ":"),
            sort_keys=True,
        )
        return (
            base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest())
            .rstrip(b"=")
            .decode()
        )

    def jwk(self) -> dict[str, str]:
        numbers = self.private.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
        }


def load(path: Path) -> KeyPair:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read key file {path}: {exc.strerror or exc}") from None
    return KeyPair.from_pem(data, source=f"key file {path}")


def load_or_create(path: Path) -> KeyPair:
    """The key at `path`, generating and saving a new one (mode 0600) if there is none."""
    if path.exists():
        return load(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        pair = KeyPair.generate()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pair.private_pem())
            try:
                os.link(tmp, path)  # fails if another process created it meanwhile
            except FileExistsError:
                return load(path)
        finally:
            os.unlink(tmp)
    except OSError as exc:
        raise ConfigError(f"cannot create key file {path}: {exc.strerror or exc}") from None
    return pair
