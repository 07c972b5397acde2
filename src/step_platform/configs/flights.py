"""One registry read for many identical watchers in flight at once ("single flight").

When a change wakes a thousand watchers of one config set, each would read the registry
again; instead, watchers of the same key share the read that is already running. The key
includes the project's cache generation, bumped by every change the instance hears of through
the change feed (which runs while anyone watches), so a watcher never joins a read that
started before a change it was woken by: that change's notification bumped the generation,
and the shared read started after it. A change not heard of yet wakes the watcher later.
Plain reads do not share: each sees every write made before it started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class Flights(Generic[T]):
    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Future[T]] = {}

    def __len__(self) -> int:
        return len(self._running)

    async def run(self, key: Hashable, work: Callable[[], Awaitable[T]]) -> T:
        """`work()`'s result, shared with every caller of the same key while it runs. A caller
        that goes away does not cancel it for the others."""
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(work())
            self._running[key] = running
            running.add_done_callback(lambda _: self._running.pop(key, None))
        return await asyncio.shield(running)
