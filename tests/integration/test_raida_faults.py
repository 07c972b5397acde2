"""Raida failing or slow (raida-mock faults): step's envelope reaches the client through nginx."""

from __future__ import annotations

import pytest

from step_platform.devstack.simulators import RaidaAdmin

from .conftest import UPSTREAM_TIMEOUT, Edge

pytestmark = pytest.mark.integration

SEARCH = "/api/tasks/rql/"


def active_contests(edge: Edge, token: str):
    with edge.step(token) as client:
        return client.get("/contests/active/")


def expect_upstream_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    detail = response.json()["detail"]
    assert (detail["code"], detail["upstream"]) == (code, "raida")
    assert response.headers["x-served-by"].startswith("step/")  # step's answer, not nginx's


def test_raida_answering_500_is_a_502_at_the_edge(
    edge: Edge, token: str, raida: RaidaAdmin
) -> None:
    raida.set_faults(route=SEARCH, error_rate=1.0, error_status=500)
    expect_upstream_error(active_contests(edge, token), 502, "UPSTREAM_ERROR")


def test_raida_slower_than_the_upstream_timeout_is_a_504_at_the_edge(
    edge: Edge, token: str, raida: RaidaAdmin
) -> None:
    raida.set_faults(route=SEARCH, latency_ms=(UPSTREAM_TIMEOUT + 1.5) * 1000)
    expect_upstream_error(active_contests(edge, token), 504, "UPSTREAM_TIMEOUT")


def test_raida_dropping_connections_is_a_503_at_the_edge(
    edge: Edge, token: str, raida: RaidaAdmin
) -> None:
    raida.set_faults(route=SEARCH, drop_next=10)
    expect_upstream_error(active_contests(edge, token), 503, "UPSTREAM_UNAVAILABLE")


def test_the_chain_recovers_when_raida_does(edge: Edge, token: str, raida: RaidaAdmin) -> None:
    raida.set_faults(route=SEARCH, error_rate=1.0, error_status=503)
    assert active_contests(edge, token).status_code == 502
    raida.clear_faults()
    assert active_contests(edge, token).status_code == 200
