"""Per-key locks: within one instance, one holder of a key at a time.

The configs service writes read-then-write (read the row, compute the new data, write it with
`If-Match`): writers in this instance queue here, so they never spend registry calls on a 412
and a burst of writes to one config cannot run out of retries (other instances are caught by
the registry's 412). Step serialises a user's joins of one contest and the sends of one task
the same way before the cross-instance arbitration in Raida. A lock lives only while someone
holds or awaits it, so the map does not grow with the number of keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class KeyedLock:
    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._users: dict[Hashable, int] = {}

    def __len__(self) -> int:
        """Keys held or awaited now."""
        return len(self._locks)

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]
