"""The hello-world floor: the smallest Starlette app, served exactly as the services are.

uvicorn --factory hello:app ...   (from bench/, with the services' server settings)
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": "world"})


def app() -> Starlette:
    return Starlette(routes=[Route("/", hello), Route("/healthz", hello)])
