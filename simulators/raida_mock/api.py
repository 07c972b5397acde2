"""Raida's HTTP API, the part the step service uses (as the original client calls it).

Paths are the original client's, declared without a final slash (the path middleware accepts
one too). Successful answers carry the payload under `data`; errors are Raida-style
`{"detail": "<text>"}`, not our envelope, because that is what a Raida client handles.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from step_platform.core.responses import JSON, dumps_parsed

from . import rql
from .simulator import Simulator
from .store import Invalid, NotFound, guess_type

BEARER = {"WWW-Authenticate": "Bearer"}
Endpoint = Callable[[Request], Awaitable[Response]]


class RaidaError(Exception):
    """An error answered as Raida does: a status and `{"detail": "<text>"}`."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


async def on_raida_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RaidaError)
    return JSON({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    """Unknown routes and wrong methods, Raida-style (FastAPI's texts)."""
    assert isinstance(exc, HTTPException)
    texts = {404: "Not Found", 405: "Method Not Allowed"}
    detail = texts.get(exc.status_code, str(exc.detail))
    return JSON({"detail": detail}, status_code=exc.status_code, headers=dict(exc.headers or {}))


def _sim(request: Request) -> Simulator:
    simulator: Simulator = request.app.state.simulator
    return simulator


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RaidaError(400, f"Malformed JSON body: {exc}") from None
    if not isinstance(body, dict):
        raise RaidaError(400, "Request body must be a JSON object")
    return body


# --- auth ------------------------------------------------------------------------------------


async def token(request: Request) -> Response:
    """`POST /api/users/token/` — form `username`, `password` -> a bearer token."""
    settings = request.app.state.settings
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        fields = await json_body(request)
    else:
        try:
            form = await request.form()
        except Exception as exc:  # python-multipart / Starlette parse errors
            raise RaidaError(400, f"Malformed form body: {exc}") from None
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
    username, password = fields.get("username"), fields.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username:
        raise RaidaError(400, "Fields 'username' and 'password' are required")
    if (username, password) != (settings.username, settings.password):
        raise RaidaError(401, "Incorrect username or password", BEARER)
    return JSON(new_token(request))


def new_token(request: Request) -> dict[str, Any]:
    """Issue a token; earlier tokens stay valid (each worker of a client holds its own)."""
    sim = _sim(request)
    ttl = request.app.state.settings.token_ttl
    access_token = sim.store.issue_token(ttl)
    sim.save()
    return {
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": int(ttl) if ttl == int(ttl) else ttl,
    }


def authenticate(request: Request) -> None:
    header = request.headers.get("authorization", "").strip()
    if not header:
        raise RaidaError(401, "Not authenticated", BEARER)
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise RaidaError(401, "Invalid authentication scheme", BEARER)
    store = _sim(request).store
    if store.token_valid(value):
        return
    if value in store.tokens:
        raise RaidaError(401, "Token expired", BEARER)
    raise RaidaError(401, "Invalid token", BEARER)


def _found(func: Any, *args: Any) -> Any:
    try:
        return func(*args)
    except NotFound as exc:
        raise RaidaError(404, str(exc)) from None


# --- tasks -----------------------------------------------------------------------------------


def _check_types(body: dict[str, Any]) -> None:
    for key in ("title", "description"):
        if key in body and body[key] is not None and not isinstance(body[key], str):
            raise RaidaError(400, f"Field '{key}' must be a string or null")
    if body.get("custom_fields") is not None and not isinstance(body["custom_fields"], dict):
        raise RaidaError(400, "Field 'custom_fields' must be an object")
    if "status_id" in body and not isinstance(body["status_id"], str):
        raise RaidaError(400, "Field 'status_id' must be a string")


async def get_task(request: Request) -> Response:
    """`GET /api/tasks/{node}/{task}`."""
    authenticate(request)
    sim = _sim(request)
    node = _found(sim.store.node, request.path_params["node"])
    try:
        task = sim.store.task(node, request.path_params["id"])
    except NotFound as exc:
        if request.app.state.settings.missing_task == "null":
            return JSON({"data": None})
        raise RaidaError(404, str(exc)) from None
    return JSON({"data": sim.task_view(node, task)})


async def create_task(request: Request) -> Response:
    """`POST /api/tasks/{node}/{process}` — create a task in that process."""
    authenticate(request)
    sim = _sim(request)
    node = _found(sim.store.node, request.path_params["node"])
    body = await json_body(request)
    _check_types(body)
    try:
        task = sim.store.create_task(node, request.path_params["id"], body)
    except NotFound as exc:
        raise RaidaError(404, str(exc)) from None
    except Invalid as exc:
        raise RaidaError(400, str(exc)) from None
    sim.save()
    return JSON({"data": sim.task_view(node, task)}, status_code=201)


async def patch_task(request: Request) -> Response:
    """`PATCH /api/tasks/{node}/{task}` — replace given fields, merge `custom_fields`."""
    authenticate(request)
    sim = _sim(request)
    node = _found(sim.store.node, request.path_params["node"])
    task = _found(sim.store.task, node, request.path_params["id"])
    body = await json_body(request)
    _check_types(body)
    try:
        sim.store.update_task(node, task, body)
    except Invalid as exc:
        raise RaidaError(400, str(exc)) from None
    sim.save()
    return JSON({"data": sim.task_view(node, task)})


async def search(request: Request) -> Response:
    """`POST /api/tasks/rql/{node}` — `{"rql": "...", "fields": [...]}`, all matches, in order."""
    authenticate(request)
    sim = _sim(request)
    node = _found(sim.store.node, request.path_params["node"])
    body = await json_body(request)
    text = body.get("rql")
    entry = request.scope.get("state", {}).get("journal_entry")
    if entry is not None:
        entry["rql"] = text
    if not isinstance(text, str):
        raise RaidaError(400, "Field 'rql' is required and must be a string")
    try:
        query = rql.parse(text)
        paths = rql.check_fields(body.get("fields"))
    except rql.RqlError as exc:
        raise RaidaError(400, f"Invalid RQL: {exc}") from None

    def render() -> bytes:
        # rendered here and now (no await in between), so the views may share the stored objects
        views = [sim.task_view(node, t) for t in sim.store.search(node, query)]
        if paths:
            views = [rql.project(view, paths, share=True) for view in views]
        return dumps_parsed({"data": views})

    content = sim.store.answer(node, ("search", text, paths), render)
    return Response(content, media_type=JSON.media_type)


# --- attachments -----------------------------------------------------------------------------


async def list_attachments(request: Request) -> Response:
    """`GET /api/attachments/{node}/{task}` — upload order, oldest first."""
    authenticate(request)
    sim = _sim(request)
    node = _found(sim.store.node, request.path_params["node"])
    task = _found(sim.store.task, node, request.path_params["task"])
    files = sim.store.task_files(node, task["id"])
    return JSON({"data": [sim.file_view(f) for f in files]})


def _basename(filename: str) -> str:
    return filename.replace("\\", "/").rsplit("/", 1)[-1].strip()


async def upload_attachment(request: Request) -> Response:
    """`POST /api/attachments/{node}/{task}?type=task` — one multipart part `attachment`."""
    authenticate(request)
    sim = _sim(request)
    node = _found(sim.store.node, request.path_params["node"])
    task = _found(sim.store.task, node, request.path_params["task"])
    kind = request.query_params.get("type", "task")
    if kind != "task":
        raise RaidaError(400, f"Unsupported attachment type '{kind}': only 'task'")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise RaidaError(400, "Expected a multipart/form-data body")
    try:
        form = await request.form(max_files=10, max_fields=100)
    except Exception as exc:  # python-multipart / Starlette parse errors
        raise RaidaError(400, f"Malformed multipart body: {exc}") from None
    try:
        part = form.get("attachment")
        if not isinstance(part, UploadFile):
            raise RaidaError(400, "A file part named 'attachment' is required")
        filename = _basename(part.filename or "") or "file"
        data = await part.read()
        declared = (part.content_type or "").split(";")[0].strip()
        generic = not declared or declared == "application/octet-stream"
        content_type = guess_type(filename) if generic else declared
        item = sim.store.add_file(node, task, filename, data, content_type)
    finally:
        await form.close()
    sim.save()
    return JSON({"data": sim.file_view(item)}, status_code=201)


async def media(request: Request) -> Response:
    """`GET /media/{node}/{attachment}/{name}` — the stored file (no token, like static media)."""
    sim = _sim(request)
    try:
        item = sim.store.file(request.path_params["node"], request.path_params["attachment"])
    except NotFound as exc:
        raise RaidaError(404, str(exc)) from None
    if request.path_params["name"] != item.name:
        raise RaidaError(
            404, f"Attachment {item.id} has no file named {request.path_params['name']}"
        )
    data = sim.store.blobs.get(item.id)
    return Response(
        data,
        media_type=item.content_type,
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(item.name)}"},
    )


def by_method(**handlers: Endpoint) -> Endpoint:
    """One endpoint for a path that several handlers share: one route per path, so a wrong
    method is a 405 whose `Allow` names every method of the path (Starlette answers with the
    first route whose path matches)."""

    async def endpoint(request: Request) -> Response:
        return await handlers[request.method](request)

    return endpoint


def routes() -> list[Route]:
    task = by_method(GET=get_task, HEAD=get_task, PATCH=patch_task, POST=create_task)
    attachments = by_method(GET=list_attachments, HEAD=list_attachments, POST=upload_attachment)
    return [
        Route("/api/users/token", token, methods=["POST"]),
        Route("/api/tasks/rql/{node}", search, methods=["POST"]),
        # {id}: a task (GET, PATCH) or, for POST, the process the new task goes in
        Route("/api/tasks/{node}/{id}", task, methods=["GET", "HEAD", "PATCH", "POST"]),
        Route("/api/attachments/{node}/{task}", attachments, methods=["GET", "HEAD", "POST"]),
        Route("/media/{node}/{attachment}/{name:path}", media, methods=["GET", "HEAD"]),
    ]
