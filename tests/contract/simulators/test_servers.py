"""Both simulators as real servers: started from the CLI, and dropping real connections."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
import uvicorn

from raida_mock.app import Settings, create_app

from .conftest import CREDENTIALS, NODE

CONTEST = "e2ccc043-2558-4bd1-872e-4df6cf7b5256"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, process: subprocess.Popen | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base} did not become healthy")


@pytest.fixture
def raida_server() -> Iterator[str]:
    """raida-mock under uvicorn in a thread, on a free port."""
    port = free_port()
    config = uvicorn.Config(create_app(Settings()), host="127.0.0.1", port=port, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base)
    yield base
    server.should_exit = True
    thread.join(10)


def test_drop_next_closes_a_real_connection_without_a_response(raida_server):
    with httpx.Client(base_url=raida_server) as client:
        client.post("/__admin/faults", json={"drop_next": 1, "route": "/api"})
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/api/users/token/", data=CREDENTIALS)
        after = client.post("/api/users/token/", data=CREDENTIALS)
        journal = client.get("/__admin/journal").json()["entries"]
    assert after.status_code == 200
    assert [e.get("fault") for e in journal] == ["drop", None]


def serve(name: str, tmp_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "STEP_STATE_DIR": str(tmp_path / "state")}
    process = subprocess.Popen(
        [sys.executable, "-m", "step_platform.cli", "serve", name, "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
    except AssertionError:
        process.kill()
        raise AssertionError(process.communicate()[1].decode()) from None
    return process, base


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stderr:
        process.stderr.close()


def test_raida_mock_starts_from_the_cli_and_serves_the_seed(tmp_path):
    process, base = serve("raida-mock", tmp_path)
    try:
        with httpx.Client(base_url=base) as client:
            token = client.post("/api/users/token/", data=CREDENTIALS).json()["access_token"]
            contest = client.get(
                f"/api/tasks/{NODE}/{CONTEST}", headers={"Authorization": f"Bearer {token}"}
            )
    finally:
        stop(process)
    assert contest.json()["data"]["title"] == "Супер-конкурс"


def test_user_center_mock_starts_from_the_cli_and_shares_the_cli_key(tmp_path):
    process, base = serve("user-center-mock", tmp_path)
    try:
        with httpx.Client(base_url=base) as client:
            pem = client.get("/public-key.pem").text
    finally:
        stop(process)
    env = {**os.environ, "STEP_STATE_DIR": str(tmp_path / "state")}
    user = "2098611d-32e2-4d8f-acea-76570af65843"
    printed = subprocess.run(
        [sys.executable, "-m", "step_platform.cli", "token", "--user-id", user],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    claims = jwt.decode(printed, pem, algorithms=["RS256"], options={"verify_sub": False})
    assert claims["sub"]["user_id"] == user
