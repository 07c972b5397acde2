"""`deploy/docker-compose.yml` itself, brought up once as an operator would, then down.

With the compose command that is present (`docker compose` v2, else Debian's
`docker-compose` 1.29), on free host ports, under a project name of its own; the seed's Host
routing is checked through its nginx, and `down -v` removes containers and volumes.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import httpx
import pytest

from step_platform.devstack.compose import ComposeProject
from step_platform.devstack.ports import PortMap


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[ComposeProject, PortMap]]:
    ports = PortMap.free()
    project = ComposeProject(
        {
            "NGINX_HOST_PORT": ports.nginx,
            "REGISTRY_HOST_PORT": ports.registry,
            "RAIDA_HOST_PORT": ports.raida,
            "USER_CENTER_HOST_PORT": ports.user_center,
        }
    )
    with project:
        yield project, ports


def edge_get(ports: PortMap, host: str, path: str = "/healthz") -> httpx.Response:
    url = f"http://127.0.0.1:{ports.nginx}{path}"
    return httpx.get(url, headers={"Host": host}, timeout=10.0, trust_env=False)


@pytest.mark.parametrize(
    ("host", "service"),
    [
        ("step.localhost", "step"),
        ("api.step.localhost", "step"),
        ("cfg.step.localhost", "configs"),
        ("api.cfg.step.localhost", "configs"),
    ],
)
def test_the_compose_edge_routes_by_host(deployed, host: str, service: str) -> None:
    _, ports = deployed
    response = edge_get(ports, host)
    assert response.status_code == 200
    assert response.headers["x-served-by"].split("/")[0] == service


def test_the_compose_stack_loaded_the_seed_config_set(deployed) -> None:
    _, ports = deployed
    token = httpx.post(
        f"http://127.0.0.1:{ports.user_center}/api/token",
        json={"user_id": "7d5c2a3e-1b1f-4c8e-9a57-0d4b6f2e9c11"},
        trust_env=False,
    ).json()["access_token"]
    response = httpx.get(
        f"http://127.0.0.1:{ports.nginx}/configs/node_id/",
        headers={
            "Host": "cfg.step.localhost",
            "Authorization": f"Bearer {token}",
            "Project-ID": "e3eb60a2-3bb7-4983-8e2f-47490b979eb9",
        },
        trust_env=False,
    )
    assert response.status_code == 200


def test_every_service_of_the_compose_file_is_running_healthy(deployed) -> None:
    project, _ = deployed
    states = {
        info["Config"]["Labels"]["com.docker.compose.service"]: info for info in project._states()
    }
    assert set(states) == {
        "postgres", "registry", "user-center-mock", "raida-mock", "configs", "step",
        "configs-load", "nginx",
    }  # fmt: skip
    for name, info in states.items():
        if name == "configs-load":
            assert info["State"]["ExitCode"] == 0
        else:
            assert info["State"]["Health"]["Status"] == "healthy", name


def test_down_removes_the_containers_and_volumes() -> None:
    ports = PortMap.free()
    project = ComposeProject({"NGINX_HOST_PORT": ports.nginx, "REGISTRY_HOST_PORT": ports.registry,
                              "RAIDA_HOST_PORT": ports.raida,
                              "USER_CENTER_HOST_PORT": ports.user_center})  # fmt: skip
    project.run("up", "-d", "--no-build", "postgres")
    project.wait_healthy()
    assert project.container_ids()
    project.down()
    label = f"label=com.docker.compose.project={project.project}"
    leftovers = subprocess.run(
        ["docker", "volume", "ls", "-q", "--filter", label],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    containers = subprocess.run(
        ["docker", "ps", "-aq", "--filter", label], capture_output=True, text=True, check=True
    ).stdout.split()
    assert (leftovers, containers) == ([], [])
