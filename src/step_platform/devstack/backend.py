"""Where the integration tests run the chain: containers from `deploy/` or local processes.

Containers (testcontainers + `deploy/docker-compose.yml`) when a Docker daemon answers and the
`docker compose` plugin is there; local processes (`stack.Stack`) otherwise.
`STEP_STACK_BACKEND=local|docker` forces a choice. The choice and its reason are printed by
the tests, never made silently.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping

from .postgres import docker_available

BACKENDS = ("local", "docker")


def compose_available() -> bool:
    """`docker compose version` works (a daemon alone cannot run `deploy/`)."""
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        result = subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def choose_backend(
    env: Mapping[str, str], has_compose: Callable[[], bool] = compose_available
) -> tuple[str, str]:
    """(backend, reason)."""
    forced = env.get("STEP_STACK_BACKEND", "").strip().lower()
    if forced:
        if forced not in BACKENDS:
            raise ValueError(f"STEP_STACK_BACKEND={forced!r}: use one of {', '.join(BACKENDS)}")
        return forced, "forced by STEP_STACK_BACKEND"
    if not docker_available(env):
        return "local", "no Docker daemon answers: local processes"
    if not has_compose():
        return "local", "a Docker daemon answers but `docker compose` is missing: local processes"
    return "docker", "a Docker daemon answers: containers from deploy/"
