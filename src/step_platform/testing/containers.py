"""testcontainers-style classes for the chain's parts, from the images `make images` builds.

Each service container runs `step-platform:latest` with the service's entrypoint and is ready
when its `/readyz` answers 200 on the published port. A container that exits, or is not ready
in time, fails `start()` with `ContainerStartError` ending in its last log lines; a daemon
that goes away is one `DockerGone`.

    with RaidaMockContainer() as raida:
        raida.set_faults(route="/api/tasks/rql/", error_rate=1.0)
        ...  # point the code under test at raida.url
        assert raida.journal()
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from step_platform.devstack.simulators import RaidaAdmin, minted_token, public_key_pem, user_token
from step_platform.devstack.stack import RAIDA_PASSWORD, RAIDA_USER

from ..devstack.waiting import NotYet, wait_until
from .daemon import (
    DAEMON_TIMEOUT,
    POSTGRES_IMAGE,
    SERVICE_IMAGE,
    ContainerStartError,
    configure_testcontainers,
    daemon_calls,
    is_local_daemon,
)

LOG_TAIL = 15


class ChainContainer(DockerContainer):
    """A container of the chain: one published port, a readiness probe, clear start errors."""

    port: int = 0
    name_in_chain: str = ""

    def __init__(
        self,
        image: str,
        *,
        network: Network | None = None,
        aliases: tuple[str, ...] = (),
        env: Mapping[str, str] | None = None,
        host_port: int | None = None,
        ready_timeout: float = 90.0,
    ) -> None:
        configure_testcontainers()
        super().__init__(image, docker_client_kw={"timeout": DAEMON_TIMEOUT})
        self.ready_timeout = ready_timeout
        self.host_port = host_port
        # a local daemon publishes on 127.0.0.1 only; a remote one on its own interfaces
        published: Any = ("127.0.0.1", host_port) if is_local_daemon() else host_port
        self.ports[f"{self.port}/tcp"] = published  # testcontainers types only a bare port
        for key, value in (env or {}).items():
            self.with_env(key, str(value))
        if network is not None:
            self.with_network(network)
            self.with_network_aliases(*(aliases or (self.name_in_chain,)))

    # --- life ---------------------------------------------------------------------------

    def start(self) -> ChainContainer:
        with daemon_calls(f"starting {self.label}"):
            super().start()
        self.wait_ready()
        return self

    def stop(self, force: bool = True, delete_volume: bool = True) -> None:
        with daemon_calls(f"removing {self.label}"):
            super().stop(force=force, delete_volume=delete_volume)

    def pause_service(self) -> None:
        """Stop the process but keep the container (and its published port) for `resume`."""
        with daemon_calls(f"stopping {self.label}"):
            self.get_wrapped_container().stop(timeout=10)

    def resume_service(self) -> None:
        with daemon_calls(f"starting {self.label} again"):
            self.get_wrapped_container().start()
        self.wait_ready()

    @property
    def label(self) -> str:
        return self.name_in_chain or self.image

    def ready(self) -> bool:
        """The container answers as ready (a service: `/readyz` is 200)."""
        try:
            with httpx.Client(timeout=2.0, trust_env=False) as client:
                return client.get(self.url + "/readyz").status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self) -> None:
        wait_until(
            self._is_ready,
            deadline=time.monotonic() + self.ready_timeout,
            interval=0.25,
            timed_out=lambda status: ContainerStartError(
                f"{self.label} was not ready in {self.ready_timeout:.0f} s; "
                "its log ends with:\n" + self.log_tail()
            ),
        )

    def _is_ready(self) -> None:
        with daemon_calls(f"waiting for {self.label}"):
            self.get_wrapped_container().reload()
            status = self.get_wrapped_container().status
        if status in ("exited", "dead"):
            code = self.get_wrapped_container().attrs["State"].get("ExitCode")
            raise ContainerStartError(
                f"{self.label} exited (code {code}) before it was ready; its log ends with:\n"
                + self.log_tail()
            )
        if status != "running" or not self.ready():
            raise NotYet(status)

    # --- what tests read ----------------------------------------------------------------

    @property
    def host(self) -> str:
        """127.0.0.1 for a local daemon (ports are published there only); else the daemon's
        host as testcontainers finds it."""
        if is_local_daemon():
            return "127.0.0.1"
        return self.get_container_host_ip()

    @property
    def url(self) -> str:
        """The service from the host (the test process)."""
        if self.host_port is None:
            with daemon_calls(f"reading the port of {self.label}"):
                self.host_port = int(self.get_exposed_port(self.port))
        return f"http://{self.host}:{self.host_port}"

    @property
    def internal_url(self) -> str:
        """The service from the other containers of its network."""
        return f"http://{self.name_in_chain}:{self.port}"

    def log_lines(self) -> list[str]:
        with daemon_calls(f"reading the log of {self.label}"):
            out, err = self.get_logs()
        return (out + err).decode("utf-8", errors="replace").splitlines()

    def log_tail(self, lines: int = LOG_TAIL) -> str:
        try:
            return "\n".join(self.log_lines()[-lines:]) or "(empty log)"
        except Exception as exc:  # the tail is for a message: never mask the first error
            return f"(log unavailable: {exc})"


# The service's entrypoint under a small shell that can stop and start it again inside the
# container: a stopped service then behaves as a stopped process does (its address stays, and
# connections to it are refused at once). Without the stop mark, the container ends with the
# service, so a service that fails at start is an exited container with its log.
SUPERVISE = """
while :; do
  "$@" & echo $! > /tmp/service.pid
  wait $!; code=$?
  [ -f /tmp/service.stopped ] || exit $code
  while [ -f /tmp/service.stopped ]; do sleep 0.2; done
