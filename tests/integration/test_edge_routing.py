"""nginx as section 7 of the seed sets it up: Host-based routing, request ids, body limits."""

from __future__ import annotations

import re
import uuid

import pytest

from step_platform.devstack.stack import Stack

from .conftest import UPLOAD_LIMIT, Edge

pytestmark = pytest.mark.integration


def served_by(response) -> str:
    return response.headers.get("x-served-by", "").split("/")[0]


@pytest.mark.parametrize("host", ["cfg.step.localhost", "api.cfg.step.localhost"])
def test_cfg_hosts_reach_the_configs_service(edge: Edge, host: str) -> None:
    with edge.client(host) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert served_by(response) == "configs"


@pytest.mark.parametrize("host", ["step.localhost", "api.step.localhost", "step.localhost:8000"])
def test_step_hosts_reach_step(edge: Edge, host: str) -> None:
    with edge.client(host) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert served_by(response) == "step"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_any_other_host_reaches_step_the_default_server(edge: Edge, host: str) -> None:
    with edge.client(host) as client:
        response = client.get("/healthz")
    assert served_by(response) == "step"


def test_a_host_step_does_not_allow_is_refused_by_step(edge: Edge, token: str) -> None:
    with edge.client("evil.example", Authorization=f"Bearer {token}") as client:
        response = client.get("/contests/active/")
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "DISALLOWED_HOST"
    assert served_by(response) == "step"


def test_configs_routes_are_not_reachable_on_the_step_host(edge: Edge, token: str) -> None:
    with edge.step(token) as client:
        response = client.get("/configs/node_id/")
    assert response.status_code == 404
    assert served_by(response) == "step"


def test_the_clients_request_id_is_passed_through(edge: Edge) -> None:
    with edge.step() as client:
        response = client.get("/healthz", headers={"X-Request-ID": "journey-42"})
    assert response.headers["x-request-id"] == "journey-42"


def test_nginx_makes_a_request_id_when_the_client_sent_none(edge: Edge) -> None:
    with edge.configs() as client:
        first = client.get("/healthz").headers["x-request-id"]
        second = client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)  # nginx's $request_id
    assert first != second


def test_the_request_id_follows_the_request_from_nginx_to_the_configs_service(
    chain: Stack, edge: Edge, token: str
) -> None:
    rid = f"rid-{uuid.uuid4().hex}"
    with edge.step(token) as client:
        response = client.get("/contests/active/", headers={"X-Request-ID": rid})
    assert response.status_code == 200
    step_lines = [line for line in chain.service_log("step") if rid in line]
    configs_lines = [line for line in chain.service_log("configs") if rid in line]
    assert step_lines and configs_lines


def test_an_upload_over_the_edge_limit_is_refused_by_nginx_in_the_envelope(
    edge: Edge, token: str
) -> None:
    too_big = b"x" * (UPLOAD_LIMIT + 2 * 1024 * 1024)
    with edge.step(token) as client:
        response = client.post(
            "/contests/user/my/task/send_solution",
            data={"task_id": "0b5e0d3c-5c55-4d5e-9a3c-3d6c7b3c8a11"},
            files={"solution_file": ("big.bin", too_big)},
        )
    assert response.status_code == 413
    assert response.json()["detail"]["code"] == "PAYLOAD_TOO_LARGE"
    assert response.headers["x-served-by"] == "edge/nginx"


def test_an_upload_just_over_the_services_limit_is_refused_by_step(edge: Edge, token: str) -> None:
    over = b"x" * (UPLOAD_LIMIT + 1024)
    with edge.step(token) as client:
        response = client.post(
            "/contests/user/my/task/send_solution",
            data={"task_id": "0b5e0d3c-5c55-4d5e-9a3c-3d6c7b3c8a11"},
            files={"solution_file": ("big.bin", over)},
        )
    assert response.status_code == 413
    assert response.json()["detail"]["code"] == "PAYLOAD_TOO_LARGE"
    assert served_by(response) == "step"


def test_both_step_instances_serve_behind_the_upstream(chain: Stack, edge: Edge) -> None:
    assert len(chain.ports.step) == 2
    with edge.step() as client:
        seen = {client.get("/healthz").headers["x-served-by"] for _ in range(12)}
    assert len(seen) == 2  # step/step-1 and step/step-2 locally; two replicas in compose
    assert all(name.startswith("step/") for name in seen)
