"""One overall deadline per step request (`STEP_REQUEST_DEADLINE`).

Each upstream call has its own timeout, but join and send_solution make several calls in a
row; without an overall bound they ran past nginx's read timeout, so the client saw nginx's
504 while the operation went on and succeeded. Now, past the deadline, step answers 504
`DEADLINE_EXCEEDED` itself and cancels the work; a cancelled send undoes its claim (the
compensation path of `contests/submission.py`), which finishes in the background after the
answer. nginx's `proxy_read_timeout` is rendered from this deadline (devstack/nginx.py), so
step always answers first.

A wrapper, not a change to the handlers: it holds whatever the routes do.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.errors import ApiError

log = logging.getLogger("step_platform.step")

# join and send_solution: a handful of sequential Raida calls, each bounded by its connect
# and total timeouts.
CALLS_PER_REQUEST = 3
DEFAULT_CONNECT_TIMEOUT = 2.0  # UPSTREAM_CONNECT_TIMEOUT's default


def default_request_deadline(
    upstream_timeout: float, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
) -> float:
    return CALLS_PER_REQUEST * (connect_timeout + upstream_timeout)


def deadline_exceeded(seconds: float) -> ApiError:
    return ApiError(
        504,
        "DEADLINE_EXCEEDED",
        f"Запрос не выполнен за {seconds:g} с.",
        deadline=seconds,
    )


class DeadlineMiddleware:
    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self._background: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        answered = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:  # the deadline's 504 went out: the late answer is dropped
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        work = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        try:
            done, _ = await asyncio.wait({work}, timeout=self.seconds)
        except asyncio.CancelledError:  # the server is stopping: stop the work too
            work.cancel()
            raise
        if done:
            work.result()
            return
        if started:  # a response is under way: let it finish
            await work
            return
        answered = True
        work.cancel()  # a send in progress undoes itself; it may outlive this answer
        self._background.add(work)
        work.add_done_callback(self._finished)
        log.warning("%s %s: past the %gs deadline", scope["method"], scope["path"], self.seconds)
        await deadline_exceeded(self.seconds).response()(scope, receive, send)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("work cancelled at the deadline ended with %r", task.exception())
