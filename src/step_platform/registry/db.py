"""The registry's connection to Postgres: URL handling, the pool, transactions.

`databases` owns the pool, the per-task connection and transactions. Queries run on its raw
asyncpg connection with positional `$n` parameters because the filter compiler builds them that
way: native arrays (`= ANY($1::uuid[])`), one prepared statement per SQL text, and no
SQLAlchemy compilation per request. JSONB values travel as text in both directions.

`databases` reads host and port from the URL's netloc only, so the Unix-socket form the
pgserver provider hands out (`postgresql://postgres@/db?host=/tmp/dir&port=5432`) would
silently connect to the default socket; `connect_kwargs` parses the URL itself and passes
host, port, user, password and database to the pool explicitly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import asyncpg
from databases import Database

from ..core import settings as env
from ..core.metrics import Metrics

SESSION_SETTINGS = {"timezone": "UTC", "application_name": "step-registry"}


def normalise_url(url: str) -> str:
    """`postgres://` and `postgresql+asyncpg://` spellings become `postgresql://`."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise env.ConfigError(f"database URL {url!r} has no scheme")
    if scheme.split("+", 1)[0] not in ("postgres", "postgresql"):
        raise env.ConfigError(f"database URL scheme {scheme!r} is not postgresql")
    return f"postgresql://{rest}"


def connect_kwargs(url: str) -> dict[str, Any]:
    """asyncpg connection arguments from a URL, including `?host=/socket/dir&port=N`."""
    parts = urlsplit(normalise_url(url))
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    host = query.get("host") or (unquote(parts.hostname) if parts.hostname else None)
    port = query.get("port") or parts.port
    kwargs: dict[str, Any] = {
        "host": host or "localhost",
        "port": int(port) if port else 5432,
        "user": unquote(parts.username) if parts.username else (query.get("user") or "postgres"),
        "database": unquote(parts.path.lstrip("/")) or query.get("dbname") or "postgres",
    }
    password = unquote(parts.password) if parts.password else query.get("password")
    if password:
        kwargs["password"] = password
    return kwargs


def database_url_from_env(e: Mapping[str, str]) -> str:
    """`STEP_DATABASE_URL`, else the seed's `DB_NAME DB_USER DB_PASSWORD DB_HOST DB_PORT`.

    A `DB_HOST` starting with `/` is a Unix socket directory.
    """
    explicit = env.optional(e, "STEP_DATABASE_URL")
    if explicit:
        return normalise_url(explicit)
    name = env.required(e, "DB_NAME")
    user = env.optional(e, "DB_USER") or "postgres"
    password = e.get("DB_PASSWORD", "")
    host = env.optional(e, "DB_HOST") or "localhost"
    port = env.optional(e, "DB_PORT") or "5432"
    if not port.isdigit():
        raise env.ConfigError(f"DB_PORT={port!r} is not a port number")
    auth = quote(user, safe="")
    if password:
        auth += ":" + quote(password, safe="")
    if host.startswith("/"):
        return (
            f"postgresql://{auth}@/{quote(name, safe='')}?host={quote(host, safe='')}&port={port}"
        )
    return f"postgresql://{auth}@{host}:{port}/{quote(name, safe='')}"


class Store:
    """The pool (through `databases`) and the two ways to use it: a connection, a transaction.

    With `metrics`, the pool's size limit and the connections checked out of it are gauges, so
    `replicas × DB_POOL_SIZE` against Postgres's `max_connections` can be watched, not guessed.
    """

    def __init__(self, url: str, *, pool_size: int = 10, metrics: Metrics | None = None) -> None:
        self.pool_size = pool_size
        self.metrics = metrics
        self.database = Database(
            normalise_url(url),
            **connect_kwargs(url),
            min_size=0,
            max_size=pool_size,
            server_settings=SESSION_SETTINGS,
        )

    async def connect(self) -> None:
        await self.database.connect()
        if self.metrics is not None:
            self.metrics.pool_max.set(self.pool_size)

    async def disconnect(self) -> None:
        await self.database.disconnect()
        if self.metrics is not None:
            self.metrics.pool_max.set(0)

    @contextmanager
    def _checked_out(self) -> Iterator[None]:
        if self.metrics is None:
            yield
            return
        self.metrics.pool_in_use.inc()
        try:
            yield
        finally:
            self.metrics.pool_in_use.dec()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.database.connection() as connection:
            with self._checked_out():
                yield connection.raw_connection

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """All statements inside succeed together or not at all (bulk writes)."""
        async with self.database.connection() as connection, connection.transaction():
            with self._checked_out():
                yield connection.raw_connection


async def connect_once(url: str) -> asyncpg.Connection:
    """A single connection outside the pool (migrations, test set-up)."""
    return await asyncpg.connect(**connect_kwargs(url), server_settings=SESSION_SETTINGS)
