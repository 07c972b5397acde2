"""The server floors: the smallest Starlette app, served exactly as the services are.

uvicorn --factory hello:app ...   (from bench/, with the services' server settings)

`/` is hello-world: what the server path alone costs. `/api/configs/` (when the registry's database
settings are in the environment) is the least any Python service can do to answer the registry's
list: the registry's own SQL for the same query string (compiled once per distinct query), run
on a pooled connection released without a reset query (the registry's `NoResetConnection`), the
rows rendered by orjson as they come (jsonb left as its text). No middleware, no logging, no
limits, no metrics, no validation: a lower bound for the registry's list, not a service.
`/api/config/{id}/` is the same for the registry's retrieve (its own `get` statement).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from step_platform.registry.db import NoResetConnection, connect_kwargs, database_url_from_env
from step_platform.registry.engine import Engine
from step_platform.registry.filters import compile_list
from step_platform.registry.kinds import CONFIGS


async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": "world"})


async def configs(request: Request) -> Response:
    statements: dict[str, tuple[str, list[Any]]] = request.app.state.statements
    query = request.url.query
    statement = statements.get(query)
    if statement is None:
        select, params, _, _ = compile_list(CONFIGS, request.query_params).sql(CONFIGS)
        statement = statements[query] = (select, params)
    rows = await request.app.state.pool.fetch(statement[0], *statement[1])
    return rendered([dict(row) for row in rows])


async def config(request: Request) -> Response:
    key = uuid.UUID(request.path_params["id"])
    row = await request.app.state.pool.fetchrow(request.app.state.get_sql, key)
    return rendered(dict(row)) if row is not None else Response(status_code=404)


def rendered(value: Any) -> Response:
    return Response(orjson.dumps(value, default=str), media_type="application/json")  # UUIDs


def app() -> Starlette:
    configured = "DB_NAME" in os.environ or "STEP_DATABASE_URL" in os.environ
    url = database_url_from_env(os.environ) if configured else None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.statements = {}
        app.state.get_sql = Engine(CONFIGS, None).sql["get"]  # type: ignore[arg-type]
        if url is None:
            yield
            return
        app.state.pool = await asyncpg.create_pool(
            **connect_kwargs(url), min_size=1, max_size=10, connection_class=NoResetConnection
        )
        try:
            yield
        finally:
            await app.state.pool.close()

    return Starlette(
        routes=[
            Route("/", hello),
            Route("/healthz", hello),
            Route("/api/configs/", configs),
            Route("/api/config/{id}/", config),
        ],
        lifespan=lifespan,
    )
