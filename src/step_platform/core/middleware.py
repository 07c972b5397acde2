"""Pure ASGI middleware shared by every service.

Order (outermost first), assembled in `core.app.build_app`: request context (id, served-by,
access log, last-resort 500), CORS (step only), allowed hosts, body size limit, path
normalisation. Each is small and independent so a service can be tested with any subset.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import context
from .errors import MESSAGES, ApiError, internal_error_body
from .limits import LIMITS, LimitExceeded
from .settings import host_allowed

access_log = logging.getLogger("step_platform.access")
error_log = logging.getLogger("step_platform.errors")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def raw_header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header `name` (lower case) as sent."""
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    value = raw_header(scope, name)
    return None if value is None else value.decode("latin-1")


class RequestContextMiddleware:
    """Request id in and out, `X-Served-By`, one JSON access-log line, and the last-resort 500."""

    def __init__(self, app: ASGIApp, *, service: str, instance_id: str, language: str) -> None:
        self.app = app
        self.served_by = f"{service}/{instance_id}".encode()
        self.service = service
        self.language = language

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        rid = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        token = context.request_id.set(rid)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k not in (b"x-request-id", b"x-served-by")
                ]
                headers += [(b"x-request-id", rid.encode()), (b"x-served-by", self.served_by)]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            error_log.exception("unhandled error", extra={"request_id": rid})
            if not response_started:
                body = internal_error_body(self.language)
                await send_wrapper(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
        finally:
            context.request_id.reset(token)
            access_log.info(
                "request",
                extra={
                    "fields": {
                        "service": self.service,
                        "request_id": rid,
                        "method": scope.get("method"),
                        "path": scope.get("path"),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    }
                },
            )


class AllowedHostsMiddleware:
    """Django-style ALLOWED_HOSTS; health and metrics routes stay reachable for orchestrators'
    probes and scrapers, which address a pod by its IP."""

    EXEMPT = ("/healthz", "/readyz", "/metrics")

    def __init__(self, app: ASGIApp, *, allowed: tuple[str, ...], language: str) -> None:
        self.app = app
        self.allowed = allowed
        self.language = language

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path", "").rstrip("/") not in self.EXEMPT:
            host = _header(scope, b"host") or ""
            if not host_allowed(host, self.allowed):
                message = MESSAGES[self.language]["DISALLOWED_HOST"].format(host=host[:200])
                await ApiError(400, "DISALLOWED_HOST", message).response()(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """413 for bodies over the limit, by Content-Length up front or by counting a stream."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, language: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.language = language

    def _reject(self) -> ApiError:
        return ApiError(
            413,
            "PAYLOAD_TOO_LARGE",
            MESSAGES[self.language]["PAYLOAD_TOO_LARGE"],
            limit=self.max_bytes,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length and length.isdigit() and int(length) > self.max_bytes:
            await self._reject().response()(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject().response()(scope, receive, send)


_SLASHES = re.compile(r"/{2,}")


def normalise_path(path: str) -> str:
    """Doubled slashes collapsed and the final slash dropped: the form routes are declared in."""
    normalised = _SLASHES.sub("/", path)
    if len(normalised) > 1:
        normalised = normalised.rstrip("/") or "/"
    return normalised


class PathNormalizeMiddleware:
    """Every route answers with and without its final slash and with doubled slashes.

    Routes are declared without the final slash; the path is collapsed and stripped here, so
    no redirect hop is ever needed (the originals answer 301 and lose bodies on POST).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            path: str = scope.get("path", "/")
            normalised = normalise_path(path)
            if normalised != path:
                scope = dict(scope)
                scope["path"] = normalised
                scope.pop("raw_path", None)
        await self.app(scope, receive, send)


def instance_id_from(env: Any) -> str:
    import os
    import socket

    return env.get("INSTANCE_ID") or f"{socket.gethostname()}-{os.getpid()}"


class CancelOnDisconnect:
    """Stops a request's work when its client goes away, so a database statement is cancelled
    (asyncpg sends the server a cancel request) instead of holding a pooled connection for an
    answer nobody reads.

    Once the whole body has been received, a watcher waits for `http.disconnect`; the app runs
    in a task of its own, which the watcher cancels. An app that reads again after its body
    gets the watcher's message, so there is never more than one reader of `receive`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        watcher: asyncio.Task[Message] | None = None
        work: asyncio.Task[None] | None = None

        async def watch() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect" and work is not None:
                work.cancel()
            return message

        async def app_receive() -> Message:
            nonlocal watcher
            if watcher is not None:
                return await asyncio.shield(watcher)
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                watcher = asyncio.ensure_future(watch())
            return message

        work = asyncio.ensure_future(self.app(scope, app_receive, send))
        try:
            await work
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the server is stopping us: the cancel reached `work` too
            error_log.info("client went away; request cancelled")
        finally:
            if watcher is not None and not watcher.done():
                watcher.cancel()


class HeaderLimitMiddleware:
    """400 `LIMIT_EXCEEDED` (`header_bytes`) for requests whose headers together pass the cap:
    every header is parsed and copied for each request, and proxies forward them upstream."""

    def __init__(self, app: ASGIApp, *, language: str) -> None:
        self.app = app
        self.language = language

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = sum(len(k) + len(v) for k, v in scope.get("headers", []))
            if size > LIMITS.header_bytes:
                error = LimitExceeded("header_bytes", LIMITS.header_bytes, self.language)
                await error.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)
