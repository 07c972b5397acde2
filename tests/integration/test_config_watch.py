"""A config write reaches every step instance's answers within a second: each instance follows
the configs service's change feed and drops the project's cached config sets (the cache, 5 s
at most, is trusted only while that feed is live)."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from step_platform.devstack.configs_loader import load_config_set
from step_platform.devstack.stack import Stack
from step_platform.seed import seed_config_set

from .conftest import Edge

pytestmark = pytest.mark.integration

WITHIN = 1.0


def wait_for_status(client: httpx.Client, url: str, status: int, limit: float) -> float:
    """Seconds until `url` answers `status` (polling every 20 ms), failing after `limit`."""
    started = time.monotonic()
    while True:
        response = client.get(url)
        if response.status_code == status:
            return time.monotonic() - started
        if time.monotonic() - started > limit:
            raise AssertionError(f"{url} still answers {response.status_code}: {response.text}")
        time.sleep(0.02)


def test_a_config_change_reaches_every_step_instance_within_a_second(
    chain: Stack, edge: Edge, user_id: str
) -> None:
    project = str(uuid.uuid4())
    load_config_set(seed_config_set(), project_id=project, registry_url=chain.url("registry"))
    token = chain.token(user_id)
    headers = {"Authorization": f"Bearer {token}", "Project-ID": project}
    steps = [
        httpx.Client(base_url=chain.url(name), headers=headers, timeout=10, trust_env=False)
        for name in ("step-1", "step-2")
    ]
    try:
        for client in steps:  # each instance now holds the project's set in its cache
            assert client.get("/contests/active/").status_code == 200
        # a change step sees at once: the type goes away (a write that breaks step, so it
        # takes the consumer-contract override)
        writer = chain.token(str(uuid.uuid4()), roles=("configs:write", "configs:override"))
        with edge.configs(writer, project) as configs:
            deleted = configs.delete(
                "/configs/contest_status_id/", headers={"X-Consumer-Override": "watch test"}
            )
            assert deleted.status_code == 200, deleted.text
        changed_at = time.monotonic()
        for client in steps:
            wait_for_status(client, "/contests/active/", 500, limit=WITHIN)
        assert time.monotonic() - changed_at < WITHIN
    finally:
        for client in steps:
            client.close()
