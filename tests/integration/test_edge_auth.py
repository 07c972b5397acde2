"""Authentication failures seen at the edge: both services answer 401 with the envelope."""

from __future__ import annotations

import pytest

from step_platform.devstack.simulators import minted_token
from step_platform.devstack.stack import Stack

from .conftest import Edge

pytestmark = pytest.mark.integration

ROUTES = [("step", "/contests/active/"), ("configs", "/configs/node_id/")]


def client_for(edge: Edge, service: str, token: str | None):
    return edge.step(token) if service == "step" else edge.configs(token)


def expect_401(response, code: str, service: str) -> None:
    assert response.status_code == 401
    assert response.json()["detail"]["code"] == code
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["x-served-by"].startswith(f"{service}/")


@pytest.mark.parametrize(("service", "path"), ROUTES)
def test_no_token_is_token_missing(edge: Edge, service: str, path: str) -> None:
    with client_for(edge, service, None) as client:
        expect_401(client.get(path), "TOKEN_MISSING", service)


@pytest.mark.parametrize(("service", "path"), ROUTES)
def test_an_expired_token_is_token_expired(
    chain: Stack, edge: Edge, user_id: str, service: str, path: str
) -> None:
    expired = minted_token(
        chain.url("user-center-mock"), claims={"sub": {"user_id": user_id}}, ttl=-600
    )
    with client_for(edge, service, expired) as client:
        expect_401(client.get(path), "TOKEN_EXPIRED", service)


@pytest.mark.parametrize(("service", "path"), ROUTES)
def test_a_token_signed_by_another_key_is_token_incorrect(
    chain: Stack, edge: Edge, user_id: str, service: str, path: str
) -> None:
    foreign = minted_token(
        chain.url("user-center-mock"), claims={"sub": {"user_id": user_id}}, foreign_key=True
    )
    with client_for(edge, service, foreign) as client:
        expect_401(client.get(path), "TOKEN_INCORRECT", service)


@pytest.mark.parametrize(("service", "path"), ROUTES)
def test_garbage_is_token_incorrect(edge: Edge, service: str, path: str) -> None:
    with client_for(edge, service, "not-a-jwt") as client:
        expect_401(client.get(path), "TOKEN_INCORRECT", service)


@pytest.mark.parametrize(("service", "path"), ROUTES)
def test_a_valid_token_passes(edge: Edge, token: str, service: str, path: str) -> None:
    with client_for(edge, service, token) as client:
        assert client.get(path).status_code == 200


def test_writing_configs_needs_the_write_role(
    chain: Stack, edge: Edge, token: str, user_id: str
) -> None:
    import uuid

    project = str(uuid.uuid4())
    node = {"value": str(uuid.uuid4())}  # a Raida id: step, a registered consumer, reads it
    body = {"project_id": project, "object_type": "node_id", "data": node}
    with edge.configs(token, project) as client:
        refused = client.post("/configs/", json=body)
    writer = chain.token(user_id, roles=("configs:write",))
    with edge.configs(writer, project) as client:
        created = client.post("/configs/", json=body)
        read = client.get("/configs/node_id/")
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "FORBIDDEN"
    assert created.status_code == 201
    assert read.status_code == 200 and read.json()["data"]["node_id"] == node
