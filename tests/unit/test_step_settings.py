"""Step settings from the seed's environment names."""

from __future__ import annotations

from typing import Any

import pytest

from step_platform.contests.app import MULTIPART_ALLOWANCE, Settings, create_app
from step_platform.core.settings import ConfigError
from tests.keys import public_pem as public_pem_of
from tests.keys import rsa_key


@pytest.fixture(scope="module")
def public_pem() -> str:
    return public_pem_of(rsa_key())


@pytest.fixture
def seed_env(public_pem: str) -> dict[str, str]:
    """The seed's step `.env` (section 6), the key on one line with literal \\n."""
    return {
        "SECRET_KEY": "some_key",
        "DEBUG": "1",
        "DJANGO_ALLOWED_HOSTS": "api.step.skroy.ru 127.0.0.1 step.skroy.ru",
        "DJANGO_CORS_ALLOWED_ORIGINS": "http://127.0.0.1 https://step.skroy.ru",
        "BASE_URL": "https://api.beta.raida-dev.ru",
        "USER_RAIDA": "raida@raida.com",
        "PASSWD_RAIDA": "raida",
        "ACCESS_TOKEN_PUBLIC_KEY": public_pem.replace("\n", "\\n"),
        "JWT_ALGORITHM": "RS256",
        "CONFIGS_SERVICE_URL": "https://cfg.step.skroy.ru/",
        "LANGUAGE_CODE": "ru",
        "TIME_ZONE": "Europe/Moscow",
    }


def test_the_seed_env_works_unchanged(seed_env: dict[str, str], public_pem: str) -> None:
    settings = Settings.from_env(seed_env)
    assert settings.raida_url == "https://api.beta.raida-dev.ru"
    assert (settings.raida_user, settings.raida_password) == ("raida@raida.com", "raida")
    assert settings.auth.public_key == public_pem
    assert settings.configs_url == "https://cfg.step.skroy.ru"
    assert settings.common.allowed_hosts == ("api.step.skroy.ru", "127.0.0.1", "step.skroy.ru")
    assert settings.cors_origins == ("http://127.0.0.1", "https://step.skroy.ru")
    assert settings.time_zone == "Europe/Moscow"
    assert settings.common.debug is True
    create_app(settings)  # no I/O: builds without reaching anything


def test_defaults_of_the_new_variables(seed_env: dict[str, str]) -> None:
    settings = Settings.from_env(seed_env)
    assert settings.max_upload_bytes == 20971520
    assert settings.config_cache_ttl == 0
    assert (settings.common.connect_timeout, settings.common.timeout) == (2.0, 10.0)
    assert settings.auth.issuer is None


def test_with_a_change_feed_config_sets_are_cached_for_five_seconds_by_default(
    seed_env: dict[str, str],
) -> None:
    settings = Settings.from_env({**seed_env, "CONFIGS_SERVICE_TOKEN": "a-token"})
    assert settings.config_cache_ttl == 5.0


def test_without_a_change_feed_an_explicit_ttl_still_caches(seed_env: dict[str, str]) -> None:
    assert Settings.from_env({**seed_env, "CONFIG_CACHE_TTL": "2"}).config_cache_ttl == 2.0


def test_the_new_variables_are_read(seed_env: dict[str, str]) -> None:
    settings = Settings.from_env(
        {
            **seed_env,
            "STEP_MAX_UPLOAD_BYTES": "1000",
            "CONFIG_CACHE_TTL": "0",
            "UPSTREAM_CONNECT_TIMEOUT": "0.5",
            "UPSTREAM_TIMEOUT": "3",
            "JWT_ISSUER": "https://uc.example",
        }
    )
    assert settings.max_upload_bytes == 1000
    assert settings.config_cache_ttl == 0
    assert (settings.common.connect_timeout, settings.common.timeout) == (0.5, 3.0)
    assert settings.auth.issuer == "https://uc.example"


def test_the_body_limit_leaves_room_for_the_multipart_envelope(seed_env: dict[str, str]) -> None:
    app: Any = create_app(Settings.from_env({**seed_env, "STEP_MAX_UPLOAD_BYTES": "1000"}))
    limits = [m.kwargs["max_bytes"] for m in app.user_middleware if "max_bytes" in m.kwargs]
    assert limits == [1000 + MULTIPART_ALLOWANCE]


@pytest.mark.parametrize(
    "name",
    [
        "BASE_URL",
        "USER_RAIDA",
        "PASSWD_RAIDA",
        "ACCESS_TOKEN_PUBLIC_KEY",
        "JWT_ALGORITHM",
        "CONFIGS_SERVICE_URL",
        "DJANGO_ALLOWED_HOSTS",
    ],
)
def test_a_missing_required_variable_is_named(seed_env: dict[str, str], name: str) -> None:
    del seed_env[name]
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(seed_env)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("JWT_ALGORITHM", "HS256"),
        ("TIME_ZONE", "Mars/Olympus"),
        ("STEP_MAX_UPLOAD_BYTES", "lots"),
        ("CONFIG_CACHE_TTL", "-1"),
    ],
)
def test_a_malformed_variable_is_named(seed_env: dict[str, str], name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({**seed_env, name: value})


@pytest.mark.parametrize(("raw", "debug"), [("1", True), ("True", True), ("0", False), ("", False)])
def test_debug_values(seed_env: dict[str, str], raw: str, debug: bool) -> None:
    assert Settings.from_env({**seed_env, "DEBUG": raw}).common.debug is debug


def test_optional_language_and_time_zone(seed_env: dict[str, str]) -> None:
    del seed_env["LANGUAGE_CODE"], seed_env["TIME_ZONE"]
    settings = Settings.from_env(seed_env)
    assert (settings.language_code, settings.time_zone) == ("ru", "UTC")


def test_the_configs_service_token_is_read(seed_env: dict[str, str]) -> None:
    assert Settings.from_env(seed_env).configs_service_token == ""
    changed = Settings.from_env({**seed_env, "CONFIGS_SERVICE_TOKEN": " t "})
    assert changed.configs_service_token == "t"
