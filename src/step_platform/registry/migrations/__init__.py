"""Schema migrations: the numbered `.sql` files next to this module, applied in order.

Applied names are recorded in `registry_migrations`; a run applies only what is missing, each
file in its own transaction. A session advisory lock makes concurrent runs (several instances
starting at once) wait for each other instead of racing. `step-platform migrate` calls
`migrate_from_env`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from importlib import resources

import asyncpg

from ...core.settings import ConfigError
from ..db import connect_kwargs, connect_once, database_url_from_env

TABLE = "registry_migrations"
LOCK_KEY = 7_305_018_252_911_247_001  # any constant; ours for "registry migrations"


class MigrationError(ConfigError):
    """The database cannot be reached or a migration failed; one line for the CLI."""


def available() -> list[tuple[str, str]]:
    """(name, sql) of every migration file, in order of their numbers."""
    files = [f for f in resources.files(__package__).iterdir() if f.name.endswith(".sql")]
    return [
        (f.name.removesuffix(".sql"), f.read_text("utf-8"))
        for f in sorted(files, key=lambda f: f.name)
    ]


async def applied(conn: asyncpg.Connection) -> set[str]:
    exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", TABLE)
    if not exists:
        return set()
    return {r["name"] for r in await conn.fetch(f"SELECT name FROM {TABLE}")}


async def pending(conn: asyncpg.Connection) -> list[str]:
    """Names of migrations not applied yet (readiness reports them)."""
    done = await applied(conn)
    return [name for name, _ in available() if name not in done]


async def migrate(database_url: str) -> list[str]:
    """Apply what is missing; returns the names applied by this run (empty: up to date)."""
    try:
        conn = await connect_once(database_url)
    except (OSError, asyncpg.PostgresError) as exc:
        where = connect_kwargs(database_url)
        raise MigrationError(
            f"cannot connect to database {where['database']!r} at {where['host']}:"
            f"{where['port']}: {exc}"
        ) from None
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        try:
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} ("
                "name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = await applied(conn)
            ran: list[str] = []
            for name, sql in available():
                if name in done:
                    continue
                try:
                    async with conn.transaction():
                        await conn.execute(sql)
                        await conn.execute(f"INSERT INTO {TABLE} (name) VALUES ($1)", name)
                except asyncpg.PostgresError as exc:
                    raise MigrationError(f"migration {name} failed: {exc}") from None
                ran.append(name)
            return ran
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    finally:
        await conn.close()


def migrate_from_env(env: Mapping[str, str]) -> list[str]:
    """`step-platform migrate`: the seed's DB_* variables (or STEP_DATABASE_URL)."""
    return asyncio.run(migrate(database_url_from_env(env)))
