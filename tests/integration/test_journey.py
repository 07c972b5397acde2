"""The user journey of `step-platform demo --check`, through nginx, against the test chain."""

from __future__ import annotations

import pytest

from step_platform.devstack.journey import Target, report, run_journey
from step_platform.devstack.simulators import RaidaAdmin
from step_platform.devstack.stack import Stack

pytestmark = pytest.mark.integration


def target(chain: Stack, raida: RaidaAdmin) -> Target:
    return Target(
        edge_url=chain.edge_url,
        step_host=chain.config.step_host,
        configs_host=chain.config.configs_host,
        project_id=chain.config.project_id,
        raida=raida,
        token_for=chain.token,
    )


def test_a_new_user_joins_solves_quits_and_finds_the_contest_in_history(
    chain: Stack, raida: RaidaAdmin
) -> None:
    results = run_journey(target(chain, raida))
    passed, lines = report(results)
    assert passed, "\n" + lines
    assert [r.name for r in results][-1] == "see it in my history, with the file"


def test_the_journey_leaves_no_contest_of_its_own_active(
    chain: Stack, raida: RaidaAdmin, edge, token: str
) -> None:
    run_journey(target(chain, raida))
    with edge.step(token) as client:
        active = client.get("/contests/active/").json()["data"]
    assert not [c for c in active if str(c.get("title", "")).startswith("Check ")]
