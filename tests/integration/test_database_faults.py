"""Postgres backends terminated again and again under concurrent writes (issue item 1).

A registry process of its own over a socket, on a database of its own; eight writers (every
fifth request a five-item bulk create) while `pg_terminate_backend` kills every other backend
of that database every 1.5 s. The registry must answer every request (503
`DATABASE_UNAVAILABLE` during the fault, never a 500, never a hang), come back by itself, keep
every write it acknowledged, and stop on SIGTERM in time.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest

from step_platform.devstack.ports import free_ports
from step_platform.devstack.postgres import PostgresServer
from step_platform.devstack.processes import ManagedProcess, serve_argv, wait_http
from step_platform.registry.migrations import migrate

pytestmark = pytest.mark.integration

WRITERS = 8
STORM_SECONDS = 12.0
KILL_EVERY = 1.5
CLIENT_TIMEOUT = 15.0  # well past the registry's own deadlines: a hang shows as a timeout
RECOVERY_SECONDS = 5.0
SIGTERM_SECONDS = 10.0


@dataclass
class Registry:
    process: ManagedProcess
    url: str
    database_url: str


@pytest.fixture
def registry_process(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[Registry]:
    name = postgres_server.create_database()
    database_url = postgres_server.url(name)
    asyncio.run(migrate(database_url))
    (port,) = free_ports(1)
    env = {
        **{k: v for k, v in __import__("os").environ.items() if not k.startswith("DB_")},
        **postgres_server.env(name),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY": "fault-test",
        "DEBUG": "0",
        "DB_POOL_SIZE": "10",
        "PYTHONUNBUFFERED": "1",
    }
    process = ManagedProcess(
        "registry", serve_argv("registry", port), env=env, log_path=tmp_path / "registry.log"
    )
    process.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(process, f"{url}/readyz", deadline=time.monotonic() + 60)
        yield Registry(process, url, database_url)
    finally:
        process.stop(timeout=2)
        postgres_server.drop_database(name)


@dataclass
class Tally:
    acknowledged: set[str] = field(default_factory=set)
    statuses: dict[int, int] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)
    hangs: int = 0

    def count(self, response: httpx.Response) -> None:
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        if response.status_code >= 500 and response.json().get("detail") != {
            "code": "DATABASE_UNAVAILABLE",
            "message": "The database is unavailable.",
            "upstream": "database",
        }:
            self.server_errors.append(f"{response.status_code} {response.text[:300]}")


def item() -> dict[str, object]:
    return {"id": str(uuid.uuid4()), "project_id": str(uuid.uuid4()), "data": {"k": 1}}


async def writer(client: httpx.AsyncClient, stop: float, tally: Tally) -> None:
    n = 0
    while time.monotonic() < stop:
        n += 1
        bulk = n % 5 == 0
        items = [item() for _ in range(5)] if bulk else [item()]
        try:
            if bulk:
                response = await client.post("/api/configs/", json=items)
            else:
                response = await client.post("/api/config/", json=items[0])
        except httpx.TimeoutException:
            tally.hangs += 1
            continue
        except httpx.TransportError as exc:  # the registry itself must never drop us
            tally.server_errors.append(repr(exc))
            continue
        tally.count(response)
        if response.status_code == 201:
            tally.acknowledged.update(str(i["id"]) for i in items)


async def terminator(database_url: str, stop: float) -> int:
    killed = 0
    while time.monotonic() < stop:
        await asyncio.sleep(KILL_EVERY)
        conn = await asyncpg.connect(database_url)
        try:
            killed += await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await conn.close()
    return killed


async def storm(registry: Registry) -> tuple[Tally, int]:
    tally = Tally()
    stop = time.monotonic() + STORM_SECONDS
    timeout = httpx.Timeout(CLIENT_TIMEOUT)
    limits = httpx.Limits(max_connections=WRITERS)
    async with httpx.AsyncClient(
        base_url=registry.url, timeout=timeout, limits=limits, trust_env=False
    ) as client:
        results = await asyncio.gather(
            terminator(registry.database_url, stop),
            *(writer(client, stop, tally) for _ in range(WRITERS)),
        )
    return tally, results[0]


async def stored_ids(database_url: str) -> set[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return {str(r["id"]) for r in await conn.fetch("SELECT id FROM configs_config")}
    finally:
        await conn.close()


def recovers(url: str) -> float:
    """Seconds until a database read answers 200 again (no restart), or fail."""
    started = time.monotonic()
    with httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT, trust_env=False) as client:
        while True:
            if (
                client.get("/readyz").status_code == 200
                and client.get("/api/configs/", params={"limit": 1}).status_code == 200
            ):
                return time.monotonic() - started
            assert time.monotonic() - started < RECOVERY_SECONDS, "no recovery in time"
            time.sleep(0.1)


def test_terminated_backends_under_concurrent_writes_never_hang_or_lose_a_write(
    registry_process: Registry,
) -> None:
    tally, killed = asyncio.run(storm(registry_process))

    assert killed > 0, "the fault was not injected"
    assert tally.acknowledged, f"no write succeeded at all: {tally.statuses}"
    assert tally.hangs == 0, f"{tally.hangs} requests hung: {tally.statuses}"
    assert tally.server_errors == [], tally.server_errors[:5]
    recovers(registry_process.url)
    missing = tally.acknowledged - asyncio.run(stored_ids(registry_process.database_url))
    assert missing == set(), f"{len(missing)} acknowledged writes are missing"

    popen = registry_process.process.popen
    assert popen is not None
    started = time.monotonic()
    popen.send_signal(signal.SIGTERM)
    popen.wait(SIGTERM_SECONDS)
    assert time.monotonic() - started < SIGTERM_SECONDS


def test_idle_backends_killed_then_the_first_read_is_not_a_500(
    registry_process: Registry,
) -> None:
    with httpx.Client(base_url=registry_process.url, timeout=CLIENT_TIMEOUT) as client:
        for _ in range(3):
            assert client.get("/api/configs/", params={"limit": 1}).status_code == 200
        asyncio.run(terminator(registry_process.database_url, time.monotonic() + 0.1))
        first = client.get("/api/configs/", params={"limit": 1})
    assert first.status_code == 200, first.text


async def lock_waiters(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'step-registry' AND wait_event_type = 'Lock'"
        )
    finally:
        await conn.close()


async def abandoned_write(registry: Registry) -> tuple[int, int]:
    """A PATCH that waits on a row lock held here; its client gives up after 0.5 s. Counts
    the registry's backends waiting on the lock while the client waits, and just after."""
    async with httpx.AsyncClient(base_url=registry.url, trust_env=False) as client:
        created = await client.post("/api/config/", json=item())
        assert created.status_code == 201
        row = created.json()["id"]
        holder = await asyncpg.connect(registry.database_url)
        try:
            async with holder.transaction():
                await holder.execute("SELECT 1 FROM configs_config WHERE id = $1 FOR UPDATE", row)
                patch = asyncio.ensure_future(
                    client.patch(f"/api/config/{row}/", json={"data": {"x": 1}}, timeout=0.5)
                )
                await asyncio.sleep(0.3)
                waiting = await lock_waiters(registry.database_url)
                with pytest.raises(httpx.TimeoutException):
                    await patch
                await asyncio.sleep(0.5)
                after = await lock_waiters(registry.database_url)
        finally:
            await holder.close()
    return waiting, after


