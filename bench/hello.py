"""The server floors: the smallest Starlette app, served exactly as the services are.

uvicorn --factory hello:app ...   (from bench/, with the services' server settings)

`/` is hello-world: what the server path alone costs. `/api/configs/` (when the registry's database
settings are in the environment) is the least any Python service can do to answer the registry's
list: the registry's own SQL for the same query string (compiled once per distinct query), run
on a pooled connection released without a reset query (the registry's `NoResetConnection`), the
rows rendered by orjson as they come (jsonb left as its text). No middleware, no logging, no
limits, no metrics, no validation: a lower bound for the registry's list, not a service.
`/api/config/{id}/` is the same for the registry's retrieve (its own `get` statement).

`/contests/user/my/tasks/` and `/contests/user/my/history/` (when Raida's settings, step's
`BASE_URL`, `USER_RAIDA` and `PASSWD_RAIDA`, are in the environment) are the least step can do
for those reads: the same two Raida searches sent at once on one pooled httpx client, the bodies
parsed as step parses them (`core.upstream.loads`), joined and presented by step's own functions
and rendered as step renders a list. No token check (the user is `BARE_USER_ID`), no config
read (the seed's config set), no middleware, logging, metrics or error mapping: a lower bound
for step's read on the same libraries, not a service.
"""

from __future__ import annotations

import asyncio
import gc
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from step_platform.contests import config_format as need
from step_platform.contests.config_format import validate
from step_platform.contests.envelopes import ok_list
from step_platform.contests.presenters import history_item, my_task_item, with_application
from step_platform.contests.routes import (
    MSG_HISTORY,
    MSG_MY_TASKS,
    history_searches,
    my_tasks_searches,
)
from step_platform.core.upstream import loads
from step_platform.registry.db import NoResetConnection, connect_kwargs, database_url_from_env
from step_platform.registry.engine import Engine
from step_platform.registry.filters import compile_list
from step_platform.registry.kinds import CONFIGS
from step_platform.seed import seed_config_set


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


# --- the bare step reads ---------------------------------------------------------------------


@dataclass(frozen=True)
class BareStep:
    client: httpx.AsyncClient
    node: str
    completed: str
    queries: dict[str, tuple[str, str]]  # read -> (its contests search, its tasks search)
    tz: ZoneInfo

    async def search(self, query: str) -> list[dict[str, Any]]:
        response = await self.client.post(
            f"/api/tasks/rql/{self.node}", json={"rql": query, "fields": []}
        )
        data: list[dict[str, Any]] = loads(response.content)["data"]
        return data

    async def joined(self, read: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The read's (contest, application) pairs, both searches sent at once."""
        contests, tasks = await asyncio.gather(*(self.search(q) for q in self.queries[read]))
        return with_application(contests, tasks)


def bare_step(client: httpx.AsyncClient, user_id: str) -> BareStep:
    """Step's searches for `user_id` with the seed's config set (what the bench loads)."""
    mine = validate(seed_config_set(), need.MY_TASKS)
    history = validate(seed_config_set(), need.HISTORY)
    return BareStep(
        client=client,
        node=mine["node_id.value"],
        completed=mine["task_status_id.completed"],
        queries={
            "my tasks": my_tasks_searches(mine, user_id),
            "history": history_searches(history, user_id),
        },
        tz=ZoneInfo(os.environ.get("TIME_ZONE", "Europe/Moscow")),
    )


async def my_tasks(request: Request) -> Response:
    bare: BareStep = request.app.state.step
    pairs = await bare.joined("my tasks")
    return ok_list(MSG_MY_TASKS, [my_task_item(c, t, bare.completed, bare.tz) for c, t in pairs])


async def my_history(request: Request) -> Response:
    bare: BareStep = request.app.state.step
    pairs = await bare.joined("history")
    return ok_list(MSG_HISTORY, [history_item(c, t, bare.tz) for c, t in pairs])


@asynccontextmanager
async def raida_client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A pooled client holding a Raida token fetched once (as step's, which refreshes it)."""
    async with httpx.AsyncClient(base_url=base_url, trust_env=False) as client:
        response = await client.post(
            "/api/users/token",
            data={"username": os.environ["USER_RAIDA"], "password": os.environ["PASSWD_RAIDA"]},
        )
        response.raise_for_status()
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        yield client


def app() -> Starlette:
    configured = "DB_NAME" in os.environ or "STEP_DATABASE_URL" in os.environ
    url = database_url_from_env(os.environ) if configured else None
    raida = os.environ.get("BASE_URL")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.statements = {}
        app.state.get_sql = Engine(CONFIGS, None).sql["get"]  # type: ignore[arg-type]
        async with AsyncExitStack() as stack:
            if url is not None:
                app.state.pool = await asyncpg.create_pool(
                    **connect_kwargs(url),
                    min_size=1,
                    max_size=10,
                    connection_class=NoResetConnection,
                )
                stack.push_async_callback(app.state.pool.close)
            if raida is not None:
                client = await stack.enter_async_context(raida_client(raida))
                app.state.step = bare_step(client, os.environ["BARE_USER_ID"])
            yield

    application = Starlette(
        routes=[
            Route("/", hello),
            Route("/healthz", hello),
            Route("/api/configs/", configs),
            Route("/api/config/{id}/", config),
            Route("/contests/user/my/tasks/", my_tasks),
            Route("/contests/user/my/history/", my_history),
        ],
        lifespan=lifespan,
    )
    gc.freeze()  # as the services' factories do (`step_platform.asgi.app_from_env`)
    return application
