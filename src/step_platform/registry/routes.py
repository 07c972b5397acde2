"""HTTP routes of one kind: the collection route (`/api/configs/`) and the single route
(`/api/config/`, `/api/config/{id}/`), built from the kind's declaration for configs and links.

Handlers only translate: HTTP in (body, query, path) -> validation -> the engine -> JSON out.
Every error leaves as the envelope `{"detail": {"code", "message", ...}}` with field maps in
`detail.fields` and per-item maps in `detail.items` (request order).
"""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..core.errors import ApiError
from ..core.ids import parse_uuid
from ..core.responses import JSON
from . import render
from .engine import Engine, ItemsError, Record
from .filters import QueryError, compile_list
from .kinds import Kind
from .preconditions import if_match, refuse_if_match
from .validation import REQUIRED, Mode, validate_item, validate_items

JSON_TYPES = ("application/json",)
OPTION_TYPES = {
    "uuid": "string",
    "text": "string",
    "float": "float",
    "int": "integer",
    "timestamp": "datetime",
    "json": "json",
}


# --- request bodies -------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"number {text} is out of range")
    return number


async def read_json(request: Request) -> Any:
    """The JSON body (an empty body is `{}`, as the original); 415 for other media types."""
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in JSON_TYPES and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        shown = media or "text/plain"
        raise ApiError(
            415, "UNSUPPORTED_MEDIA_TYPE", f'Unsupported media type "{shown}" in request.'
        )
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        message = str(exc) if not isinstance(exc, RecursionError) else "nesting is too deep"
        raise ApiError(400, "INVALID_JSON", f"JSON parse error - {message}") from None


# --- errors ---------------------------------------------------------------------------------


def invalid(fields: dict[str, list[str]]) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", "Invalid input.", fields=fields)


def invalid_items(items: list[dict[str, list[str]]]) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", "Some items are invalid.", items=items)


def single(exc: ItemsError) -> ApiError:
    """A batch-of-one failure in the single-record form: `detail.fields`."""
    if exc.status in (404, 412):  # the record, not a field, is the problem
        return ApiError(exc.status, exc.code, exc.message)
    return ApiError(exc.status, exc.code, exc.message, fields=exc.items[0])


# --- the routes of one kind -----------------------------------------------------------------


