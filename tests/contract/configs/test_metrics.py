"""The configs service's `/metrics`: one registry call per read, counted by outcome."""

from __future__ import annotations

import pytest

from step_platform.seed import seed_config_set
from tests.metrics import value

from .conftest import P

pytestmark = pytest.mark.anyio


async def test_a_read_counts_one_registry_call(
    configs_client, reader, load_configs, registry_calls
) -> None:
    await load_configs(P, seed_config_set())
    assert (await configs_client.get("/configs/node_id/", headers=reader)).status_code == 200
    text = (await configs_client.get("/metrics")).text
    assert len(registry_calls) == 1
    assert value(text, "upstream_requests_total", upstream="registry", outcome="2xx") == 1
    assert value(text, "http_requests_total", route="/configs/{types}", status="200") == 1
