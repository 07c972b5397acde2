"""Project-ID / Account-ID: malformed is 400 INVALID_HEADER naming the header."""

from __future__ import annotations

import pytest

from .conftest import A, P

pytestmark = pytest.mark.anyio


def assert_invalid_header(response, *names: str) -> None:
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert detail["code"] == "INVALID_HEADER"
    assert isinstance(detail["message"], str)
    assert sorted(detail["fields"]) == sorted(names)


async def test_a_missing_project_id_is_400(configs_client, bearer, registry_calls):
    response = await configs_client.get("/configs/", headers=await bearer())
    assert_invalid_header(response, "Project-ID")
    assert registry_calls == []


async def test_an_empty_project_id_is_missing(configs_client, bearer):
    response = await configs_client.get("/configs/", headers={**await bearer(), "Project-ID": ""})
    assert_invalid_header(response, "Project-ID")


@pytest.mark.parametrize("value", ["nope", "1234", P + "0", "e3eb60a2-3bb7-4983-8e2f"])
async def test_a_malformed_project_id_is_400(configs_client, bearer, registry_calls, value):
    response = await configs_client.get(
        "/configs/node_id/", headers={**await bearer(), "Project-ID": value}
    )
    assert_invalid_header(response, "Project-ID")
    assert response.json()["detail"]["fields"]["Project-ID"] == ["Must be a valid UUID."]
    assert registry_calls == []


async def test_a_malformed_account_id_is_400(configs_client, reader, registry_calls):
    response = await configs_client.get("/configs/", headers={**reader, "Account-ID": "x"})
    assert_invalid_header(response, "Account-ID")
    assert registry_calls == []


async def test_both_bad_headers_are_named_together(configs_client, bearer):
    headers = {**await bearer(), "Project-ID": "x", "Account-ID": "y"}
    response = await configs_client.get("/configs/", headers=headers)
    assert_invalid_header(response, "Project-ID", "Account-ID")


async def test_headers_are_checked_on_writes_too(configs_client, writer, registry_calls):
    body = {"project_id": P, "object_type": "a", "data": 1}
    response = await configs_client.post(
        "/configs/", json=body, headers={**writer, "Account-ID": "x"}
    )
    assert_invalid_header(response, "Account-ID")
    assert registry_calls == []


async def test_an_empty_account_id_is_400_not_absent(configs_client, reader, registry_calls):
    response = await configs_client.get("/configs/node_id/", headers={**reader, "Account-ID": ""})
    assert_invalid_header(response, "Account-ID")
    assert registry_calls == []


@pytest.mark.parametrize(
    "spelling",
    [P.upper(), P.replace("-", ""), "{" + P + "}", "urn:uuid:" + P],
)
async def test_any_uuid_spelling_is_accepted_and_sent_canonical(
    configs_client, bearer, load_configs, registry_calls, spelling
):
    await load_configs(P, {"node_id": "x"})
    response = await configs_client.get(
        "/configs/node_id/", headers={**await bearer(), "Project-ID": spelling}
    )
    assert response.status_code == 200, response.text
    assert registry_calls[0].url.params["project_id"] == P


async def test_account_id_is_sent_canonical_with_the_project_level(
    configs_client, reader, load_configs, registry_calls
):
    await load_configs(P, {"node_id": "x"})
    response = await configs_client.get(
        "/configs/node_id/", headers={**reader, "Account-ID": A.upper()}
    )
    assert response.status_code == 200, response.text
    assert registry_calls[0].url.params["account_id"] == f"{A},null"
