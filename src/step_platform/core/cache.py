"""A short in-process cache of config sets, dropped a project at a time.

Every step request reads its config set, so the same `(Project-ID, Account-ID, types)` answer
is asked for again and again within seconds. With a TTL > 0 that answer is reused; the
configs service keys it by `(project, account, types)`, step by `(project, user, account,
types)`: the first element of a key is always the project. A write invalidates the whole
project at once (a project-level change is visible from every account of the project): our
own writes directly, other instances' writes through the change signal (`core.changes`),
`clear()` when a change feed had to start over. Each project has a generation number, bumped
by every invalidation: a read that started before a write may not store its (stale) answer
afterwards. The TTL bounds staleness when no change signal arrives.
Authentication is never cached: the token is checked on every request before the cache.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

V = TypeVar("V")

Key = tuple[Any, ...]  # (project_id, ...)
Generation = tuple[int, int]


@dataclass(frozen=True)
class _Entry(Generic[V]):
    expires: float
    generation: Generation
    value: V


class ConfigCache(Generic[V]):
    """TTL cache keyed by tuples whose first element is the project id."""

    def __init__(
        self,
        ttl: float,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[Key, _Entry[V]] = OrderedDict()
        self._generations: dict[str, int] = {}
        self._epoch = 0

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def __len__(self) -> int:
        return len(self._entries)

    def generation(self, project_id: str) -> Generation:
        """Take this before reading upstream; pass it to `put` afterwards."""
        return (self._epoch, self._generations.get(project_id, 0))

    def get(self, key: Key) -> V | None:
        if not self.enabled:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= self.clock() or entry.generation != self.generation(key[0]):
            del self._entries[key]
            return None
        return entry.value

    def put(self, key: Key, value: V, generation: Generation) -> None:
        """Store unless the project was written to since `generation` was taken."""
        if not self.enabled or generation != self.generation(key[0]):
            return
        self._entries.pop(key, None)
        self._entries[key] = _Entry(self.clock() + self.ttl, generation, value)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def invalidate(self, project_id: str) -> None:
        """Forget every config set of the project (entries are dropped lazily on `get`)."""
        self._generations[project_id] = self._generations.get(project_id, 0) + 1

    def clear(self) -> None:
        """Forget everything (a change feed started over: any project may have changed)."""
        self._epoch += 1
        self._entries.clear()

    def forget(self, projects: frozenset[str] | None) -> None:
        """A `core.changes` listener: drop what changed (None: everything)."""
        if projects is None:
            self.clear()
        else:
            for project_id in projects:
                self.invalidate(project_id)
