"""The testing kit when things go wrong: a container that never gets ready, a daemon that
goes away. Each is one clear error, with the container's last log lines, and never a hang."""

from __future__ import annotations

import contextlib
import gc
import os
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from step_platform.testing import ContainerStartError, DockerGone
from step_platform.testing.containers import ServiceContainer

REAL_SOCKET = "/var/run/docker.sock"


def test_a_container_that_exits_at_start_fails_with_its_last_log_lines() -> None:
    # the registry migrates first: with no database there, it exits
    registry = ServiceContainer(
        "registry", 8002, env={"DB_HOST": "no-such-db.invalid", "DB_NAME": "x", "DB_USER": "x"},
        ready_timeout=60,
    )  # fmt: skip
    with pytest.raises(ContainerStartError) as error:
        registry.start()
    registry.stop()
    message = str(error.value)
    assert message.startswith("registry exited (code ")
    assert "its log ends with:\n" in message
    assert "no-such-db.invalid" in message


def test_a_container_that_never_gets_ready_fails_in_time_with_its_log() -> None:
    # raida-mock serves on 8090; readiness is asked on 9999, where nothing answers
    silent = ServiceContainer("raida-mock", 9999, ready_timeout=5)
    started = time.monotonic()
    with pytest.raises(ContainerStartError) as error:
        silent.start()
    silent.stop()
    assert time.monotonic() - started < 60
    assert str(error.value).startswith("raida-mock was not ready in 5 s; its log ends with:\n")
    assert "Uvicorn running on" in str(error.value) or "Started server" in str(error.value)


class DaemonProxy:
    """A Unix socket in front of the real daemon; `vanish()` makes the daemon disappear."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(16)
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(REAL_SOCKET)
            self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, target):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def vanish(self) -> None:
        """Refuse new connections, cut the open ones, remove the socket (idempotent)."""
        self.listener.close()
        self.path.unlink(missing_ok=True)
        for s in self.open:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


@pytest.fixture
def proxy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DaemonProxy]:
    assert os.path.exists(REAL_SOCKET), "the container tests need the daemon on " + REAL_SOCKET
    daemon = DaemonProxy(tmp_path / "docker.sock")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{daemon.path}")
    try:
        yield daemon
    finally:
        daemon.vanish()


def test_a_daemon_that_disappears_mid_start_is_one_clear_error(proxy: DaemonProxy) -> None:
    waiting = ServiceContainer("raida-mock", 9999, ready_timeout=120)
    threading.Timer(4.0, proxy.vanish).start()
    started = time.monotonic()
    try:
        with pytest.raises(DockerGone) as error:
            waiting.start()
    finally:
        waiting.get_docker_client().client.close()
        container = waiting._container
        if container is not None:  # removed through the real daemon
            real = docker.DockerClient(base_url=f"unix://{REAL_SOCKET}")
            real.containers.get(container.id).remove(force=True)
            real.close()
    took, message = time.monotonic() - started, str(error.value)
    # the request the vanishing daemon cut leaves its socket to the garbage collector
    # (requests drops a broken connection unclosed): collect it here, quietly
    del error, waiting
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    assert took < 60
    assert message.startswith(f"the Docker daemon at unix://{proxy.path} stopped answering")
    assert "waiting for raida-mock" in message
