"""The registry's idempotency keys, in Postgres: they hold across registry instances.

The key is claimed with an INSERT in the request's own transaction (`Store.unit`): the write
runs in the same transaction, the answer is stored there too, and all of it commits at once —
so there is no window where a write committed and its answer was lost. A concurrent request
with the same key waits on the claim's row lock and then replays the committed answer (or
claims the key itself when the first rolled back). A failed request (5xx) rolls back and
leaves the key free.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..core.idempotency import TTL_SECONDS, Answer, KeyReused, Slot
from .db import Store

CLAIM = f"""
    INSERT INTO idempotency_keys AS k (key, fingerprint) VALUES ($1, $2)
    ON CONFLICT (key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, created = now(), status = 0,
            headers = '[]', body = ''
        WHERE k.created < now() - interval '{TTL_SECONDS} seconds'
    RETURNING 1"""
STORED = (
    "SELECT fingerprint, status, headers::text AS headers, body FROM idempotency_keys "
    "WHERE key = $1"
)
SAVE = (
    "UPDATE idempotency_keys SET status = $2, headers = CAST($3 AS jsonb), body = $4 WHERE key = $1"
)
PURGE = f"""
    DELETE FROM idempotency_keys WHERE key IN (
        SELECT key FROM idempotency_keys
        WHERE created < now() - interval '{TTL_SECONDS} seconds' LIMIT 1000)"""
PURGE_ONE_IN = 256  # expired keys are purged now and then, a bounded batch at a time


class _Release(Exception):
    """Leaves the unit by rolling it back: the request failed, nothing of it is kept."""


class PostgresKeys:
    def __init__(self, store: Store) -> None:
        self.store = store

    @asynccontextmanager
    async def slot(self, key: str, fingerprint: str) -> AsyncIterator[Slot]:
        try:
            async with self.store.unit() as conn:
                if await conn.fetchval(CLAIM, key, fingerprint) is None:
                    row = await conn.fetchrow(STORED, key)
                    if row["fingerprint"] != fingerprint:
                        raise KeyReused()
                    headers = [(k.encode("latin-1"), v.encode("latin-1"))
                               for k, v in json.loads(row["headers"])]  # fmt: skip
                    yield Slot(answer=Answer(row["status"], headers, bytes(row["body"])))
                    return
                slot = Slot()
                yield slot
                if slot.saved is None:
                    raise _Release
                answer = slot.saved
                headers = json.dumps([(k.decode("latin-1"), v.decode("latin-1"))
                                      for k, v in answer.headers])  # fmt: skip
                await conn.execute(SAVE, key, answer.status, headers, answer.body)
                if random.randrange(PURGE_ONE_IN) == 0:
                    await conn.execute(PURGE)
        except _Release:
            pass
