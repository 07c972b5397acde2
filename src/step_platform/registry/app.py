"""The configs registry service: settings, the app factory and its lifespan.

    step-platform serve registry                  # seed env: DB_* ALLOWED_HOSTS SECRET_KEY DEBUG
    uvicorn --factory step_platform.registry.app:create_app_from_env
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..core import settings as env
from ..core.app import CommonSettings, build_app
from ..core.docs import docs_routes
from ..core.health import health_routes
from . import migrations, openapi
from .db import Store, database_url_from_env
from .engine import Engine
from .kinds import KINDS
from .routes import KindRoutes

SERVICE = "registry"
INFO = b'{\n    "version": "0.6.0",\n    "add-ons": []\n}'


@dataclass(frozen=True)
class Settings:
    database_url: str
    common: CommonSettings = field(default_factory=CommonSettings)
    pool_size: int = 10

    @property
    def debug(self) -> bool:
        return self.common.debug

    @classmethod
    def from_env(cls, e: Mapping[str, str]) -> Settings:
        """The seed's names: DB_NAME DB_USER DB_PASSWORD DB_HOST DB_PORT ALLOWED_HOSTS (comma)
        SECRET_KEY DEBUG; `STEP_DATABASE_URL` overrides the DB_* set; `DB_POOL_SIZE`."""
        return cls(
            database_url=database_url_from_env(e),
            common=CommonSettings.from_env(e, hosts_var="ALLOWED_HOSTS", sep=","),
            pool_size=env.integer(e, "DB_POOL_SIZE", 10, minimum=1),
        )


async def info(request: Request) -> Response:
    return Response(INFO, media_type="application/json")


def create_app(
    settings: Settings, *, transports: Mapping[str, httpx.AsyncBaseTransport] | None = None
) -> Starlette:
    """The registry app; the pool opens in the lifespan. It calls no upstream: `transports`
    is accepted for the common factory signature."""
    store = Store(settings.database_url, pool_size=settings.pool_size)
    engines = {kind.plural: Engine(kind, store) for kind in KINDS}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        await store.connect()
        try:
            yield {}
        finally:
            await store.disconnect()

    async def database_answers(request: Request) -> None:
        async with store.connection() as conn:
            await conn.fetchval("SELECT 1")

    async def schema_is_current(request: Request) -> None:
        async with store.connection() as conn:
            missing = await migrations.pending(conn)
        if missing:
            raise RuntimeError(f"migrations not applied: {', '.join(missing)}")

    routes: list[BaseRoute] = []
    for kind in KINDS:
        routes += KindRoutes(kind, engines[kind.plural]).routes()
    routes.append(Route("/info", info, methods=["GET", "OPTIONS"]))
    routes += health_routes({"database": database_answers, "schema": schema_is_current})
    routes += docs_routes(
        openapi.build, title="Registry API", ui_path="/swagger-ui", schema_path="/schema"
    )
    app = build_app(service=SERVICE, routes=routes, common=settings.common, lifespan=lifespan)
    app.state.store = store
    return app


def create_app_from_env() -> Starlette:
    """For `uvicorn --factory` / gunicorn: settings from the process environment."""
    return create_app(Settings.from_env(os.environ))
