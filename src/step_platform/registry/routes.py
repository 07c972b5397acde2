"""HTTP routes of one kind: the collection route (`/api/configs/`) and the single route
(`/api/config/`, `/api/config/{id}/`), built from the kind's declaration for configs and links.

Handlers only translate: HTTP in (body, query, path) -> validation -> the engine -> JSON out.
Every error leaves as the envelope `{"detail": {"code", "message", ...}}` with field maps in
`detail.fields` and per-item maps in `detail.items` (request order).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..core.bodies import JsonBodies
from ..core.changes import ChangeSignal
from ..core.errors import ApiError
from ..core.ids import parse_uuid
from ..core.responses import JSON
from ..core.state import resource
from ..core.watch import HEADER as INDEX_HEADER
from ..core.watch import Indexed, block, parse_read_watch, parse_watch
from . import render, revisions
from .db import Store
from .engine import Engine, ItemsError, Record
from .filters import QueryError, compile_list
from .kinds import Kind
from .preconditions import if_match, one_version, refuse_if_match
from .revisions import audit_from
from .validation import REQUIRED, Mode, validate_item, validate_items

OPTION_TYPES = {
    "uuid": "string",
    "text": "string",
    "float": "float",
    "int": "integer",
    "timestamp": "datetime",
    "json": "json",
}


# --- request bodies -------------------------------------------------------------------------

BODIES = JsonBodies(language="en", parse_code="INVALID_JSON", untyped_is_json=False)


async def read_json(request: Request) -> Any:
    """The JSON body within the caps (an empty body is `{}`, as the original); 415 for other
    media types."""
    return await BODIES.read(request)


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


def index_headers(found: Indexed, **more: str) -> dict[str, str]:
    return {INDEX_HEADER: str(found.index), **more}


def page_links(request: Request, limit: int, offset: int, total: int) -> tuple[str | None, ...]:
    """The paged form's `next` and `previous` URLs (the original's, DRF's limit/offset)."""
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
    return following, previous


def paged(request: Request, limit: int, offset: int, total: int, results: str) -> str:
    following, previous = page_links(request, limit, offset, total)
    return (
        f'{{"count":{total},"next":{json.dumps(following)},'
        f'"previous":{json.dumps(previous)},"results":{results}}}'
    )


def parse_index(body: Any) -> tuple[int, uuid.UUID | None]:
    """A rollback body: `{"index": <revision index>, "user_id": <optional writer>}`."""
    if not isinstance(body, dict):
        raise invalid({"non_field_errors": ["Expected an object."]})
    index: Any = body.get("index")
    fields: dict[str, list[str]] = {}
    if isinstance(index, bool) or not isinstance(index, int) or not 1 <= index < 2**63:
        fields["index"] = ["A revision index (a whole number of 1 or more) is required."]
    user_id = None
    if body.get("user_id") is not None:
        user_id = parse_uuid(body["user_id"])
        if user_id is None:
            fields["user_id"] = ["Must be a valid UUID."]
    if fields:
        raise invalid(fields)
    return index, user_id


def store_of(request: Request) -> Store:
    """The pool the lifespan opened (`registry.app.State`)."""
    return resource(request, "store", Store)


def signal_of(request: Request) -> ChangeSignal:
    """The change signal the lifespan's LISTEN connection feeds."""
    return resource(request, "signal", ChangeSignal)


