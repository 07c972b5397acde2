"""`step-platform migrate`, `step-platform serve registry` and `uvicorn --factory`, as processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from step_platform.devstack.postgres import PostgresServer
from step_platform.registry.migrations import available


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def database_env(postgres_server: PostgresServer) -> Iterator[dict[str, str]]:
    name = postgres_server.create_database()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "STEP_"))}
    env.update(postgres_server.env(name))
    env.update({"ALLOWED_HOSTS": "127.0.0.1,localhost", "SECRET_KEY": "s", "DEBUG": "True"})
    try:
        yield env
    finally:
        postgres_server.drop_database(name)


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "step_platform.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def wait_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.communicate()[1].decode())
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the registry did not become healthy")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


def test_migrate_command_applies_then_reports_up_to_date(database_env):
    first = run_cli("migrate", env=database_env)
    assert first.returncode == 0, first.stderr
    every = ", ".join(name for name, _ in available())
    assert first.stdout.strip() == f"migrations applied: {every}"
    second = run_cli("migrate", env=database_env)
    assert second.stdout.strip() == "migrations applied: none (up to date)"


def test_migrate_without_db_name_is_one_clear_line(database_env):
    env = {k: v for k, v in database_env.items() if k != "DB_NAME"}
    result = run_cli("migrate", env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == "step-platform: DB_NAME is not set: it is required"


def test_migrate_against_an_unreachable_database_is_one_line(database_env):
    env = {**database_env, "DB_HOST": "127.0.0.1", "DB_PORT": str(free_port())}
    result = run_cli("migrate", env=env)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "cannot connect to database" in result.stderr


def test_serve_without_allowed_hosts_stops_naming_it(database_env):
    env = {k: v for k, v in database_env.items() if k != "ALLOWED_HOSTS"}
    result = run_cli("serve", "registry", "--port", str(free_port()), env=env)
    assert result.returncode == 2
    assert "ALLOWED_HOSTS" in result.stderr


@pytest.mark.parametrize("launcher", ["step-platform", "uvicorn"])
def test_the_registry_serves_over_a_socket(database_env, launcher):
    assert run_cli("migrate", env=database_env).returncode == 0
    port = free_port()
    if launcher == "step-platform":
        command = [
            sys.executable,
            "-m",
            "step_platform.cli",
            "serve",
            "registry",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "step_platform.asgi:registry",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
    process = subprocess.Popen(
        command, env=database_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        created = httpx.post(f"{base}/api/config/", json={"name": "over tcp"}, timeout=5)
        assert created.status_code == 201
        listed = httpx.get(f"{base}/api/configs/", timeout=5).json()
        assert [r["name"] for r in listed] == ["over tcp"]
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
        refused = httpx.get(f"{base}/api/configs/", headers={"host": "evil.test"}, timeout=5)
        assert refused.status_code == 400
    finally:
        stop(process)
