"""Choosing where things run: the Docker probe, the Postgres provider, the test backend, ports."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from step_platform.devstack import postgres
from step_platform.devstack.backend import choose_backend
from step_platform.devstack.ports import PortInUse, PortMap, check_free, free_ports


class FakeDaemon:
    """A Unix socket that answers the first request with a canned HTTP status line."""

    def __init__(self, path: Path, status: bytes) -> None:
        self.path = path
        self.requests: list[bytes] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(4)
        self.status = status
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self.requests.append(conn.recv(1024))
                conn.sendall(self.status + b"\r\nContent-Length: 2\r\n\r\nOK")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def daemon(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[FakeDaemon]:
    fake = FakeDaemon(tmp_path / "docker.sock", request.param)
    try:
        yield fake
    finally:
        fake.close()


@pytest.mark.parametrize("daemon", [b"HTTP/1.1 200 OK"], indirect=True)
def test_docker_counts_only_when_the_daemon_answers_ping(daemon: FakeDaemon) -> None:
    assert postgres.docker_available({"DOCKER_HOST": f"unix://{daemon.path}"}) is True
    assert daemon.requests[0].startswith(b"GET /_ping HTTP/1.0")


@pytest.mark.parametrize("daemon", [b"HTTP/1.1 500 Internal Server Error"], indirect=True)
def test_a_daemon_answering_an_error_is_not_docker(daemon: FakeDaemon) -> None:
    assert postgres.docker_available({"DOCKER_HOST": f"unix://{daemon.path}"}) is False


def test_a_missing_socket_is_not_docker(tmp_path: Path) -> None:
    assert postgres.docker_available({"DOCKER_HOST": f"unix://{tmp_path}/none.sock"}) is False


def test_a_closed_tcp_port_is_not_docker() -> None:
    (port,) = free_ports(1)
    assert postgres.docker_available({"DOCKER_HOST": f"tcp://127.0.0.1:{port}"}) is False


def test_an_unknown_docker_host_scheme_is_not_docker() -> None:
    assert postgres.docker_available({"DOCKER_HOST": "ssh://somewhere"}) is False


def test_testcontainers_provider_stands_aside_without_docker(tmp_path: Path) -> None:
    env = {"DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
    assert postgres.testcontainers_provider(env) is None


def test_provider_chain_order_is_explicit_containers_binaries_wheel() -> None:
    assert [name for name, _ in postgres.PROVIDERS] == [
        "explicit",
        "testcontainers",
        "initdb",
        "pgserver",
    ]


def test_an_explicit_database_url_wins() -> None:
    server = postgres.explicit({"STEP_DATABASE_URL": "postgresql://u:p%40ss@db.example:6543/adm"})
    assert server is not None
    assert (server.provider, server.host, server.port, server.user, server.password) == (
        "explicit",
        "db.example",
        6543,
        "u",
        "p@ss",
    )
    assert server.admin_db == "adm"


def test_the_seed_db_variables_are_an_explicit_database() -> None:
    server = postgres.explicit({"DB_HOST": "10.0.1.16", "DB_PORT": "5432", "DB_USER": "cfg"})
    assert server is not None and (server.host, server.port, server.user) == (
        "10.0.1.16",
        5432,
        "cfg",
    )


def test_no_explicit_settings_hand_over_to_the_next_provider() -> None:
    assert postgres.explicit({}) is None


def test_the_chain_reports_why_each_provider_was_passed_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(env: object) -> None:
        raise RuntimeError("initdb exploded")

    monkeypatch.setattr(
        postgres,
        "PROVIDERS",
        [("explicit", postgres.explicit), ("initdb", broken), ("pgserver", lambda env: None)],
    )
    with pytest.raises(postgres.ProviderError) as error:
        postgres.start_postgres({})
    assert str(error.value) == (
        "no Postgres provider worked: explicit: not available; initdb: initdb exploded; "
        "pgserver: not available"
    )


@pytest.mark.parametrize("daemon", [b"HTTP/1.1 200 OK"], indirect=True)
def test_tests_use_containers_when_docker_answers(daemon: FakeDaemon) -> None:
    env = {"DOCKER_HOST": f"unix://{daemon.path}"}
    backend, reason = choose_backend(env, has_compose=lambda: True)
    assert backend == "docker" and "Docker daemon answers" in reason


@pytest.mark.parametrize("daemon", [b"HTTP/1.1 200 OK"], indirect=True)
def test_a_daemon_without_compose_means_local_processes(daemon: FakeDaemon) -> None:
    env = {"DOCKER_HOST": f"unix://{daemon.path}"}
    backend, reason = choose_backend(env, has_compose=lambda: False)
    assert backend == "local" and "`docker compose` is missing" in reason


def test_tests_use_local_processes_without_docker(tmp_path: Path) -> None:
    env = {"DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
    backend, reason = choose_backend(env, has_compose=lambda: True)
    assert backend == "local" and "no Docker daemon" in reason


def test_the_backend_can_be_forced(tmp_path: Path) -> None:
    assert choose_backend({"STEP_STACK_BACKEND": "local"})[0] == "local"
    assert choose_backend({"STEP_STACK_BACKEND": "Docker"})[0] == "docker"


def test_an_unknown_forced_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="STEP_STACK_BACKEND='podman'"):
        choose_backend({"STEP_STACK_BACKEND": "podman"})


def test_free_port_maps_are_distinct() -> None:
    ports = PortMap.free(step_instances=2)
    numbers = [port for _, port in ports.named()]
    assert len(numbers) == 7 == len(set(numbers))
    assert [name for name, _ in ports.named() if name.startswith("step")] == ["step-1", "step-2"]


def test_the_demo_ports_are_the_seeds() -> None:
    assert dict(PortMap().named()) == {
        "nginx": 8000,
        "configs": 8001,
        "registry": 8002,
        "step-1": 8080,
        "raida": 8090,
        "user_center": 8091,
    }


def test_a_taken_port_is_one_line_with_a_way_out() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        taken = held.getsockname()[1]
        ports = PortMap.free()
        ports = PortMap(
            nginx=ports.nginx, configs=taken, registry=ports.registry, step=ports.step,
            raida=ports.raida, user_center=ports.user_center,
        )  # fmt: skip
        with pytest.raises(PortInUse) as error:
            check_free(ports)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"port {taken} (configs) on 127.0.0.1 already in use")
    assert re.search(r"STEP_DEMO_PORTS=configs=\d+\.$", message)


def test_a_taken_nginx_port_suggests_another_port() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        ports = PortMap.free()
        ports = PortMap(
            nginx=held.getsockname()[1], configs=ports.configs, registry=ports.registry,
            step=ports.step, raida=ports.raida, user_center=ports.user_center,
        )  # fmt: skip
        with pytest.raises(PortInUse, match=r"choose another with --port N \(make demo ARGS="):
            check_free(ports)


def test_every_taken_port_is_named_in_one_line() -> None:
    with socket.socket() as first, socket.socket() as second:
        for held in (first, second):
            held.bind(("127.0.0.1", 0))
            held.listen(1)
        a, b = first.getsockname()[1], second.getsockname()[1]
        ports = PortMap.free(step_instances=1)
        ports = PortMap(
            nginx=a, configs=ports.configs, registry=b, step=ports.step,
            raida=ports.raida, user_center=ports.user_center,
        )  # fmt: skip
        with pytest.raises(PortInUse) as error:
            check_free(ports)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"ports {a} (nginx), {b} (registry) on 127.0.0.1 already in use")
    assert "--port N" in message and re.search(r"STEP_DEMO_PORTS=registry=\d+\.$", message)
