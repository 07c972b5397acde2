""" "Something changed for project P": one small signal shared by every watcher of a process.

The registry feeds it from Postgres LISTEN/NOTIFY, the configs service and step from the change
feed of the service in front of them (`core.feed`). Whatever feeds it, waiters use it the same
way: take a `Ticket` for the projects they care about *before* they read, read, and wait on
the ticket only if the read was not new enough. A change that lands between the read and the
wait has set the ticket already, so nothing is missed.

A ticket is one `asyncio.Event` registered under its keys; a notification pops the sets of
its keys, so an idle watcher costs one small object and nothing runs until a change arrives.
Listeners (`add_listener`) hear every notification: caches drop a project's entries there.
The key `ANY` wakes on every change (a list without a project filter, the change feeds).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

ANY = "*"

Listener = Callable[[frozenset[str] | None], None]


class Ticket:
    __slots__ = ("event", "keys")

    def __init__(self, keys: frozenset[str]) -> None:
        self.keys = keys
        self.event = asyncio.Event()


class ChangeSignal:
    def __init__(self) -> None:
        self._waiting: dict[str, set[Ticket]] = {}
        self._listeners: list[Listener] = []
        self.index = 0  # the highest change index notified so far (0: none yet)

    def waiting(self) -> int:
        """Tickets waiting (a ticket under several keys counts once per key)."""
        return sum(len(tickets) for tickets in self._waiting.values())

    def add_listener(self, listener: Listener) -> None:
        """`listener(projects)` on every notification; `None` means "anything may have changed"."""
        self._listeners.append(listener)

    def ticket(self, projects: Iterable[str] | None) -> Ticket:
        """A ticket woken by a change of any of `projects` (None: of anything)."""
        keys = frozenset([ANY] if projects is None else projects)
        ticket = Ticket(keys)
        for key in keys:
            self._waiting.setdefault(key, set()).add(ticket)
        return ticket

    def release(self, ticket: Ticket) -> None:
        for key in ticket.keys:
            tickets = self._waiting.get(key)
            if tickets is not None:
                tickets.discard(ticket)
                if not tickets:
                    del self._waiting[key]

    async def wait(self, ticket: Ticket, timeout: float) -> bool:
        """True when the ticket was woken, False when `timeout` seconds passed first."""
        if ticket.event.is_set():
            return True
        try:
            async with asyncio.timeout(max(timeout, 0.0)):
                await ticket.event.wait()
        except TimeoutError:
            return False
        return True

    def notify(self, projects: Iterable[str], index: int = 0) -> None:
        """These projects changed (at `index`): wake their tickets and every `ANY` ticket."""
        changed = frozenset(projects)
        self.index = max(self.index, index)
        for key in (*changed, ANY):
            for ticket in self._waiting.pop(key, ()):
                ticket.event.set()
        for listener in self._listeners:
            listener(changed)

    def notify_all(self, index: int = 0) -> None:
        """Anything may have changed (a feed reconnected, an index went backwards, a write
        touched more projects than a notification names)."""
        self.index = max(self.index, index)
        waiting, self._waiting = self._waiting, {}
        for tickets in waiting.values():
            for ticket in tickets:
                ticket.event.set()
        for listener in self._listeners:
            listener(None)
