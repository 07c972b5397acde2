"""`/metrics` under `uvicorn --workers 2`: with PROMETHEUS_MULTIPROC_DIR every scrape, whichever
worker answers it, reports the requests of both workers (real processes over sockets)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from step_platform.devstack.ports import free_ports
from step_platform.devstack.processes import ManagedProcess, wait_http
from tests.keys import public_pem, rsa_key
from tests.metrics import value

pytestmark = pytest.mark.integration


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[str]:
    """The configs service (no database needed for /healthz) as two uvicorn workers."""
    (port,) = free_ports(1)
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "SECRET_KEY": "test",
        "ALLOWED_HOSTS": "127.0.0.1",
        "REGISTRY_URL": "http://127.0.0.1:9",
        "ACCESS_TOKEN_PUBLIC_KEY": public_pem(rsa_key()),
        "JWT_ALGORITHM": "RS256",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    argv = [sys.executable, "-m", "uvicorn", "--factory", "step_platform.asgi:configs",
            "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]  # fmt: skip
    proc = ManagedProcess("configs-workers", argv, env=env, log_path=tmp_path / "configs.log")
    proc.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(proc, url + "/healthz", deadline=time.monotonic() + 60)
        yield url
    finally:
        proc.stop()


def fresh_get(url: str) -> httpx.Response:
    """One request on a new connection, so the kernel may hand it to either worker."""
    with httpx.Client(trust_env=False, timeout=10) as client:
        return client.get(url)


def healthz_count(url: str) -> tuple[float, str]:
    scrape = fresh_get(url + "/metrics")
    count = value(scrape.text, "http_requests_total", route="/healthz", status="200")
    return count, scrape.headers["x-served-by"]


def test_every_scrape_counts_the_requests_of_both_workers(two_workers: str) -> None:
    before, _ = healthz_count(two_workers)  # the readiness wait's requests
    workers: set[str] = set()
    sent = 0
    while len(workers) < 2 and sent < 400:
        response = fresh_get(two_workers + "/healthz")
        assert response.status_code == 200
        workers.add(response.headers["x-served-by"])
        sent += 1
    assert len(workers) == 2, "one worker answered every request"
    scraped_by: set[str] = set()
    scrapes = 0
    while len(scraped_by) < 2 and scrapes < 200:
        count, worker = healthz_count(two_workers)
        scraped_by.add(worker)
        scrapes += 1
        assert count == before + sent, f"scrape {scrapes} by {worker}"
    assert len(scraped_by) == 2, "one worker answered every scrape"
