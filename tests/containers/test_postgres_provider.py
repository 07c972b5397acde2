"""The testcontainers provider of the Postgres provider chain, with a real container of the
locally built `step-platform-postgres:15` image (no image registry needed)."""

from __future__ import annotations

import asyncio
import os

import asyncpg

from step_platform.devstack import postgres


def query(url: str, sql: str) -> str:
    async def run() -> str:
        conn = await asyncpg.connect(url)
        try:
            return str(await conn.fetchval(sql))
        finally:
            await conn.close()

    return asyncio.run(run())


def no_explicit_database() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "STEP_DATABASE"))}


def test_the_testcontainers_provider_serves_postgres_from_the_local_image() -> None:
    server = postgres.testcontainers_provider(no_explicit_database())
    assert server is not None
    try:
        assert (server.provider, server.host) == ("testcontainers", "127.0.0.1")
        database = server.create_database()
        assert query(server.url(database), "SHOW server_version").startswith("15.")
        assert query(server.url(database), "SHOW TimeZone") == "UTC"
    finally:
        server.stop()


def test_the_provider_chain_chooses_containers_when_a_daemon_answers() -> None:
    server = postgres.start_postgres(no_explicit_database())
    try:
        assert server.provider == "testcontainers"
    finally:
        server.stop()
