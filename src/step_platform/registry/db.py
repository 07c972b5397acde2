"""The registry's connection to Postgres: URL handling, the pool, transactions.

asyncpg's pool owns the connections. Queries use positional `$n` parameters because the filter
compiler builds them that way: native arrays (`= ANY($1::uuid[])`), one prepared statement per
SQL text. JSONB values travel as text in both directions.

`connect_kwargs` parses the URL itself, so the Unix-socket form the pgserver provider hands out
(`postgresql://postgres@/db?host=/tmp/dir&port=5432`) works, and passes host, port, user,
password and database to the pool explicitly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs, quote, unquote, urlsplit

import asyncpg

from ..core import settings as env
from ..core.errors import ApiError
from ..core.metrics import Metrics

log = logging.getLogger("step_platform.registry")

# Every statement the registry runs is a short indexed lookup, prepared once per connection
# (asyncpg's statement cache). `force_generic_plan`: Postgres plans it once, not again on every
# execution; with the default it re-planned the list (its scope and latest-index subqueries)
# each time, 0.5-1 ms of Postgres CPU per request: the registry's list went from 1560-1755 to
# 2195-2844 req/s at 1k and 100k rows (docs/benchmarks.md). No parallel plans: a generic plan at
# 1M rows gathered two workers for 0.02 ms of work, 9-12 ms per execution.
SESSION_SETTINGS = {
    "timezone": "UTC",
    "application_name": "step-registry",
    "plan_cache_mode": "force_generic_plan",
    "max_parallel_workers_per_gather": "0",
}


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


class DatabaseUnavailable(ApiError):
    """The database did not answer (refused, dropped, terminated, past a deadline): 503, so a
    client retries (with its `Idempotency-Key` for writes) instead of reporting a bug."""

    def __init__(self, message: str = "The database is unavailable.") -> None:
        super().__init__(503, "DATABASE_UNAVAILABLE", message, upstream="database")


class DatabaseBusy(ApiError):
    def __init__(self) -> None:
        super().__init__(
            503,
            "DATABASE_BUSY",
            "Too many costly queries at once; retry later.",
            headers={"Retry-After": "1"},
            upstream="database",
        )


# What a database fault looks like from asyncpg: the socket (OSError, TimeoutError), the
# connection (class 08, "does not exist", a protocol in a state it cannot leave), the server
# going away or cancelling (class 57: admin shutdown, statement_timeout) or full (class 53).
FAULTS: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
)


# A connection whose backend is gone (as opposed to a database that does not answer). asyncpg
# may also read a terminated backend's farewell as a protocol in a state it cannot leave
# ("cannot switch to state 11; another operation is in progress"): that connection is dead too.
CLOSE_FAULTS: tuple[type[Exception], ...] = (TimeoutError, *FAULTS)
DEAD_CONNECTION = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.InternalClientError,
    ConnectionError,
)
T = TypeVar("T")
_unit: ContextVar[asyncpg.Connection | None] = ContextVar("registry_unit", default=None)


@dataclass(frozen=True)
class Deadlines:
    """Every database call is bounded: connecting, waiting for a pooled connection, and each
    statement (on the server, `statement_timeout`; on the client a little later, for a server
    that stops answering altogether)."""

    connect: float = 2.0
    statement: float = 5.0
    close: float = 3.0

    @property
    def client_statement(self) -> float:
        return self.statement + 1.0


class NoResetConnection(asyncpg.Connection):
    """A pooled connection released without asyncpg's reset query.

    By default the pool sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL` on every release: a second Postgres round trip per request, as long as the
    query itself (docs/benchmarks.md, "the pool layer"). The registry sets no session state
    (its `set_config` calls are transaction-local), holds no session advisory lock on pooled
    connections, opens no cursors and never LISTENs, so there is nothing to reset; asyncpg
    still rolls back a transaction left open.
    """

    def get_reset_query(self) -> str:
        return ""


class Store:
    """asyncpg's own pool, with a deadline on every call and faults turned into 503.

    `databases` 0.9 was replaced (docs/architecture.md): it shares one connection per task
    between nested contexts and, after backends were terminated under concurrent writes, left
    connections in a state asyncpg refused ("cannot switch to state 15") and the pool waiting
    without a deadline (tests/integration/test_database_faults.py reproduced both).
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        deadlines: Deadlines | None = None,
        costly_slots: int = 1,
        metrics: Metrics | None = None,
    ) -> None:
        self.url = url
        self.pool_size = pool_size
        self.deadlines = deadlines or Deadlines()
        self._pool: asyncpg.Pool | None = None
        self._costly = asyncio.Semaphore(costly_slots)
        # With `metrics`, the pool's size limit and the connections checked out of it are
        # gauges, so `replicas × DB_POOL_SIZE` against Postgres's `max_connections` is watched.
        self.metrics = metrics

    def server_settings(self) -> dict[str, str]:
        ms = str(int(self.deadlines.statement * 1000))
        return {
            **SESSION_SETTINGS,
            "statement_timeout": ms,
            "lock_timeout": ms,
            "idle_in_transaction_session_timeout": ms,
        }

    async def connect(self) -> None:
        """Creates the pool; no connection is opened yet, so a registry starts (and says it is
        not ready) while the database is down, and connects when it comes back."""
        self._pool = await asyncpg.create_pool(
            **connect_kwargs(self.url),
            min_size=0,
            max_size=self.pool_size,
            timeout=self.deadlines.connect,
            command_timeout=self.deadlines.client_statement,
            max_inactive_connection_lifetime=60.0,
            server_settings=self.server_settings(),
            connection_class=NoResetConnection,
        )
        if self.metrics is not None:
            self.metrics.pool_max.set(self.pool_size)

    async def disconnect(self) -> None:
        """Closes the pool gracefully, or terminates it: shutdown never waits on a database."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if self.metrics is not None:
            self.metrics.pool_max.set(0)
        try:
            await asyncio.wait_for(pool.close(), self.deadlines.close)
        except CLOSE_FAULTS:
            pool.terminate()

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the store is not connected (lifespan not started)")
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; any database fault inside becomes `DatabaseUnavailable`.
        Inside `unit()` it is the unit's connection."""
        shared = _unit.get()
        if shared is not None:
            yield shared
            return
        try:
            async with (
                self.pool.acquire(timeout=self.deadlines.statement) as conn,
                asyncio.timeout(self.deadlines.statement),  # no request holds it longer
            ):
                with self._checked_out():
                    try:
                        # the pool's proxy forwards every method of the connection it holds
                        yield cast(asyncpg.Connection, conn)
                    except DEAD_CONNECTION:
                        conn.terminate()  # never back into the pool
                        raise
        except FAULTS as exc:
            log.warning("database fault: %r", exc)
            if isinstance(exc, DEAD_CONNECTION):
                # the other pooled connections were likely cut off too (a restart, a
                # terminate of all backends): each is replaced on its next acquire
                await self.pool.expire_connections()
            raise DatabaseUnavailable() from exc

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
    async def costly(self, costly: bool = True) -> AsyncIterator[None]:
        """At most `costly_slots` costly reads at once (searches, `data` filters): they cannot
        take the pool or the CPU from cheap requests. A request waits for a slot no longer
        than the statement deadline, then is 503 `DATABASE_BUSY` (retry later)."""
        if not costly:
            yield
            return
        try:
            await asyncio.wait_for(self._costly.acquire(), self.deadlines.statement)
        except TimeoutError:
            raise DatabaseBusy() from None
        try:
            yield
        finally:
            self._costly.release()

    async def read(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """A read, tried once more on a new connection when the pooled one turns out dead
        (its backend was terminated while idle and the pool had not noticed yet): a read
        is safe to repeat, and the database itself is fine."""
        try:
            async with self.connection() as conn:
                return await work(conn)
        except DatabaseUnavailable as exc:
            if not isinstance(exc.__cause__, DEAD_CONNECTION):
                raise
            log.info("pooled connection was dead; reading again on a new one")
        async with self.connection() as conn:
            return await work(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """All statements inside succeed together or not at all (bulk writes); inside
        `unit()` a savepoint of the unit's transaction."""
        async with self.connection() as conn, conn.transaction():
            yield conn

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[asyncpg.Connection]:
        """One connection and transaction for everything inside, in this task: a write and
        the record of its answer (idempotency keys) commit together or not at all."""
        async with self.transaction() as conn:
            token = _unit.set(conn)
            try:
                yield conn
            finally:
                _unit.reset(token)


async def connect_once(url: str) -> asyncpg.Connection:
    """A single connection outside the pool (migrations, test set-up)."""
    return await asyncpg.connect(**connect_kwargs(url), server_settings=SESSION_SETTINGS)
