"""Shared bits of the simulators' contract tests: seed ids and an authorised header."""

from __future__ import annotations

import httpx
import pytest

from step_platform.seed import seed_config_set

CONFIG = seed_config_set()
NODE = CONFIG["node_id"]["value"]
CONTEST_PROCESS = CONFIG["contest_process_id"]["value"]
TASK_PROCESS = CONFIG["task_process_id"]["value"]
CS = CONFIG["contest_status_id"]
TS = CONFIG["task_status_id"]
UNKNOWN = "00000000-0000-4000-8000-000000000000"
CREDENTIALS = {"username": "raida@raida.com", "password": "raida"}


@pytest.fixture
async def auth(raida_client: httpx.AsyncClient) -> dict[str, str]:
    """A bearer header obtained from the token endpoint, with the journal cleared after."""
    response = await raida_client.post("/api/users/token/", data=CREDENTIALS)
    assert response.status_code == 200
    await raida_client.delete("/__admin/journal")
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
