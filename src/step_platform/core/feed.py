"""Following a change feed: one long-poll per process, fanned out through a `ChangeSignal`.

The registry serves `/api/changes/` (the configs service passes it on as
`/configs/_changes/`): without `index` it says where the history is now, with `index=N&wait=W`
it answers the changes after N as soon as there are any. A process follows it with one
request at a time and turns each answer into `signal.notify(projects)`, so any number of local
watchers and caches cost one upstream connection. After a failure it asks again from the last
index it saw (backoff up to 5 s): the history is kept, so nothing is missed. `reset` (the feed
is behind our index, a restored database, or we are more than a page behind it) and a first
answer after an outage where we had no index wake everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from .changes import ChangeSignal
from .tasks import cancel_and_wait
from .watch import wait_text

log = logging.getLogger("step_platform.feed")

WAIT = 30.0
MAX_BACKOFF = 5.0
# changes per answer at most: the registry's page (`registry.revisions` uses it); an answer
# this long means more were waiting
PAGE = 1000


class FeedFollower:
    def __init__(
        self,
        http: httpx.AsyncClient,
        path: str,
        signal: ChangeSignal,
        *,
        headers: Mapping[str, str] | None = None,
        wait: float = WAIT,
        timeout: float = 10.0,
        on_resume: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.path = path
        self.signal = signal
        self.headers = dict(headers or {})
        self.wait = wait
        self.timeout = timeout
        self.on_resume = on_resume  # called by the first answer after a start or an outage
        self.clock = clock
        self.index: int | None = None
        self.following = asyncio.Event()  # set while the feed answers
        self.heard = float("-inf")  # when the last answer came (clock)
        self.behind = False  # the last answer was a full page
        self._task: asyncio.Task[None] | None = None

    @property
    def live(self) -> bool:
        """Every change up to about now has been heard: running, answering, caught up, and
        heard from within the longest a long-poll may last (`wait` + `timeout`)."""
        return (
            self._task is not None
            and self.following.is_set()
            and not self.behind
            and self.clock() - self.heard <= self.wait + self.timeout
        )

    def ensure_started(self) -> None:
        """Follow from now on (a service starts following when its first watcher comes: the
        first answer wakes every waiter, so one that read before it is not left behind)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"feed {self.path}")

    async def start(self, ready_timeout: float = 0.0) -> None:
        """Start following; wait up to `ready_timeout` s for the first answer."""
        self.ensure_started()
        if ready_timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.following.wait(), ready_timeout)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        self.following.clear()

    async def poll(self) -> None:
        """One request: where the feed is (first), else the changes after our index; after an
        outage or a full page without waiting, so that the feed is known to be back (or caught
        up) at once."""
        # behind (the last answer was a full page): the next page is there or it is not, and a
        # long-poll would keep the follower behind, its caches bypassed, for the whole wait
        wait = self.wait if self.following.is_set() and not self.behind else 0.0
        params = {} if self.index is None else {"index": str(self.index), "wait": wait_text(wait)}
        response = await self.http.get(
            self.path,
            params=params,
            headers=self.headers,
            timeout=httpx.Timeout(self.wait + self.timeout, connect=self.timeout),
        )
        if response.status_code != 200:
            raise FeedError(f"{self.path} answered {response.status_code}")
        body = response.json()
        index, reset, changes = _parse(body)
        first = self.index is None
        self.index = index
        self.heard = self.clock()
        self.behind = len(changes) >= PAGE
        if not self.following.is_set():  # back after an outage (or first): start afresh
            log.info("change feed %s answers (index %d)", self.path, index)
            self.following.set()
            if self.on_resume is not None:
                self.on_resume()
        if reset or first:
            self.signal.notify_all(index)
            return
        for change in changes:
            self.signal.notify(change["projects"], change["index"])

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self.poll()
                backoff = 0.1
                continue
            except asyncio.CancelledError:
                raise
            except (httpx.HTTPError, FeedError, ValueError) as exc:
                log.warning("change feed %s: %r", self.path, exc)
            self.following.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)


class FeedError(Exception):
    pass


def _parse(body: Any) -> tuple[int, bool, list[dict[str, Any]]]:
    """`{"index": int, "reset": bool, "changes": [{"index": int, "projects": [str]}]}`."""
    if not isinstance(body, dict) or not isinstance(body.get("index"), int):
        raise FeedError("not a change feed answer")
    changes = body.get("changes")
    if not isinstance(changes, list) or not all(
        isinstance(c, dict)
        and isinstance(c.get("index"), int)
        and isinstance(c.get("projects"), list)
        and all(isinstance(p, str) for p in c["projects"])
        for c in changes
    ):
        raise FeedError("malformed changes")
    return body["index"], body.get("reset") is True, changes
