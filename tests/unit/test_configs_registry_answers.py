"""What the registry's refusals of a write mean to the configs service's client."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from step_platform.configs.registry_client import RegistryClient
from step_platform.core.errors import ApiError
from step_platform.core.upstream import UpstreamBadResponse


def refused(status: int, detail: dict[str, Any]) -> httpx.Response:
    return httpx.Response(status, json={"detail": detail})


def test_a_unique_clash_is_entity_exists() -> None:
    error = RegistryClient._write_error(
        refused(409, {"code": "ENTITY_EXISTS", "message": "object_code exists"})
    )
    assert (error.status, error.code) == (409, "ENTITY_EXISTS")


@pytest.mark.parametrize("code", ["DATA_NOT_MERGEABLE", "ID_MISMATCH"])
def test_another_conflict_keeps_the_registrys_code_and_message(code: str) -> None:
    error = RegistryClient._write_error(refused(409, {"code": code, "message": "why"}))
    assert isinstance(error, ApiError)
    assert (error.status, error.code, error.message) == (409, code, "why")


def test_field_errors_are_a_bad_request_with_the_fields() -> None:
    error = RegistryClient._write_error(
        refused(400, {"code": "VALIDATION", "message": "bad", "fields": {"data": ["no"]}})
    )
    assert (error.status, error.code, error.message) == (400, "BAD_REQUEST", "bad")
    assert error.extra["fields"] == {"data": ["no"]}


def test_an_unexpected_refusal_is_the_registrys_fault() -> None:
    error = RegistryClient._write_error(refused(418, {"code": "TEAPOT", "message": "?"}))
    assert isinstance(error, UpstreamBadResponse)
