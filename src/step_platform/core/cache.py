"""A short in-process cache of config sets, for the configs service and for step.

Every step request reads its config set, so the same answer is asked for again and again
within seconds. With a TTL > 0 that answer is reused. Entries belong to a group (a project):
a write invalidates the whole group at once (a project-level change is visible from every
account of the project). Each group has a generation number, bumped by every invalidation: a
read that started before a write may not store its (stale) answer afterwards. Changes made
elsewhere are seen when the change signal (`core.changes`, fed by a change feed) names the
group (`forget`). That holds only while the feed is live, so a cache that relies on it is
told so (`trust_while(lambda: feed.live)`, `core.feed.FeedFollower.live`): it serves and stores
entries only then, and the feed's `on_resume` clears it. The TTL is the upper bound when
nothing names the group.
Authentication is never cached: the token is checked on every request before the cache.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Generation = tuple[int, int]  # (epoch: bumped by clear(), the group's own count)


@dataclass(frozen=True)
class _Entry(Generic[V]):
    expires: float
    generation: Generation
    value: V


class TtlCache(Generic[K, V]):
    """A bounded TTL map; `group(key)` names the group (project) an entry is invalidated with.
    `ttl <= 0` disables it."""

    def __init__(
        self,
        ttl: float,
        *,
        group: Callable[[K], str],
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.group = group
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[K, _Entry[V]] = OrderedDict()
        self._generations: dict[str, int] = {}
        self._epoch = 0
        self._trusted: Callable[[], bool] = lambda: True

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def trust_while(self, condition: Callable[[], bool]) -> None:
        """Serve and store entries only while `condition()` holds (a change feed is live)."""
        self._trusted = condition

    @property
    def usable(self) -> bool:
        return self.ttl > 0 and self._trusted()

    def __len__(self) -> int:
        return len(self._entries)

    def generation(self, group: str) -> Generation:
        """Take this before reading upstream; pass it to `put` afterwards."""
        return (self._epoch, self._generations.get(group, 0))

    def get(self, key: K) -> V | None:
        if not self.usable:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= self.clock() or entry.generation != self.generation(self.group(key)):
            del self._entries[key]
            return None
        return entry.value

    def put(self, key: K, value: V, generation: Generation) -> None:
        """Store unless the group was invalidated since `generation` was taken."""
        if not self.usable or generation != self.generation(self.group(key)):
            return
        self._entries.pop(key, None)
        self._entries[key] = _Entry(self.clock() + self.ttl, generation, value)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def invalidate(self, group: str) -> None:
        """Forget every entry of the group (entries are dropped lazily on `get`)."""
        self._generations[group] = self._generations.get(group, 0) + 1

    def clear(self) -> None:
        """Forget everything, in flight too (a change feed started over: anything may have
        changed)."""
        self._epoch += 1
        self._entries.clear()

    def forget(self, groups: frozenset[str] | None) -> None:
        """A `core.changes` listener: drop the groups that changed (None: everything)."""
        if groups is None:
            self.clear()
            return
        for group in groups:
            self.invalidate(group)
