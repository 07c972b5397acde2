"""Reading settings from the environment.

Every service reads its settings once, at start-up, into a frozen dataclass. These helpers keep
the parsing rules in one place so that the seed's `.env` files mean the same thing everywhere:
strict booleans, Django-style host lists, public keys with literal ``\\n``.
"""

from __future__ import annotations

from collections.abc import Mapping

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


Env = Mapping[str, str]


def required(env: Env, name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: it is required")
    return value


def optional(env: Env, name: str, default: str = "") -> str:
    value = env.get(name)
    return default if value is None else value.strip()


def boolean(env: Env, name: str, default: bool = False) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean: use 1/true/yes/on or 0/false/no/off")


def number(env: Env, name: str, default: float, *, minimum: float = 0) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if value != value or value < minimum:
        raise ConfigError(f"{name}={raw!r} must be a number >= {minimum}")
    return value


def integer(env: Env, name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be an integer >= {minimum}")
    return value


def word_list(
    env: Env, name: str, *, sep: str | None, default: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """A list: `sep=","` for ALLOWED_HOSTS, `sep=None` (whitespace) for the DJANGO_* ones."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    return tuple(item.strip() for item in raw.split(sep) if item.strip())


def public_key(env: Env, name: str = "ACCESS_TOKEN_PUBLIC_KEY") -> str:
    """The PEM public key, accepting the one-line form with literal backslash-n sequences."""
    value = required(env, name).replace("\\n", "\n")
    if "-----BEGIN" not in value:
        raise ConfigError(f"{name} is not a PEM public key (no -----BEGIN line)")
    return value


def join_url(base: str, port: str | None = None) -> str:
    """`REGISTRY_URL` + `REGISTRY_PORT`, tolerant of a trailing slash or a port already present."""
    base = base.strip().rstrip("/")
    if port:
        scheme_sep = base.find("://")
        netloc = base[scheme_sep + 3 :] if scheme_sep >= 0 else base
        host = netloc.split("/", 1)[0]
        if ":" not in host.rsplit("]", 1)[-1]:
            base = f"{base}:{port.strip()}"
    return base


def host_allowed(host_header: str, allowed: tuple[str, ...]) -> bool:
    """Django's ALLOWED_HOSTS matching: `*`, a leading dot covers subdomains, port ignored."""
    host = host_header.strip().lower()
    if host.startswith("["):
        host = host.split("]", 1)[0] + "]"
    else:
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    host = host.rstrip(".")
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern == "*" or pattern == host:
            return True
        if pattern.startswith(".") and (host == pattern[1:] or host.endswith(pattern)):
            return True
    return False
