"""Step registers itself as a config consumer at start-up; through nginx, a config write that
would break it is refused and step keeps serving the project."""

from __future__ import annotations

import time
import uuid

import pytest

from step_platform.configs.app import DEFAULT_WRITE_ROLE
from step_platform.contests.config_format import type_schemas
from step_platform.devstack.configs_loader import load_config_set
from step_platform.devstack.stack import Stack
from step_platform.seed import seed_config_set

from .conftest import Edge

pytestmark = pytest.mark.integration


def registered(edge: Edge, token: str, timeout: float = 20.0) -> list[dict]:
    """The consumers, once step is among them (its registration runs in the background)."""
    deadline = time.monotonic() + timeout
    with edge.configs(token) as client:
        while True:
            consumers = client.get("/configs/_consumers/").json()["consumers"]
            if any(c["name"] == "step" for c in consumers) or time.monotonic() > deadline:
                return consumers
            time.sleep(0.2)


def test_step_registered_its_schemas_with_the_configs_service(edge: Edge, token: str) -> None:
    (step,) = [c for c in registered(edge, token) if c["name"] == "step"]
    assert step["schemas"] == type_schemas()


def test_a_breaking_write_through_nginx_is_422_and_step_keeps_serving(
    chain: Stack, edge: Edge, token: str, user_id: str
) -> None:
    registered(edge, token)
    project = str(uuid.uuid4())
    load_config_set(seed_config_set(), project_id=project, registry_url=chain.url("registry"))
    writer = chain.token(user_id, roles=(DEFAULT_WRITE_ROLE,))
    with edge.configs(writer, project) as client:
        refused = client.put("/configs/task_status_id/", json={"data": {"new": "x"}})
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"]["violations"] == [
        {
            "consumer": "step",
            "type": "task_status_id",
            "paths": [
                "task_status_id.new",
                "task_status_id.approved",
                "task_status_id.completed",
                "task_status_id.rejection",
            ],
        }
    ]
    with edge.step(token, project) as client:
        assert client.get("/contests/user/my/tasks/").status_code == 200
