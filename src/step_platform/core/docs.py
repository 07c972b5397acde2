"""OpenAPI documents and Swagger UI served from the local `swagger-ui-bundle` assets.

The originals load Swagger UI from a CDN; ours works offline. Each service writes its OpenAPI
3.0.3 document as data (its own `openapi.py`) using the helpers here for the parts every
service shares (error envelope, context headers, bearer security).
"""

from __future__ import annotations

import copy
import html
import json
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_UI = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-ui-standalone-preset.js"></script>
<script src="{assets}/init.js" data-url="{schema}"></script>
</body></html>
"""

_INIT = """(function () {
  var url = document.currentScript.getAttribute('data-url');
  window.ui = SwaggerUIBundle({url: url, dom_id: '#swagger-ui', deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout'});
})();
"""


# Swagger UI's files change only with the installed `swagger-ui-bundle`: browsers may keep them
# for a day and revalidate with the ETag StaticFiles sends; the UI page and the document itself
# are not cached (they change with the service).
ASSET_CACHE_CONTROL = "public, max-age=86400"


class _Cached:
    """Pure-ASGI wrapper that adds `Cache-Control` to the wrapped app's 200 responses."""

    def __init__(self, app: ASGIApp, value: str) -> None:
        self.app = app
        self.header = (b"cache-control", value.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_cached(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                message = {**message, "headers": [*message.get("headers", []), self.header]}
            await send(message)

        await self.app(scope, receive, send_cached)


@lru_cache(maxsize=1)
def _assets_dir() -> str:
    import swagger_ui_bundle

    return str(swagger_ui_bundle.swagger_ui_path)


def docs_routes(
    document: Callable[[], dict[str, Any]],
    *,
    title: str,
    ui_path: str,
    schema_path: str,
    examples: Mapping[str, str] | None = None,
) -> list[BaseRoute]:
    """Swagger UI at `ui_path`, the document at `schema_path`, `/` -> 301 to the UI.

    `examples` maps header parameter names to the value Swagger UI pre-fills in "Try it out".
    """
    assets = f"{ui_path}/assets"
    page = _UI.format(title=html.escape(title), assets=assets, schema=f"{schema_path}/?format=json")
    cache: dict[str, bytes] = {}

    def rendered(fmt: str) -> bytes:
        if fmt not in cache:
            doc = with_header_examples(document(), examples or {})
            if fmt == "json":
                cache[fmt] = json.dumps(doc, ensure_ascii=False, indent=2).encode()
            else:
                cache[fmt] = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode()
        return cache[fmt]

    async def ui(request: Request) -> Response:
        return HTMLResponse(page)

    async def init_js(request: Request) -> Response:
        return Response(
            _INIT,
            media_type="application/javascript",
            headers={"Cache-Control": ASSET_CACHE_CONTROL},
        )

    async def schema(request: Request) -> Response:
        fmt = request.query_params.get("format", "")
        wants_json = fmt == "json" or (
            not fmt and "application/json" in request.headers.get("accept", "")
        )
        if wants_json:
            return Response(rendered("json"), media_type="application/vnd.oai.openapi+json")
        return Response(
            rendered("yaml"),
            media_type="application/vnd.oai.openapi; charset=utf-8",
            headers={"Content-Disposition": f'inline; filename="{title}.yaml"'},
        )

    async def root(request: Request) -> Response:
        return RedirectResponse(f"{ui_path}/", status_code=301)

    return [
        Route("/", root, methods=["GET", "HEAD"]),
        Route(ui_path, ui, methods=["GET", "HEAD"]),
        Route(schema_path, schema, methods=["GET", "HEAD"]),
        Route(f"{assets}/init.js", init_js, methods=["GET", "HEAD"]),
        Mount(assets, app=_Cached(StaticFiles(directory=_assets_dir()), ASSET_CACHE_CONTROL)),
    ]


def with_header_examples(doc: dict[str, Any], examples: Mapping[str, str]) -> dict[str, Any]:
    """A copy of `doc` whose header parameters named in `examples` carry that example."""
    if not examples:
        return doc
    doc = copy.deepcopy(doc)
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "header" and parameter.get("name") in examples:
                    parameter["example"] = examples[parameter["name"]]
    return doc


# --- pieces of OpenAPI documents every service shares ---------------------------------------

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
                "upstream": {"type": "string"},
            },
            "additionalProperties": True,
        }
    },
}


def error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


CONTEXT_HEADERS: list[dict[str, Any]] = [
    {
        "name": "Project-ID",
        "in": "header",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    },
    {
        "name": "Account-ID",
        "in": "header",
        "required": False,
        "description": "A UUID; leave the header out for no account (a blank value is 400).",
        "schema": {"type": "string", "format": "uuid"},
    },
]

BEARER_SCHEME: dict[str, Any] = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def document(
    title: str,
    version: str,
    description: str,
    paths: dict[str, Any],
    schemas: dict[str, Any] | None = None,
    *,
    bearer: bool = False,
) -> dict[str, Any]:
    components: dict[str, Any] = {"schemas": {"Error": ERROR_SCHEMA, **(schemas or {})}}
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": components,
    }
    if bearer:
        components["securitySchemes"] = {"jwtAuth": BEARER_SCHEME}
        doc["security"] = [{"jwtAuth": []}]
    return doc
