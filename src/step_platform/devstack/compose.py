"""`deploy/docker-compose.yml` driven as an operator would: up, wait until healthy, down.

Compose v2 (`docker compose`) where present, else Debian's `docker-compose` 1.29 (v1), which
has no `up --wait`: `up -d`, then the health of every container is polled here. A service
that exits or turns unhealthy fails `up()` with `ComposeError` ending in its last log lines.
Each project has a name of its own and its ports come from an env file, so a test's stack
runs beside a demo; `down()` removes its containers and volumes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .waiting import NotYet, wait_until

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
LOG_TAIL = 15


class ComposeError(RuntimeError):
    """Compose failed, or a service did not become healthy; the message says which."""


def compose_command() -> list[str]:
    """`docker compose` (v2) when the plugin answers, else `docker-compose` (v1)."""
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=30, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy:
        return [legacy]
    raise ComposeError(
        "neither `docker compose` nor `docker-compose` is installed "
        "(Debian: apt-get install docker-compose)"
    )


class ComposeProject:
    """One project of `deploy/docker-compose.yml` with its own name and variables."""

    def __init__(
        self, variables: Mapping[str, object], *, project: str | None = None, timeout: float = 240
    ) -> None:
        self.project = project or f"step-test-{uuid.uuid4().hex[:8]}"
        self.timeout = timeout
        self.command = compose_command()
        env_file = Path(tempfile.mkstemp(prefix="step-compose-", suffix=".env")[1])
        env_file.write_text("".join(f"{k}={v}\n" for k, v in variables.items()))
        self.env_file = env_file

    def _argv(self, *args: str) -> list[str]:
        return [*self.command, "-p", self.project, "--env-file", str(self.env_file),
                "-f", str(COMPOSE_FILE), *args]  # fmt: skip

    def run(self, *args: str, timeout: float | None = None) -> str:
        result = subprocess.run(
            self._argv(*args), capture_output=True, text=True,
            timeout=timeout or self.timeout, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-LOG_TAIL:])
            raise ComposeError(f"`compose {' '.join(args)}` failed:\n{tail}")
        return result.stdout

    def up(self) -> None:
        """Start every service and wait until each is healthy (or, for a job, done)."""
        self.run("up", "-d", "--no-build")
        self.wait_healthy()

    def container_ids(self) -> list[str]:
        return self.run("ps", "-a", "-q").split()

    def _states(self) -> list[dict[str, Any]]:
        ids = self.container_ids()
        if not ids:
            return []
        out = subprocess.run(
            ["docker", "inspect", *ids], capture_output=True, text=True, timeout=60, check=True
        ).stdout
        states: list[dict[str, Any]] = json.loads(out)
        return states

    def wait_healthy(self) -> None:
        wait_until(
            self._all_healthy,
            deadline=time.monotonic() + self.timeout,
            interval=1.0,
            timed_out=self._not_healthy,
        )

    def _all_healthy(self) -> None:
        """Every service healthy or running (a one-shot job done); an exited or unhealthy one
        ends the wait with its log; else `NotYet` naming the pending services."""
        pending: list[str] = []
        for info in self._states():
            service = info["Config"]["Labels"].get("com.docker.compose.service", info["Name"])
            state = info["State"]
            health = (state.get("Health") or {}).get("Status")
            if state["Status"] == "exited":
                if state.get("ExitCode") == 0 and health is None:
                    continue  # a one-shot job (configs-load) that finished
                raise ComposeError(
                    f"service {service} exited (code {state.get('ExitCode')}); "
                    f"its log ends with:\n{self.log_tail(service)}"
                )
            if health == "unhealthy":
                raise ComposeError(
                    f"service {service} is unhealthy; its log ends with:\n" + self.log_tail(service)
                )
            if health not in (None, "healthy") or state["Status"] != "running":
                pending.append(service)
        if not pending and self.container_ids():
            return
        raise NotYet(", ".join(sorted(set(pending))))

    def _not_healthy(self, pending: str) -> ComposeError:
        if not pending:
            return ComposeError(f"no containers in {self.timeout:.0f} s")
        first = pending.split(", ")[0]
        return ComposeError(
            f"not healthy in {self.timeout:.0f} s: {pending}; "
            f"the log of {first} ends with:\n{self.log_tail(first)}"
        )

    def log_tail(self, service: str, lines: int = LOG_TAIL) -> str:
        try:
            return self.run("logs", "--no-color", "--tail", str(lines), service, timeout=60)
        except (ComposeError, subprocess.TimeoutExpired) as exc:
            return f"(log unavailable: {exc})"

    def down(self) -> None:
        """Remove the project's containers, networks and volumes."""
        try:
            self.run("down", "-v", "--remove-orphans")
        finally:
            self.env_file.unlink(missing_ok=True)

    def __enter__(self) -> ComposeProject:
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()