class KindRoutes:
    """The routes of one kind; the engine and the change signal come from the lifespan's
    state, per request."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self.messages = kind.messages()

    def engine(self, request: Request) -> Engine:
        """The kind's engine over the lifespan's pool (`registry.app.State`)."""
        engines: dict[str, Engine] = resource(request, "engines", dict)
        return engines[self.kind.plural]

    async def version(self, request: Request, id: uuid.UUID) -> dt.datetime | None:
        """If-Match as the one version the write checks; a list of several of our tags needs
        the record's current one (the write re-checks it, so a race is still 412)."""
        candidates = if_match(request)
        if candidates is None or len(candidates) <= 1:
            return one_version(candidates, None)
        record, _ = await self.engine(request).get_indexed(id)
        return one_version(candidates, None if record is None else record["modified_date"])

    def routes(self) -> list[BaseRoute]:
        many, one = f"/api/{self.kind.plural}", f"/api/{self.kind.singular}"
        writes = ["PUT", "PATCH", "DELETE", "OPTIONS"]
        return [
            Route(many, self.collection, methods=["GET", "POST", *writes]),
            Route(one, self.create_one, methods=["POST", "OPTIONS"]),
            Route(f"{one}/{{id}}", self.detail, methods=["GET", *writes]),
            Route(f"{one}/{{id}}/history", self.history, methods=["GET"]),
            Route(f"{one}/{{id}}/rollback", self.rollback, methods=["POST"]),
        ]

    def object_id(self, request: Request) -> uuid.UUID:
        raw = request.path_params["id"]
        id = parse_uuid(raw) if "." not in raw else None
        if id is None:
            raise ApiError(404, "NOT_FOUND", "Not found.")
        return id

    # dispatch

    async def collection(self, request: Request) -> Response:
        method = request.method
        if method in ("GET", "HEAD"):
            return await self.list_view(request)
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
        id = self.object_id(request)
        if method in ("GET", "HEAD"):
            return await self.retrieve(request, id)
        if method in ("PUT", "PATCH"):
            return await self.update_one(request, id, Mode.PUT if method == "PUT" else Mode.PATCH)
        return await self.deactivate_one(request, id)

    # reads

    async def list_view(self, request: Request) -> Response:
        """The list; with `?index=N&wait=W` a blocking query (`core.watch`) woken by any
        instance's write to the list's projects (LISTEN/NOTIFY, `listener`)."""
        watch = parse_read_watch(request.query_params)
        query = compile_list(self.kind, request.query_params)
        scope = revisions.scope_sql(self.kind, request.query_params)

        async def read() -> tuple[list[Record], int | None, Indexed]:
            return await self.engine(request).list_indexed(query, scope)

        records, total, found = await block(
            watch, signal_of(request), scope.projects, read, lambda result: result[2]
        )
        results = render.rows(self.kind, records)
        headers = index_headers(found, **{"X-Config-Latest-Index": str(found.latest)})
        if total is None or query.limit is None:
            return render.RawJSON(results, headers=headers)
        return render.RawJSON(
            paged(request, query.limit, query.offset, total, results), headers=headers
        )

    async def retrieve(self, request: Request, id: uuid.UUID) -> Response:
        record, found = await self.engine(request).get_indexed(id)
        if record is None:
            raise ApiError(404, "NOT_FOUND", self.messages["not_found"])
        response = self.record(record)
        response.headers[INDEX_HEADER] = str(found.index)
        return response

    async def history(self, request: Request) -> Response:
        """The object's revisions, newest first (the audit list's paging and filters)."""
        id = self.object_id(request)
        audit = revisions.compile_audit(request.query_params, kind=self.kind, id=id)
        async with store_of(request).connection() as conn:
            index, _ = await revisions.object_index(conn, self.kind, id)
            records, total, _ = await revisions.audit_page(conn, audit)
            if not index and not await conn.fetch(self.engine(request).sql["existing"], [id]):
                raise ApiError(404, "NOT_FOUND", self.messages["not_found"])
        results = "[" + ",".join(revisions.render_revision(r) for r in records) + "]"
        body = paged(request, audit.limit, audit.offset, total, results)
        return render.RawJSON(body, headers={INDEX_HEADER: str(index)})

    async def rollback(self, request: Request) -> Response:
        """`{"index": N}`: the row as revision N left it (writable fields, meta, data); If-Match
        honoured; the rollback is itself a new revision (`restores: N`)."""
        id = self.object_id(request)
        version = await self.version(request, id)
        index, user_id = parse_index(await read_json(request))
        record = await self.engine(request).rollback(
            id, index, if_version=version, user_id=user_id, audit=audit_from(request.headers)
        )
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
            (record,) = await self.engine(request).create([item], audit_from(request.headers))
        except ItemsError as exc:
            raise single(exc) from None
        return self.record(record, status_code=201)

    async def update_one(self, request: Request, id: uuid.UUID, mode: Mode) -> Response:
        version = await self.version(request, id)
        item, errors = validate_item(self.kind, await read_json(request), mode, url_id=id)
        if item is None:
            raise invalid(errors)
        item.if_version = version
        try:
            (record,) = await self.engine(request).update([item], mode, audit_from(request.headers))
        except ItemsError as exc:
            raise single(exc) from None
        return self.record(record)

    async def deactivate_one(self, request: Request, id: uuid.UUID) -> Response:
        found = await self.engine(request).deactivate(
            [id], if_version=await self.version(request, id), audit=audit_from(request.headers)
        )
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
        records = await self.engine(request).create(items, audit_from(request.headers))
        return render.RawJSON(render.rows(self.kind, records), status_code=201)

    async def bulk_update(self, request: Request, mode: Mode) -> Response:
        items, item_errors, body_errors = validate_items(self.kind, await read_json(request), mode)
        if body_errors:
            raise invalid(body_errors)
        if item_errors:
            raise invalid_items(item_errors)
        records = await self.engine(request).update(items, mode, audit_from(request.headers))
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
        found = await self.engine(request).deactivate(ids, audit=audit_from(request.headers))
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


