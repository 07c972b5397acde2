"""Settings of the configs service read from the seed's environment names."""

from __future__ import annotations

import pytest

from step_platform.configs.app import DEFAULT_CACHE_TTL, Settings, create_app
from step_platform.configs.registry_client import list_params
from step_platform.core.settings import ConfigError
from tests.keys import ec_key
from tests.keys import public_pem as public_pem_of


@pytest.fixture(scope="module")
def public_pem() -> str:
    return public_pem_of(ec_key())


@pytest.fixture
def seed_env(public_pem: str) -> dict[str, str]:
    """The seed's .env for configs_service, key on one line with literal backslash-n."""
    return {
        "SECRET_KEY": "some_key",
        "DEBUG": "True",
        "ALLOWED_HOSTS": "127.0.0.1,cfg.step.skroy.ru",
        "REGISTRY_URL": "http://127.0.0.1",
        "REGISTRY_PORT": "8002",
        "ACCESS_TOKEN_PUBLIC_KEY": public_pem.strip().replace("\n", "\\n"),
        "JWT_ALGORITHM": "ES256",
    }


def test_the_seed_env_works_unchanged(seed_env, public_pem):
    settings = Settings.from_env(seed_env)
    assert settings.registry_url == "http://127.0.0.1:8002"
    assert settings.auth.public_key.strip() == public_pem.strip()
    assert settings.auth.algorithm == "ES256"
    assert settings.common.debug is True
    assert settings.common.allowed_hosts == ("127.0.0.1", "cfg.step.skroy.ru")
    create_app(settings)  # the key parses


def test_defaults_of_the_new_variables(seed_env):
    settings = Settings.from_env(seed_env)
    assert settings.write_role == "configs:write"
    assert settings.cache_ttl == DEFAULT_CACHE_TTL > 0  # on: kept right by the change feed
    assert settings.auth.issuer is None
    assert (settings.common.connect_timeout, settings.common.timeout) == (2.0, 10.0)


def test_new_variables_are_read(seed_env):
    seed_env.update(
        CONFIGS_WRITE_ROLE="",
        CONFIGS_CACHE_TTL="2.5",
        JWT_ISSUER="user-center",
        UPSTREAM_CONNECT_TIMEOUT="0.5",
        UPSTREAM_TIMEOUT="3",
    )
    settings = Settings.from_env(seed_env)
    assert settings.write_role == ""
    assert settings.cache_ttl == 2.5
    assert settings.auth.issuer == "user-center"
    assert (settings.common.connect_timeout, settings.common.timeout) == (0.5, 3.0)


def test_a_cache_ttl_of_zero_turns_the_cache_off(seed_env):
    seed_env["CONFIGS_CACHE_TTL"] = "0"
    assert Settings.from_env(seed_env).cache_ttl == 0


@pytest.mark.parametrize(
    ("url", "port", "expected"),
    [
        ("http://127.0.0.1/", "8002", "http://127.0.0.1:8002"),
        ("http://registry:9000", "8002", "http://registry:9000"),
        ("https://reg.example", "", "https://reg.example"),
    ],
)
def test_registry_url_is_joined_robustly(seed_env, url, port, expected):
    seed_env.update(REGISTRY_URL=url, REGISTRY_PORT=port)
    assert Settings.from_env(seed_env).registry_url == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REGISTRY_URL", ""),
        ("REGISTRY_URL", "127.0.0.1"),
        ("ACCESS_TOKEN_PUBLIC_KEY", ""),
        ("ACCESS_TOKEN_PUBLIC_KEY", "not a key"),
        ("JWT_ALGORITHM", ""),
        ("JWT_ALGORITHM", "HS256"),
        ("JWT_ALGORITHM", "none"),
        ("ALLOWED_HOSTS", ""),
        ("DEBUG", "False-ish"),
        ("CONFIGS_CACHE_TTL", "soon"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_it(seed_env, name, value):
    seed_env[name] = value
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(seed_env)


def test_an_unparsable_key_stops_create_app(seed_env):
    seed_env["ACCESS_TOKEN_PUBLIC_KEY"] = (
        "-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----"
    )
    settings = Settings.from_env(seed_env)
    with pytest.raises(ConfigError, match="ACCESS_TOKEN_PUBLIC_KEY"):
        create_app(settings)


def test_read_query_covers_account_and_project_level_active_rows():
    assert list_params("P", "A", ["a", "b"]) == {
        "project_id": "P",
        "account_id": "A,null",
        "object_type": "a,b",
        "meta_status": "active",
    }
    assert list_params("P", None, None) == {
        "project_id": "P",
        "account_id": "null",
        "meta_status": "active",
    }


def test_write_lookups_stay_at_one_level():
    assert list_params("P", "A", ["a"], with_project_level=False)["account_id"] == "A"
    assert "meta_status" not in list_params("P", None, ["a"], active_only=False)


def test_the_override_role_is_read(seed_env):
    assert Settings.from_env(seed_env).override_role == "configs:override"
    changed = Settings.from_env({**seed_env, "CONFIGS_OVERRIDE_ROLE": "ops:force"})
    assert changed.override_role == "ops:force"
