from __future__ import annotations

import pytest

from step_platform.core import settings as s
from step_platform.core.app import CommonSettings
from step_platform.core.ids import canonical_uuid


@pytest.mark.parametrize("raw", ["1", "true", "True", "YES", "on"])
def test_debug_true_spellings(raw: str) -> None:
    assert s.boolean({"DEBUG": raw}, "DEBUG") is True


@pytest.mark.parametrize("raw", ["", "0", "false", "False", "no", "OFF"])
def test_debug_false_spellings(raw: str) -> None:
    assert s.boolean({"DEBUG": raw}, "DEBUG") is False


def test_debug_garbage_stops_start_up_naming_the_variable() -> None:
    with pytest.raises(s.ConfigError, match="DEBUG"):
        s.boolean({"DEBUG": "maybe"}, "DEBUG")


def test_missing_required_setting_names_it() -> None:
    with pytest.raises(s.ConfigError, match=r"^BASE_URL is not set"):
        s.required({}, "BASE_URL")


def test_comma_host_list_of_the_registry() -> None:
    assert s.word_list({"H": "127.0.0.1,cfg.step.skroy.ru"}, "H", sep=",") == (
        "127.0.0.1",
        "cfg.step.skroy.ru",
    )


def test_space_host_list_of_step() -> None:
    env = {"H": "api.step.skroy.ru 127.0.0.1  step.skroy.ru"}
    assert s.word_list(env, "H", sep=None) == ("api.step.skroy.ru", "127.0.0.1", "step.skroy.ru")


def test_public_key_with_literal_backslash_n_becomes_pem() -> None:
    raw = "-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----"
    assert s.public_key({"ACCESS_TOKEN_PUBLIC_KEY": raw}) == (
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
    )


def test_public_key_that_is_not_pem_is_refused() -> None:
    with pytest.raises(s.ConfigError, match="ACCESS_TOKEN_PUBLIC_KEY"):
        s.public_key({"ACCESS_TOKEN_PUBLIC_KEY": "public_key"})


@pytest.mark.parametrize(
    ("base", "port", "expected"),
    [
        ("http://127.0.0.1", "8002", "http://127.0.0.1:8002"),
        ("http://127.0.0.1/", "8002", "http://127.0.0.1:8002"),
        ("http://127.0.0.1:9000", "8002", "http://127.0.0.1:9000"),
        ("https://cfg.step.skroy.ru/", None, "https://cfg.step.skroy.ru"),
        ("http://[::1]", "8002", "http://[::1]:8002"),
    ],
)
def test_join_url(base: str, port: str | None, expected: str) -> None:
    assert s.join_url(base, port) == expected


@pytest.mark.parametrize(
    ("host", "allowed", "ok"),
    [
        ("127.0.0.1:8000", ("127.0.0.1",), True),
        ("api.step.localhost", (".step.localhost",), True),
        ("step.localhost", (".step.localhost",), True),
        ("evilstep.localhost", (".step.localhost",), False),
        ("anything", ("*",), True),
        ("EXAMPLE.com", ("example.com",), True),
        ("other.com", ("example.com",), False),
        ("[::1]:8000", ("[::1]",), True),
    ],
)
def test_allowed_hosts_match_like_django(host: str, allowed: tuple[str, ...], ok: bool) -> None:
    assert s.host_allowed(host, allowed) is ok


def test_common_settings_require_the_hosts_variable() -> None:
    with pytest.raises(s.ConfigError, match="ALLOWED_HOSTS"):
        CommonSettings.from_env({}, hosts_var="ALLOWED_HOSTS", sep=",")


def test_common_settings_read_timeouts_and_body_limit() -> None:
    env = {
        "ALLOWED_HOSTS": "a,b",
        "UPSTREAM_TIMEOUT": "3.5",
        "UPSTREAM_CONNECT_TIMEOUT": "1",
        "LIMIT": "100",
        "INSTANCE_ID": "one",
    }
    common = CommonSettings.from_env(env, hosts_var="ALLOWED_HOSTS", sep=",", max_body_var="LIMIT")
    assert common.allowed_hosts == ("a", "b")
    assert (common.timeout, common.connect_timeout) == (3.5, 1.0)
    assert common.max_body_bytes == 100
    assert common.instance_id == "one"


def test_non_numeric_timeout_is_refused() -> None:
    with pytest.raises(s.ConfigError, match="UPSTREAM_TIMEOUT"):
        CommonSettings.from_env({"H": "a", "UPSTREAM_TIMEOUT": "soon"}, hosts_var="H", sep=",")


@pytest.mark.parametrize(
    "raw",
    [
        "E3EB60A2-3BB7-4983-8E2F-47490B979EB9",
        "e3eb60a23bb749838e2f47490b979eb9",
        "{e3eb60a2-3bb7-4983-8e2f-47490b979eb9}",
        "urn:uuid:e3eb60a2-3bb7-4983-8e2f-47490b979eb9",
    ],
)
def test_canonical_uuid_reads_every_spelling(raw: str) -> None:
    assert canonical_uuid(raw) == "e3eb60a2-3bb7-4983-8e2f-47490b979eb9"


@pytest.mark.parametrize("raw", ["", "nope", "e3eb60a2", None, 42, ["x"]])
def test_canonical_uuid_is_none_for_anything_else(raw: object) -> None:
    assert canonical_uuid(raw) is None