class KindRoutes:
    def __init__(self, kind: Kind, engine: Engine) -> None:
        self.kind = kind
        self.engine = engine
        self.messages = kind.messages()

    def routes(self) -> list[BaseRoute]:
        many, one = f"/api/{self.kind.plural}", f"/api/{self.kind.singular}"
        writes = ["PUT", "PATCH", "DELETE", "OPTIONS"]
        return [
            Route(many, self.collection, methods=["GET", "POST", *writes]),
            Route(one, self.create_one, methods=["POST", "OPTIONS"]),
            Route(f"{one}/{{id}}", self.detail, methods=["GET", *writes]),
        ]

    # dispatch

    async def collection(self, request: Request) -> Response:
        method = request.method
        if method in ("GET", "HEAD"):
            return await self.list(request)
        if method == "POST":
            return await self.bulk_create(request)
        if method in ("PUT", "PATCH"):
            refuse_if_match(request)
            return await self.bulk_update(request, Mode.PUT if method == "PUT" else Mode.PATCH)
        if method == "DELETE":
            refuse_if_match(request)
            return await self.bulk_deactivate(request)
        return self.options(f"{self.kind.label}s Viewset List", ["POST", "PUT"])

    async def detail(self, request: Request) -> Response:
        method = request.method
        if method == "OPTIONS":
            return self.options(f"{self.kind.label} Viewset Instance", ["PUT"])
        raw = request.path_params["id"]
        id = parse_uuid(raw) if "." not in raw else None
        if id is None:
            raise ApiError(404, "NOT_FOUND", "Not found.")
        if method in ("GET", "HEAD"):
            return await self.retrieve(id)
        if method in ("PUT", "PATCH"):
            return await self.update_one(request, id, Mode.PUT if method == "PUT" else Mode.PATCH)
        return await self.deactivate_one(request, id)

    # reads

    async def list(self, request: Request) -> Response:
        query = compile_list(self.kind, request.query_params)
        records, total = await self.engine.list(query)
        results = render.rows(self.kind, records)
        if total is None or query.limit is None:
            return render.RawJSON(results)
        limit, offset = query.limit, query.offset
        url = request.url.replace(path=request.url.path.rstrip("/") + "/")
        following = None
        if offset + limit < total:
            following = str(url.include_query_params(limit=limit, offset=offset + limit))
        previous = None
        if offset > 0:
            previous_url = url.include_query_params(limit=limit)
            if offset - limit > 0:
                previous_url = previous_url.include_query_params(offset=offset - limit)
            else:
                previous_url = previous_url.remove_query_params("offset")
            previous = str(previous_url)
        return render.RawJSON(
            f'{{"count":{total},"next":{json.dumps(following)},'
            f'"previous":{json.dumps(previous)},"results":{results}}}'
        )

    async def retrieve(self, id: uuid.UUID) -> Response:
        record = await self.engine.get(id)
        if record is None:
            raise ApiError(404, "NOT_FOUND", self.messages["not_found"])
        return self.record(record)

    # single writes

    def record(self, record: Record, status_code: int = 200) -> Response:
        """One record's body, with its ETag (for `If-Match` on the next write)."""
        return render.RawJSON(
            render.row(self.kind, record),
            status_code=status_code,
            headers={"ETag": render.etag(record["modified_date"])},
        )

    async def create_one(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return self.options(f"{self.kind.label} Viewset List", ["POST"])
        item, errors = validate_item(self.kind, await read_json(request), Mode.CREATE)
        if item is None:
            raise invalid(errors)
        try:
            (record,) = await self.engine.create([item])
        except ItemsError as exc:
            raise single(exc) from None
        return self.record(record, status_code=201)

    async def update_one(self, request: Request, id: uuid.UUID, mode: Mode) -> Response:
        version = if_match(request)
        item, errors = validate_item(self.kind, await read_json(request), mode, url_id=id)
        if item is None:
            raise invalid(errors)
        item.if_version = version
        try:
            (record,) = await self.engine.update([item], mode)
        except ItemsError as exc:
            raise single(exc) from None
        return self.record(record)

    async def deactivate_one(self, request: Request, id: uuid.UUID) -> Response:
        found = await self.engine.deactivate([id], if_version=if_match(request))
        if id not in found:
            raise ApiError(404, "NOT_FOUND", self.messages["not_found"])
        etag = render.etag(found[id])
        return JSON({"message": self.messages["deactivated"]}, headers={"ETag": etag})

    # bulk writes

    async def bulk_create(self, request: Request) -> Response:
        items, item_errors, body_errors = validate_items(
            self.kind, await read_json(request), Mode.CREATE
        )
        if body_errors:
            raise invalid(body_errors)
        if item_errors:
            raise invalid_items(item_errors)
        records = await self.engine.create(items)
        return render.RawJSON(render.rows(self.kind, records), status_code=201)

    async def bulk_update(self, request: Request, mode: Mode) -> Response:
        items, item_errors, body_errors = validate_items(self.kind, await read_json(request), mode)
        if body_errors:
            raise invalid(body_errors)
        if item_errors:
            raise invalid_items(item_errors)
        records = await self.engine.update(items, mode)
        return render.RawJSON(render.rows(self.kind, records))

    async def bulk_deactivate(self, request: Request) -> Response:
        raw = request.query_params.get("id", "")
        if not raw.strip():
            raise QueryError({"id": [REQUIRED]})
        unique: dict[uuid.UUID, None] = {}  # request order, duplicates once
        for token in raw.split(","):
            parsed = parse_uuid(token) if "\x00" not in token else None
            if parsed is None:
                raise QueryError({"id": ["Enter a valid UUID."]})
            unique[parsed] = None
        ids = list(unique)
        found = await self.engine.deactivate(ids)
        if len(found) == len(ids):
            message = self.messages["all_deactivated"]
        else:
            message = self.messages["some_deactivated"].format(n=len(found), m=len(ids))
        return JSON(
            {
                "message": message,
                "deactivated": [str(i) for i in ids if i in found],
                "not_found": [str(i) for i in ids if i not in found],
            }
        )

    # self-description

    def options(self, name: str, actions: list[str]) -> Response:
        fields = {
            c.name: {
                "type": OPTION_TYPES[c.type],
                "required": c.required,
                "read_only": not c.writable,
                "label": c.name.replace("_", " ").capitalize(),
                **({"max_length": c.max_length} if c.max_length else {}),
            }
            for c in self.kind.columns
        }
        return JSON(
            {
                "name": name,
                "description": "",
                "renders": ["application/json"],
                "parses": ["application/json"],
                "actions": {action: fields for action in actions},
            }
        )