done
"""


class ServiceContainer(ChainContainer):
    """One service of `step-platform:latest`, started with its entrypoint."""

    def __init__(self, service: str, port: int, image: str = SERVICE_IMAGE, **kwargs: Any):
        self.name_in_chain = service
        self.port = port
        super().__init__(image, **kwargs)
        entrypoint = f"/entrypoints/{service}.sh"
        self.with_kwargs(entrypoint=["/bin/sh", "-c", SUPERVISE, "supervise", entrypoint])

    def pause_service(self) -> None:
        """Stop the service's process (and wait until it is gone); the container and its
        address stay."""
        stop = (
            "touch /tmp/service.stopped; pid=$(cat /tmp/service.pid); kill $pid; "
            "for _ in $(seq 300); do kill -0 $pid 2>/dev/null || exit 0; sleep 0.1; done; exit 1"
        )
        with daemon_calls(f"stopping {self.label}"):
            result = self.exec(["sh", "-c", stop])
        if result.exit_code != 0:
            raise ContainerStartError(f"{self.label} did not stop in 30 s:\n{self.log_tail()}")

    def resume_service(self) -> None:
        with daemon_calls(f"starting {self.label} again"):
            self.exec(["rm", "-f", "/tmp/service.stopped"])
        self.wait_ready()


class UserCenterMockContainer(ServiceContainer):
    """user-center-mock: its key signs the tokens the services accept."""

    def __init__(self, image: str = SERVICE_IMAGE, **kwargs: Any) -> None:
        super().__init__("user-center-mock", 8091, image, **kwargs)

    def token(self, user_id: str, *, roles: tuple[str, ...] = (), ttl: int = 3600) -> str:
        return user_token(self.url, user_id, roles=roles, ttl=ttl)

    def mint(self, **body: Any) -> str:
        """Any claims, an expired token (`ttl=-60`) or a foreign key (`foreign_key=True`)."""
        return minted_token(self.url, **body)

    def public_key(self) -> str:
        return public_key_pem(self.url)


class RaidaMockContainer(ServiceContainer):
    """raida-mock: the Raida API with a service account, faults, a journal, a seed."""

    def __init__(
        self,
        image: str = SERVICE_IMAGE,
        *,
        username: str = RAIDA_USER,
        password: str = RAIDA_PASSWORD,
        **kwargs: Any,
    ) -> None:
        env = {"USER_RAIDA": username, "PASSWD_RAIDA": password, **kwargs.pop("env", {})}
        super().__init__("raida-mock", 8090, image, env=env, **kwargs)
        self.username = username
        self.password = password

    def admin(self) -> RaidaAdmin:
        return RaidaAdmin(self.url, self.username, self.password)

    def seed(self, fixture: Mapping[str, Any]) -> None:
        """Replace the simulator's state with `fixture` (the format of `/__admin/state`)."""
        self.admin().seed(fixture)

    def reset(self) -> None:
        self.admin().reset()

    def set_faults(self, **faults: Any) -> None:
        self.admin().set_faults(**faults)

    def clear_faults(self) -> None:
        self.admin().clear_faults()

    def journal(self) -> list[dict[str, Any]]:
        return self.admin().journal()


class PostgresChainContainer(ChainContainer):
    """`step-platform-postgres:15` (Debian's postgresql-15, the official image's variables)."""

    name_in_chain = "postgres"
    port = 5432

    def __init__(
        self,
        image: str = POSTGRES_IMAGE,
        *,
        user: str = "configs_user",
        password: str = "configs_password",
        database: str = "configs",
        **kwargs: Any,
    ) -> None:
        env = {"POSTGRES_USER": user, "POSTGRES_PASSWORD": password, "POSTGRES_DB": database}
        super().__init__(image, env=env, **kwargs)
        self.user, self.password, self.database = user, password, database

    def ready(self) -> bool:
        with daemon_calls("asking Postgres whether it is ready"):
            result = self.exec(["pg_isready", "-h", "127.0.0.1", "-U", self.user])
        return result.exit_code == 0

    def env_for_registry(self) -> dict[str, str]:
        """The registry's seed variables for this database, inside the network."""
        return {
            "DB_HOST": self.name_in_chain,
            "DB_PORT": str(self.port),
            "DB_NAME": self.database,
            "DB_USER": self.user,
            "DB_PASSWORD": self.password,
        }


class NginxContainer(ChainContainer):
    """`step-platform-nginx:latest`: section 7's server blocks over the chain's network."""

    name_in_chain = "nginx"
    port = 8000

    def __init__(self, image: str, *, probe_host: str, **kwargs: Any) -> None:
        super().__init__(image, **kwargs)
        self.probe_host = probe_host

    def ready(self) -> bool:
        try:
            with httpx.Client(timeout=2.0, trust_env=False) as client:
                response = client.get(self.url + "/healthz", headers={"Host": self.probe_host})
        except httpx.HTTPError:
            return False
        return response.status_code == 200