def test_a_statement_is_cancelled_when_its_client_goes_away(registry_process: Registry) -> None:
    waiting, after = asyncio.run(abandoned_write(registry_process))
    assert waiting == 1
    assert after == 0


def raw_request(url: str, head: bytes) -> bytes:
    import socket

    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:  # it closes with our unread excess in its buffer
            pass
    return b"".join(chunks)


def test_a_request_head_the_server_refuses_is_answered_with_the_envelope(
    registry_process: Registry,
) -> None:
    head = (
        b"POST /api/config/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nnot-a-chunk-size\r\n{}\r\n0\r\n\r\n"
    )
    answer = raw_request(registry_process.url, head)
    status, _, body = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 400")
    assert b"content-type: application/json" in status.lower()
    assert b'"code":"BAD_REQUEST"' in body


def test_headers_over_the_cap_but_under_the_servers_buffer_are_400_naming_the_limit(
    registry_process: Registry,
) -> None:
    with httpx.Client(base_url=registry_process.url, timeout=CLIENT_TIMEOUT) as client:
        response = client.get("/api/configs/", headers={"x-pad": "x" * 20_000})
    assert response.status_code == 400
    assert response.json()["detail"]["limit"] == "header_bytes"


# --- item 8: a write whose answer was lost is retried safely with its Idempotency-Key --------


@dataclass
class Keyed:
    sizes: dict[str, int] = field(default_factory=dict)  # marker -> items in that write
    acknowledged: set[str] = field(default_factory=set)
    retried: int = 0
    failures: list[str] = field(default_factory=list)


async def keyed_writer(client: httpx.AsyncClient, stop: float, keyed: Keyed) -> None:
    """Each write without client ids (a repeat would be a second row) and with a key; a 503
    or a lost answer is retried with the same key and body until it is answered."""
    n = 0
    while time.monotonic() < stop:
        n += 1
        marker = uuid.uuid4().hex
        size = 5 if n % 5 == 0 else 1
        items = [{"project_id": str(uuid.uuid4()), "data": {"w": marker, "i": i}}
                 for i in range(size)]  # fmt: skip
        keyed.sizes[marker] = size
        path, body = ("/api/configs/", items) if size > 1 else ("/api/config/", items[0])
        headers = {"Idempotency-Key": marker}
        for attempt in range(40):
            try:
                response = await client.post(path, json=body, headers=headers)
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code == 201:
                keyed.acknowledged.add(marker)
                keyed.retried += attempt > 0
                break
            if response is not None and response.status_code != 503:
                keyed.failures.append(f"{response.status_code} {response.text[:200]}")
                break
            await asyncio.sleep(0.2)


async def keyed_storm(registry: Registry) -> Keyed:
    keyed = Keyed()
    stop = time.monotonic() + STORM_SECONDS
    async with httpx.AsyncClient(
        base_url=registry.url, timeout=httpx.Timeout(CLIENT_TIMEOUT), trust_env=False
    ) as client:
        await asyncio.gather(
            terminator(registry.database_url, stop),
            *(keyed_writer(client, stop + 10, keyed) for _ in range(WRITERS)),
        )
    return keyed


async def rows_per_marker(database_url: str) -> dict[str, int]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT data->>'w' AS marker, count(*) AS n FROM configs_config GROUP BY 1"
        )
    finally:
        await conn.close()
    return {r["marker"]: r["n"] for r in rows}


def test_writes_retried_with_their_keys_under_the_fault_land_exactly_once(
    registry_process: Registry,
) -> None:
    keyed = asyncio.run(keyed_storm(registry_process))
    stored = asyncio.run(rows_per_marker(registry_process.database_url))

    assert keyed.failures == []
    assert keyed.retried > 0, "no write needed a retry: the fault did not bite"
    assert keyed.acknowledged == set(keyed.sizes), "a write was never acknowledged"
    wrong = {m: (stored.get(m, 0), size) for m, size in keyed.sizes.items()
             if stored.get(m, 0) != size}  # fmt: skip
    assert wrong == {}, f"(stored, sent) per write: {list(wrong.items())[:5]}"
