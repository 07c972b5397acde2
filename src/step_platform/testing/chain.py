"""The whole chain in containers (`ChainContainers`), and `start_chain` for either backend.

`ChainContainers` starts Postgres, the registry (which migrates), user-center-mock,
raida-mock, configs, N step instances and nginx on one testcontainers `Network`, wired as
`deploy/docker-compose.yml` wires them, loads the config set and waits for nginx. Every
service is published on the host ports of its `StackConfig` (free ones by default), so it
offers the interface of the local-process `Stack` that tests use: `edge_url`, `url(name)`,
`token(...)`, `stop_service` / `start_service`, `service_log`. Services left out with
`only=` are not started; nginx then finds nothing at their address (502), as with `Stack`.
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import docker.errors
from testcontainers.core.network import Network

from step_platform.devstack.configs_loader import load_config_set
from step_platform.devstack.nginx import Site
from step_platform.devstack.ports import PortMap, free_ports
from step_platform.devstack.simulators import step_service_token
from step_platform.devstack.stack import (
    MIB,
    Addresses,
    Stack,
    StackConfig,
)
from step_platform.seed import seed_config_set

from .containers import (
    ChainContainer,
    NginxContainer,
    PostgresChainContainer,
    RaidaMockContainer,
    ServiceContainer,
    UserCenterMockContainer,
)
from .daemon import NGINX_IMAGE, POSTGRES_IMAGE, SERVICE_IMAGE, daemon_calls, require_images

BACKENDS = ("local", "docker")


class ChainContainers(Addresses):
    """The chain as containers; `with ChainContainers() as chain:` or `start()` / `stop()`."""

    def __init__(
        self,
        config: StackConfig | None = None,
        *,
        image: str = SERVICE_IMAGE,
        postgres_image: str = POSTGRES_IMAGE,
        nginx_image: str = NGINX_IMAGE,
    ) -> None:
        self.config = config or StackConfig(ports=PortMap.free(step_instances=1), database=None)
        self.images = {"service": image, "postgres": postgres_image, "nginx": nginx_image}
        self.containers: dict[str, ChainContainer] = {}
        self.network: Network | None = None
        self._secret = secrets.token_hex(24)
        # step's own identity: with it step registers itself as a config consumer
        self.step_service_token: str | None = None

    # --- wiring (the compose file's, with the test's settings) ----------------------------

    def _common(self, instance: str) -> dict[str, str]:
        return {
            "SECRET_KEY": self._secret,
            "DEBUG": "0",
            "INSTANCE_ID": instance,
            "UPSTREAM_TIMEOUT": str(self.config.upstream_timeout),
        }

    def _service_env(self, name: str) -> dict[str, str]:
        c = self.config
        base = name.split("-")[0] if name.startswith("step") else name
        hosts = (f".{c.domain}", "127.0.0.1", "localhost", base)
        env = self._common(name)
        key_url = "http://user-center-mock:8091/public-key.pem"
        if base == "registry":
            postgres = self.containers["postgres"]
            assert isinstance(postgres, PostgresChainContainer)
            env.update(postgres.env_for_registry())
            env["ALLOWED_HOSTS"] = ",".join(hosts)
        elif base == "configs":
            env.update(
                REGISTRY_URL="http://registry", REGISTRY_PORT="8002",
                ACCESS_TOKEN_PUBLIC_KEY_URL=key_url, JWT_ALGORITHM="RS256",
                ALLOWED_HOSTS=",".join(hosts),
            )  # fmt: skip
        elif base == "step":
            p = c.ports
            env.update(
                BASE_URL="http://raida-mock:8090", USER_RAIDA=c.raida_user,
                PASSWD_RAIDA=c.raida_password, ACCESS_TOKEN_PUBLIC_KEY_URL=key_url,
                JWT_ALGORITHM="RS256", CONFIGS_SERVICE_URL="http://configs:8001/",
                DJANGO_ALLOWED_HOSTS=" ".join(hosts),
                DJANGO_CORS_ALLOWED_ORIGINS=f"http://127.0.0.1:{p.nginx} "
                f"http://{c.domain}:{p.nginx}",
                LANGUAGE_CODE="ru", TIME_ZONE="Europe/Moscow",
                STEP_MAX_UPLOAD_BYTES=str(c.max_upload_bytes), DOCS_PROJECT_ID=c.project_id,
            )  # fmt: skip
            if self.step_service_token:
                env["CONFIGS_SERVICE_TOKEN"] = self.step_service_token
        elif base == "raida-mock":
            env.update(USER_RAIDA=c.raida_user, PASSWD_RAIDA=c.raida_password)
        elif base == "user-center-mock":
            env["USER_CENTER_ISSUER"] = f"http://127.0.0.1:{c.ports.user_center}"
        env.update(c.service_env.get(base, {}))
        env.update(c.service_env.get(name, {}))
        return env

    def _make(self, name: str) -> ChainContainer:
        if name == "postgres":
            return PostgresChainContainer(
                self.images["postgres"], network=self.network, host_port=None,
                ready_timeout=self.config.ready_timeout,
            )  # fmt: skip
        if name == "nginx":
            return self._nginx()
        p, image = self.config.ports, self.images["service"]
        common: dict[str, Any] = {
            "network": self.network,
            "env": self._service_env(name),
            "ready_timeout": self.config.ready_timeout,
        }
        if name == "user-center-mock":
            return UserCenterMockContainer(image, host_port=p.user_center, **common)
        if name == "raida-mock":
            return RaidaMockContainer(
                image, username=self.config.raida_user, password=self.config.raida_password,
                host_port=p.raida, **common,
            )  # fmt: skip
        if name == "registry":
            return ServiceContainer("registry", 8002, image, host_port=p.registry, **common)
        if name == "configs":
            return ServiceContainer("configs", 8001, image, host_port=p.configs, **common)
        index = int(name.split("-")[1]) - 1
        container = ServiceContainer(
            "step", 8080, image, host_port=p.step[index], aliases=("step", name), **common
        )
        container.name_in_chain = name
        return container

    def step_names(self) -> list[str]:
        if not self.config.runs("step"):
            return []
        return [f"step-{i}" for i in range(1, len(self.ports.step) + 1)]

    # --- starting and stopping ------------------------------------------------------------

    def start(self) -> ChainContainers:
        """Bring the chain up; on any failure remove what was started and re-raise."""
        c = self.config
        try:
            require_images(tuple(self.images.values()))
            with daemon_calls("creating the chain's network"):
                self.network = Network().create()
            self._run("postgres")
            for name in ("registry", "user-center-mock", "raida-mock"):
                if c.runs(name):
                    self._run(name)
            if c.runs("user-center-mock"):
                self.step_service_token = step_service_token(self.url("user-center-mock"))
            for name in ("configs", *self.step_names()):
                if c.runs(name.split("-")[0]):
                    self._run(name)
            if c.runs("registry"):
                config_set = c.config_set if c.config_set is not None else seed_config_set()
                load_config_set(
                    config_set, project_id=c.project_id, registry_url=self.url("registry")
                )
            self._run("nginx")
        except BaseException:
            self.stop()
            raise
        return self

    def _run(self, name: str, tries: int = 3) -> None:
        """Start one container; a host port taken meanwhile (ports are chosen free, then
        bound by the daemon) gets a new free port and another try."""
        for attempt in range(tries):
            container = self._make(name)
            self.containers[name] = container
            try:
                container.start()
                return
            except docker.errors.APIError as exc:
                if "address already in use" not in str(exc) or attempt == tries - 1:
                    raise
                container.stop()
                self._move_port(name)

    def _move_port(self, name: str) -> None:
        p = self.config.ports
        (port,) = free_ports(1)
        if name.startswith("step-"):
            index = int(name.split("-")[1]) - 1
            changed = replace(p, step=(*p.step[:index], port, *p.step[index + 1 :]))
        else:
            field = {"user-center-mock": "user_center", "raida-mock": "raida"}.get(name, name)
            changed = replace(p, **{field: port})  # type: ignore[arg-type]
        self.config = replace(self.config, ports=changed)

    def _nginx(self) -> NginxContainer:
        c = self.config
        site = Site(max_upload_bytes=c.max_upload_bytes, upstream_timeout=c.upstream_timeout)
        probe = c.step_host if c.runs("step") else c.configs_host
        nginx = NginxContainer(
            self.images["nginx"], probe_host=probe, network=self.network,
            host_port=c.ports.nginx, ready_timeout=c.ready_timeout,
            env={
                "STEP_DOMAIN": c.domain,
                "NGINX_CLIENT_MAX_BODY_SIZE": str(site.client_max_body_size),
                "NGINX_PROXY_READ_TIMEOUT": str(site.proxy_read_timeout),
            },
        )  # fmt: skip
        # what is left out is "nothing listening there" for nginx, as with local processes
        absent = {"step": "step", "configs": "configs"}
        hosts = {alias: "127.0.0.1" for svc, alias in absent.items() if not c.runs(svc)}
        if hosts:
            nginx.with_kwargs(extra_hosts=hosts)
        return nginx

    def stop(self) -> None:
        """Remove every container (with its volumes) and the network; safe to call twice."""
        errors: list[BaseException] = []
        for name in reversed(list(self.containers)):
            try:
                self.containers.pop(name).stop()
            except Exception as exc:  # remove the others all the same
                errors.append(exc)
        if self.network is not None:
            with contextlib.suppress(Exception):
                self.network.remove()
            self.network = None
        if errors:
            raise errors[0]

    def __enter__(self) -> ChainContainers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- one service at a time -----------------------------------------------------------

    def stop_service(self, name: str) -> None:
        container = self.containers.get(name)
        if container is not None:
            container.pause_service()

    def start_service(self, name: str) -> None:
        self.containers[name].resume_service()

    def service_log(self, service: str) -> list[str]:
        lines: list[str] = []
        for name, container in self.containers.items():
            if name == service or name.startswith(f"{service}-"):
                lines += container.log_lines()
        return lines


def build_chain(
    backend: str,
    *,
    state_dir: Path | None = None,
    step_instances: int = 1,
    registry_instances: int = 0,
    configs_instances: int = 0,
    upstream_timeout: float = 10.0,
    max_upload_bytes: int = 20 * MIB,
    only: frozenset[str] | None = None,
    postgres: Any = None,
    ready_timeout: float = 120.0,
    **config: Any,
) -> Stack | ChainContainers:
    """A chain on free ports, not started yet (`start()`, or use it as a context manager):
    `docker` (containers) or `local` (processes, with `postgres` a `PostgresServer`, or None
    for the provider chain). Several registry / configs instances: local processes only."""
    if backend not in BACKENDS:
        raise ValueError(f"backend {backend!r}: use one of {', '.join(BACKENDS)}")
    if backend == "docker" and (registry_instances or configs_instances):
        raise ValueError("several registry / configs instances run on local processes only")
    stack_config = StackConfig(
        ports=PortMap.free(
            step_instances=step_instances,
            registry_instances=registry_instances,
            configs_instances=configs_instances,
        ),
        state_dir=state_dir or Path(tempfile.mkdtemp(prefix="step-chain-")),
        database=None,
        upstream_timeout=upstream_timeout,
        max_upload_bytes=max_upload_bytes,
        persist_raida=False,
        ready_timeout=ready_timeout,
        only=only,
        **config,
    )
    if backend == "docker":
        return ChainContainers(stack_config)
    return Stack(stack_config, postgres=postgres)


def start_chain(backend: str, **options: Any) -> Stack | ChainContainers:
    """`build_chain(backend, **options)`, started."""
    return build_chain(backend, **options).start()


ChainFactory = Callable[..., "Stack | ChainContainers"]
