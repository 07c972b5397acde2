"""The configs registry service: settings, the app factory and its lifespan.

step-platform migrate           # the schema first (idempotent, advisory-locked)
step-platform serve registry    # seed env: DB_* ALLOWED_HOSTS SECRET_KEY DEBUG
uvicorn --factory step_platform.asgi:registry --workers 2
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypedDict

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core import settings as env
from ..core.app import CommonSettings, build_app
from ..core.changes import ChangeSignal
from ..core.docs import docs_routes
from ..core.errors import ApiError
from ..core.hardening_docs import with_hardening, writes
from ..core.health import health_routes
from ..core.idempotency import WRITES, IdempotencyMiddleware
from ..core.metrics import METRICS_PATH
from ..core.middleware import CancelOnDisconnect
from ..core.versions import REGISTRY_API
from . import migrations, openapi
from .db import FAULTS, DatabaseUnavailable, Deadlines, Store, database_url_from_env
from .engine import Engine
from .idempotency import PostgresKeys
from .kinds import KINDS
from .listener import RevisionListener
from .routes import KindRoutes, RevisionRoutes, store_of

log = logging.getLogger("step_platform.registry")

SERVICE = "registry"
# the original's /api/info/ body, byte for byte (its JSON renderer's indent of 4)
INFO = json.dumps({"version": REGISTRY_API, "add-ons": []}, indent=4).encode()


@dataclass(frozen=True)
class Settings:
    database_url: str
    common: CommonSettings = field(default_factory=CommonSettings)
    pool_size: int = 10
    deadlines: Deadlines = field(default_factory=Deadlines)
    costly_slots: int = 1  # DB_COSTLY_QUERIES: searches and data filters run at once
    api_token: str = field(default="", repr=False)  # REGISTRY_API_TOKEN; "" keeps it open

    @classmethod
    def from_env(cls, e: Mapping[str, str]) -> Settings:
        """The seed's names: DB_NAME DB_USER DB_PASSWORD DB_HOST DB_PORT ALLOWED_HOSTS (comma)
        SECRET_KEY DEBUG; `STEP_DATABASE_URL` overrides the DB_* set; `DB_POOL_SIZE`;
        `DB_CONNECT_TIMEOUT` and `DB_STATEMENT_TIMEOUT` (seconds)."""
        return cls(
            database_url=database_url_from_env(e),
            common=CommonSettings.from_env(e, hosts_var="ALLOWED_HOSTS", sep=","),
            pool_size=env.integer(e, "DB_POOL_SIZE", 10, minimum=1),
            deadlines=Deadlines(
                connect=env.number(e, "DB_CONNECT_TIMEOUT", 2.0, minimum=0.1),
                statement=env.number(e, "DB_STATEMENT_TIMEOUT", 5.0, minimum=0.1),
            ),
            api_token=env.optional(e, "REGISTRY_API_TOKEN") or "",
            costly_slots=env.integer(e, "DB_COSTLY_QUERIES", 1, minimum=1),
        )


SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """The headers the original (Django's security middleware) puts on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


class TokenRequired:
    """With `REGISTRY_API_TOKEN` set, every request needs `Authorization: Bearer <token>`
    (401 otherwise); the health routes and `/metrics` stay open for orchestrators' probes and
    scrapers (not exposed publicly). Unset, the registry is open as the original."""

    OPEN = ("/healthz", "/readyz", METRICS_PATH)

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].rstrip("/") not in self.OPEN:
            given = dict(scope.get("headers", [])).get(b"authorization")
            if given is None or not hmac.compare_digest(given, self.expected):
                code = "TOKEN_MISSING" if given is None else "TOKEN_INCORRECT"
                message = "Authentication credentials were not provided." if given is None \
                    else "Invalid token."  # fmt: skip
                error = ApiError(401, code, message, headers={"WWW-Authenticate": "Bearer"})
                await error.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """A database fault that escaped the store (it translates its own): still 503."""
    log.warning("database unavailable: %r", exc)
    return DatabaseUnavailable().response()


async def info(request: Request) -> Response:
    return Response(INFO, media_type="application/json")


class State(TypedDict):
    """What the lifespan opens; Starlette copies it into every request (`request.state`)."""

    store: Store
    engines: dict[str, Engine]
    signal: ChangeSignal
    listener: RevisionListener


class PostgresIdempotency:
    """`Idempotency-Key` replay with the keys in the lifespan's database: the key store is
    the request's (`scope["state"]`), so nothing is bound before the lifespan opens it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES:  # reads: nothing to replay
            await self.app(scope, receive, send)
            return
        keys = PostgresKeys(scope["state"]["store"])
        await IdempotencyMiddleware(self.app, store=keys)(scope, receive, send)


def create_app(
    settings: Settings, *, transports: Mapping[str, httpx.AsyncBaseTransport] | None = None
) -> Starlette:
    """The registry app; its resources (the pool, the LISTEN connection, the change signal)
    open in the lifespan and reach handlers as `request.state` (`State`). It calls no
    upstream: `transports` is accepted for the common factory signature."""
    metrics = settings.common.metrics()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        store = Store(
            settings.database_url,
            pool_size=settings.pool_size,
            deadlines=settings.deadlines,
            costly_slots=settings.costly_slots,
            metrics=metrics,
        )
        signal = ChangeSignal()
        listener = RevisionListener(settings.database_url, signal)
        await store.connect()
        try:
            await listener.start()
            try:
                yield State(
                    store=store,
                    engines={kind.plural: Engine(kind, store) for kind in KINDS},
                    signal=signal,
                    listener=listener,
                )
            finally:
                await listener.stop()
        finally:
            await store.disconnect()

    async def database_answers(request: Request) -> None:
        async with store_of(request).connection() as conn:
            await conn.fetchval("SELECT 1")

    async def schema_is_current(request: Request) -> None:
        async with store_of(request).connection() as conn:
            missing = await migrations.pending(conn)
        if missing:
            raise RuntimeError(f"migrations not applied: {', '.join(missing)}")

    routes: list[BaseRoute] = []
    for kind in KINDS:
        routes += KindRoutes(kind).routes()
    routes += RevisionRoutes().routes()
    routes.append(Route("/info", info, methods=["GET", "OPTIONS"]))
    routes += health_routes({"database": database_answers, "schema": schema_is_current})
    routes += docs_routes(
        with_hardening(openapi.build, idempotent=writes),
        title="Registry API",
        ui_path="/swagger-ui",
        schema_path="/schema",
    )
    app = build_app(
        service=SERVICE,
        routes=routes,
        common=settings.common,
        lifespan=lifespan,
        inner=[Middleware(PostgresIdempotency)],
        metrics=metrics,
    )
    app.add_middleware(SecurityHeaders)
    if settings.api_token:
        app.add_middleware(TokenRequired, token=settings.api_token)
    app.add_middleware(CancelOnDisconnect)
    for error in FAULTS:
        app.add_exception_handler(error, database_unavailable)
    return app
