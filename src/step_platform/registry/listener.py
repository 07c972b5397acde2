"""One LISTEN connection per registry instance, fanning revisions out to its waiters.

The revision triggers announce each statement's revisions with one `pg_notify`, delivered at
commit whichever instance wrote them (migration 0004); this connection (outside the pool, so
a busy pool never delays a wake-up and the pool's recycling never drops the LISTEN) turns each
notification into `ChangeSignal.notify` (`notify_all` for a `*`). When the connection is lost
it is opened again (backoff up to 5 s), and every waiter is woken once it is back, because
notifications sent meanwhile are gone: waiters re-read their index from the table, which is
the truth; notifications only end waits early.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

from ..core.changes import ChangeSignal
from ..core.tasks import cancel_and_wait
from .db import connect_once

log = logging.getLogger("step_platform.registry.listener")

CHANNEL = "step_registry_revisions"
PING_EVERY = 10.0
PING_TIMEOUT = 5.0
MAX_BACKOFF = 5.0
APPLICATION_NAME = "step-registry-listen"  # how operators tell it apart in pg_stat_activity


def parse_payload(payload: str) -> tuple[int, set[str] | None] | None:
    """A statement's notification -> (its last index, its projects; None: any project).

    `<index> <kind> <p1,p2,...|-|*>` (one per statement, migration 0004), or
    `<index> <kind> <project or -> <previous project or ->` (one per row, as 0003 sent them,
    from a database not migrated yet). None for anything else.
    """
    parts = payload.split(" ")
    if len(parts) not in (3, 4) or not parts[0].isdigit():
        return None
    projects = ",".join(parts[2:]).split(",")
    if "*" in projects:
        return int(parts[0]), None
    return int(parts[0]), {p for p in projects if p and p != "-"}


def _setter(event: asyncio.Event) -> Callable[[object], None]:
    return lambda _: event.set()


class RevisionListener:
    def __init__(self, database_url: str, signal: ChangeSignal) -> None:
        self.database_url = database_url
        self.signal = signal
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="revision-listener")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    def _on_notification(
        self,
        conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy,
        pid: int,
        channel: str,
        payload: object,
    ) -> None:
        parsed = parse_payload(str(payload))
        if parsed is None:
            log.warning("ignored notification %r", payload)
            return
        index, projects = parsed
        if projects is None:
            self.signal.notify_all(index)
        else:
            self.signal.notify(projects, index)

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await connect_once(self.database_url)
                await conn.execute(f"SET application_name = '{APPLICATION_NAME}'")
                lost = asyncio.Event()
                conn.add_termination_listener(_setter(lost))
                await conn.add_listener(CHANNEL, self._on_notification)
                self.connected.set()
                self.signal.notify_all()  # whatever was missed while disconnected
                backoff = 0.1
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), PING_EVERY)
                    if not lost.is_set():
                        await conn.fetchval("SELECT 1", timeout=PING_TIMEOUT)
                log.warning("LISTEN connection lost")
            except asyncio.CancelledError:
                raise
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("LISTEN connection failed: %r", exc)
            finally:
                self.connected.clear()
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 1.0)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
