"""Registry settings from the seed's environment names; database URLs, sockets included."""

from __future__ import annotations

import pytest

from step_platform.core.settings import ConfigError
from step_platform.registry.app import Settings
from step_platform.registry.db import connect_kwargs, database_url_from_env, normalise_url

SEED = {
    "DB_NAME": "configs",
    "DB_USER": "configs",
    "DB_PASSWORD": "p@ss:word/1",
    "DB_HOST": "db.internal",
    "DB_PORT": "5433",
    "ALLOWED_HOSTS": "127.0.0.1,.step.skroy.ru",
    "SECRET_KEY": "x",
    "DEBUG": "True",
}


def test_seed_variables_make_the_settings():
    settings = Settings.from_env(SEED)
    assert (
        settings.database_url == "postgresql://configs:p%40ss%3Aword%2F1@db.internal:5433/configs"
    )
    assert settings.common.allowed_hosts == ("127.0.0.1", ".step.skroy.ru")
    assert settings.common.debug is True
    assert settings.pool_size == 10


def test_the_url_round_trips_to_connection_arguments():
    assert connect_kwargs(Settings.from_env(SEED).database_url) == {
        "host": "db.internal",
        "port": 5433,
        "user": "configs",
        "password": "p@ss:word/1",
        "database": "configs",
    }


def test_a_socket_directory_host_gives_a_socket_url():
    url = database_url_from_env({"DB_NAME": "configs", "DB_HOST": "/tmp/pg dir", "DB_PORT": "5432"})
    assert url == "postgresql://postgres@/configs?host=%2Ftmp%2Fpg%20dir&port=5432"
    assert connect_kwargs(url) == {
        "host": "/tmp/pg dir",
        "port": 5432,
        "user": "postgres",
        "database": "configs",
    }


def test_the_pgserver_uri_form_is_understood():
    kwargs = connect_kwargs("postgresql://postgres:@/postgres?host=/tmp/tmpabc")
    assert (kwargs["host"], kwargs["port"], kwargs["database"]) == ("/tmp/tmpabc", 5432, "postgres")


def test_step_database_url_overrides_the_db_variables():
    env = {**SEED, "STEP_DATABASE_URL": "postgres://u@h:1/d"}
    assert Settings.from_env(env).database_url == "postgresql://u@h:1/d"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"DB_NAME": ""}, "DB_NAME"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"DEBUG": "False!"}, "DEBUG"),
        ({"DB_PORT": "abc"}, "DB_PORT"),
        ({"DB_POOL_SIZE": "0"}, "DB_POOL_SIZE"),
        ({"STEP_DATABASE_URL": "mysql://x/y"}, "postgresql"),
    ],
)
def test_bad_settings_stop_start_up_naming_the_variable(change, named):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**SEED, **change})
    assert named in str(caught.value)


def test_normalise_url_accepts_driver_suffixes():
    assert normalise_url("postgresql+asyncpg://u@h/d") == "postgresql://u@h/d"
