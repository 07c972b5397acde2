"""The chain as containers from `deploy/docker-compose.yml`, driven by testcontainers.

Used by the integration tests instead of `Stack` when a Docker daemon answers (see
`backend.py`). It offers the part of `Stack`'s interface the tests use: addresses, tokens,
stopping and starting one service, logs. Ports are the free ones of the test's `PortMap`,
passed to compose through an env file, with a project name of its own, so two stacks (and a
demo) can run side by side. Settings a test tunes (upstream timeout, upload limit) reach the
containers the same way.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

import httpx

from .nginx import Site
from .processes import StartError
from .stack import Addresses, StackConfig

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


class ComposeStack(Addresses):
    published = frozenset({"registry", "raida-mock", "user-center-mock"})

    def __init__(self, config: StackConfig) -> None:
        from testcontainers.compose import DockerCompose

        self.config = config
        self.project = f"step-test-{uuid.uuid4().hex[:8]}"
        site = Site(
            max_upload_bytes=config.max_upload_bytes, upstream_timeout=config.upstream_timeout
        )
        p = config.ports
        values = {
            "COMPOSE_PROJECT_NAME": self.project,
            "STEP_DOMAIN": config.domain,
            "NGINX_HOST_PORT": p.nginx,
            "REGISTRY_HOST_PORT": p.registry,
            "RAIDA_HOST_PORT": p.raida,
            "USER_CENTER_HOST_PORT": p.user_center,
            "STEP_REPLICAS": len(p.step),
            "UPSTREAM_TIMEOUT": config.upstream_timeout,
            "STEP_MAX_UPLOAD_BYTES": config.max_upload_bytes,
            "NGINX_CLIENT_MAX_BODY_SIZE": site.client_max_body_size,
            "NGINX_PROXY_READ_TIMEOUT": site.proxy_read_timeout,
        }
        self._env_file = Path(tempfile.mkstemp(prefix="step-compose-", suffix=".env")[1])
        self._env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        self.compose = DockerCompose(
            context=str(DEPLOY),
            compose_file_name="docker-compose.yml",
            env_file=str(self._env_file),
            build=True,
            wait=True,
        )

    def step_names(self) -> list[str]:
        return ["step"]

    def start(self) -> ComposeStack:
        try:
            self.compose.start()
        except Exception as exc:
            self.stop()
            raise StartError(f"docker compose up failed: {exc}") from exc
        return self

    def stop(self) -> None:
        try:
            self.compose.stop(down=True)
        finally:
            self._env_file.unlink(missing_ok=True)

    def stop_service(self, name: str) -> None:
        self.compose._run_command([*self.compose.compose_command_property, "stop", _service(name)])

    def start_service(self, name: str) -> None:
        service = _service(name)
        self.compose._run_command(
            [*self.compose.compose_command_property, "up", "--wait", "--no-deps", service]
        )
        self._wait_healthy(service)

    def _wait_healthy(self, service: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        probe = self.url("registry") + "/readyz" if service == "registry" else None
        while probe and time.monotonic() < deadline:
            try:
                if httpx.get(probe, timeout=2.0, trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)

    def service_log(self, service: str) -> list[str]:
        out, err = self.compose.get_logs(_service(service))
        return (out + err).splitlines()


def _service(name: str) -> str:
    return "step" if name.startswith("step") else name