class RevisionRoutes:
    """`/api/revisions/` (the audit list of both kinds) and `/api/changes/` (the change feed
    the configs service follows: what changed after an index, oldest first, blocking)."""

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/revisions", self.audit, methods=["GET"]),
            Route("/api/changes", self.changes, methods=["GET"]),
        ]

    async def audit(self, request: Request) -> Response:
        query = revisions.compile_audit(request.query_params)
        async with store_of(request).connection() as conn:
            records, total, latest = await revisions.audit_page(conn, query)
        results = "[" + ",".join(revisions.render_revision(r) for r in records) + "]"
        body = paged(request, query.limit, query.offset, total, results)
        return render.RawJSON(body, headers={INDEX_HEADER: str(latest)})

    async def changes(self, request: Request) -> Response:
        """Without `index`: `{"index": <latest>, "changes": []}`. With `?index=N&wait=W`:
        the revisions after N (at most 1000, oldest first) as
        `{"index", "reset", "changes": [{"index", "kind", "id", "projects"}]}`; `index` is the
        last one listed (or the latest). `reset` (with the latest index and no changes) when
        N is ahead of this database, or more than 1000 revisions follow it: a follower that
        far behind treats everything as changed rather than page through them (a bulk write
        of a million rows would have been a thousand pages for every follower)."""
        watch = parse_watch(request.query_params)
        if watch is None:  # where the history is now: a follower's starting point
            async with store_of(request).connection() as conn:
                latest = await conn.fetchval(f"SELECT {revisions.LATEST}")
            return JSON(
                {"index": latest, "reset": False, "changes": []},
                headers={INDEX_HEADER: str(latest)},
            )

        async def read() -> tuple[list[Record], int, bool]:
            async with store_of(request).connection() as conn:
                return await revisions.changes_after(conn, watch.index)

        def indexed(result: tuple[list[Record], int, bool]) -> Indexed:
            # nothing after an index ahead of the history (a restore): answered at once
            records, latest, _ = result
            return Indexed(records[-1]["index"] if records else min(watch.index, latest), latest)

        records, latest, overflow = await block(watch, signal_of(request), None, read, indexed)
        if overflow or watch.index > latest:
            return JSON(
                {"index": latest, "reset": True, "changes": []},
                headers={INDEX_HEADER: str(latest)},
            )
        changes = [
            {
                "index": r["index"],
                "kind": r["kind"],
                "id": str(r["object_id"]),
                "projects": sorted(
                    {str(p) for p in (r["project_id"], r["before_project_id"]) if p is not None}
                ),
            }
            for r in records
        ]
        index = changes[-1]["index"] if changes else watch.index
        return JSON(
            {"index": index, "reset": False, "changes": changes},
            headers={INDEX_HEADER: str(index)},
        )
