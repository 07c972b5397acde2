"""Where the integration tests run the chain: containers from `deploy/` or local processes.

Containers (testcontainers + `deploy/docker-compose.yml`) when a Docker daemon answers; local
processes (`stack.Stack`) otherwise. `STEP_STACK_BACKEND=local|docker` forces a choice. The
choice and its reason are printed by the tests, never made silently.
"""

from __future__ import annotations

from collections.abc import Mapping

from .postgres import docker_available

BACKENDS = ("local", "docker")


def choose_backend(env: Mapping[str, str]) -> tuple[str, str]:
    """(backend, reason)."""
    forced = env.get("STEP_STACK_BACKEND", "").strip().lower()
    if forced:
        if forced not in BACKENDS:
            raise ValueError(f"STEP_STACK_BACKEND={forced!r}: use one of {', '.join(BACKENDS)}")
        return forced, "forced by STEP_STACK_BACKEND"
    if docker_available(env):
        return "docker", "a Docker daemon answers: containers from deploy/"
    return "local", "no Docker daemon answers: local processes"
