"""A project whose config set is incomplete: step answers SERVICE_ERROR through nginx; an
unknown project is 404 PROJECT_NOT_FOUND."""

from __future__ import annotations

import uuid

import pytest

from step_platform.devstack.configs_loader import load_config_set
from step_platform.devstack.stack import Stack
from step_platform.seed import seed_config_set

from .conftest import Edge

pytestmark = pytest.mark.integration

FORMAT_MESSAGE = "Неправильный формат конфигураций для проекта"


@pytest.fixture
def incomplete_project(chain: Stack) -> str:
    """A new project with the seed's set less `contest_status_id`."""
    project = str(uuid.uuid4())
    config_set = seed_config_set()
    del config_set["contest_status_id"]
    load_config_set(config_set, project_id=project, registry_url=chain.url("registry"))
    return project


def test_a_route_reading_the_missing_type_is_a_service_error(
    edge: Edge, token: str, incomplete_project: str
) -> None:
    with edge.step(token, incomplete_project) as client:
        response = client.get("/contests/active/")
    assert response.status_code == 500
    detail = response.json()["detail"]
    assert (detail["code"], detail["message"]) == ("SERVICE_ERROR", FORMAT_MESSAGE)
    assert response.headers["x-served-by"].startswith("step/")


def test_a_route_not_reading_the_missing_type_still_works(
    edge: Edge, token: str, incomplete_project: str
) -> None:
    # route 4 reads node_id, task_process_id and task_status_id only
    contest = str(uuid.uuid4())
    with edge.step(token, incomplete_project) as client:
        response = client.get(f"/contests/{contest}/task/")
    assert response.status_code == 200
    assert response.json()["data"] == []


def test_an_unknown_project_is_404_naming_the_project(edge: Edge, token: str) -> None:
    project_id = str(uuid.uuid4())
    with edge.step(token, project_id) as client:
        response = client.get("/contests/active/")
    assert response.status_code == 404
    assert response.json()["detail"]["code"] == "PROJECT_NOT_FOUND"
    assert project_id in response.json()["detail"]["message"]


def test_configs_load_replaces_a_broken_set(
    chain: Stack, edge: Edge, token: str, incomplete_project: str
) -> None:
    loaded = load_config_set(
        seed_config_set(), project_id=incomplete_project, registry_url=chain.url("registry")
    )
    assert sorted(loaded) == sorted(seed_config_set())
    with edge.configs(token, incomplete_project) as client:
        body = client.get(f"/configs/{','.join(loaded)}/").json()
    assert body["data"] == seed_config_set()


def test_the_cli_loads_the_seeds_section_8_block_as_printed(
    chain: Stack, edge: Edge, token: str
) -> None:
    import subprocess
    import sys
    from pathlib import Path

    block = Path(__file__).parents[2] / "deploy" / "configs" / "seed-section-8.txt"
    project = str(uuid.uuid4())
    result = subprocess.run(
        [sys.executable, "-m", "step_platform.cli", "configs", "load", str(block),
         "--project-id", project, "--registry-url", chain.url("registry")],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("loaded 5 config types")
    with edge.step(token, project) as client:
        assert client.get("/contests/active/").status_code == 200
