"""The consumer routes of the configs service: registrations and the dry-run check.

`PUT /configs/_consumers/{name}/`  register (or re-register) a consumer's schemas: write role
`GET /configs/_consumers/`         every registered consumer: any valid token
`GET|DELETE /configs/_consumers/{name}/`  one registration; DELETE (write role) removes it
`POST /configs/_validate`          the write check of `contracts.py` without writing

These paths sit under `/configs/` next to `/configs/{types}`; they are declared first, and
their names are reserved as config types (`validation.RESERVED_TYPES`).
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.errors import ApiError
from ..core.headers import context_headers
from .consumers import (
    CONSUMER_TYPE,
    CONSUMERS_PROJECT,
    is_writable_type,
    parse_name,
    parse_registration,
    registration_data,
    split,
    with_consumers,
)
from .consumers import object_code as consumer_code
from .contracts import after_delete, breaks_consumer, violations
from .registry_client import Row, RowChanged, etag_of, list_params
from .routes import ConfigsEndpoints, ok, registry, replacement, row_id
from .validation import invalid, parse_type, read_body

MSG_LIST = "Зарегистрированные потребители конфигов."
MSG_ONE = "Потребитель конфигов."
MSG_REGISTERED = "Потребитель конфигов зарегистрирован."
MSG_UNCHANGED = "Регистрация потребителя не изменилась."
MSG_REMOVED = "Регистрация потребителя удалена."
MSG_NO_CONSUMER = "Потребитель конфигов не найден."
MSG_VALID = "Изменения не нарушают контракты потребителей конфигов."
MSG_VALIDATE_BODY = 'Тело запроса: {"data": {"<тип>": <данные>, ...}, "deactivate": ["<тип>"]}.'


def only(request: Request, *methods: str) -> None:
    """405 with `Allow` for methods these catch-all routes do not serve."""
    if request.method not in methods:
        raise HTTPException(405, headers={"Allow": ", ".join(methods)})


def no_consumer() -> ApiError:
    return ApiError(404, "NOT_FOUND", MSG_NO_CONSUMER)


class ConsumerEndpoints:
    def __init__(self, configs: ConfigsEndpoints) -> None:
        self.configs = configs

    def routes(self) -> list[Route]:
        # every method reaches the handler, which answers 405 itself: a method missing here
        # would fall through to `/configs/{types}` and be taken for a config type
        every = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        return [
            Route("/configs/_consumers", self.collection, methods=every),
            Route("/configs/_consumers/{name}", self.one, methods=every),
            Route("/configs/_validate", self.validate, methods=every),
        ]

    def consumer_json(self, row: Row) -> dict[str, Any]:
        (consumer,) = self.configs.book.consumers([row])
        return consumer.as_json()

    async def rows(self, request: Request, name: str | None = None) -> list[Row]:
        params = {
            "project_id": CONSUMERS_PROJECT,
            "account_id": "null",
            "object_type": CONSUMER_TYPE,
        }
        if name is not None:
            params["object_code"] = consumer_code(name)
        return await registry(request).rows(params)

    # --- /configs/_consumers/ ------------------------------------------------------------

    async def collection(self, request: Request) -> Response:
        only(request, "GET", "HEAD")
        self.configs.authenticate(request)
        consumers = self.configs.book.consumers(await self.rows(request))
        listed = sorted((c.as_json() for c in consumers), key=lambda c: c["name"])
        return ok(MSG_LIST, consumers=listed)

    async def one(self, request: Request) -> Response:
        only(request, "GET", "HEAD", "PUT", "DELETE")
        if request.method == "PUT":
            return await self.register(request)
        if request.method == "DELETE":
            return await self.remove(request)
        self.configs.authenticate(request)
        name = parse_name(request.path_params["name"])
        active = self.configs.book.consumers(await self.rows(request, name))
        if not active:
            raise no_consumer()
        return ok(MSG_ONE, consumer=active[0].as_json())

    async def register(self, request: Request) -> Response:
        """Idempotent: the same schemas again change nothing (200, no registry write)."""
        principal = self.configs.authenticate(request, write=True)
        name = parse_name(request.path_params["name"])
        schemas = parse_registration(await read_body(request))
        data = registration_data(name, schemas)
        client = registry(request)

        async def attempt() -> Response:
            rows = await self.rows(request, name)
            row = rows[0] if rows else None
            if row is None:
                try:
                    stored = await client.create(
                        {
                            "project_id": CONSUMERS_PROJECT,
                            "account_id": None,
                            "user_id": principal.user_id,
                            "object_type": CONSUMER_TYPE,
                            "object_code": consumer_code(name),
                            "data": data,
                            "meta": {"status": "active"},
                        }
                    )
                except ApiError as error:
                    if error.code == "ENTITY_EXISTS":  # registered meanwhile: read again
                        raise RowChanged(name) from None
                    raise
                return ok(MSG_REGISTERED, 201, consumer=self.consumer_json(stored))
            if self.configs.book.consumers([row]) and row.get("data") == data:
                return ok(MSG_UNCHANGED, consumer=self.consumer_json(row))
            payload = replacement(row, data, principal.user_id)
            payload["meta"] = {"status": "active"}
            stored = await client.replace(row_id(row), payload, if_match=etag_of(row))
            return ok(MSG_REGISTERED, consumer=self.consumer_json(stored))

        return await self.configs.conditional((CONSUMER_TYPE, name), attempt)

    async def remove(self, request: Request) -> Response:
        principal = self.configs.authenticate(request, write=True)
        name = parse_name(request.path_params["name"])
        client = registry(request)

        async def attempt() -> Response:
            rows = await self.rows(request, name)
            if not rows or not self.configs.book.consumers(rows):
                raise no_consumer()
            row = rows[0]
            stored = await client.patch(
                row_id(row),
                {"user_id": principal.user_id, "meta": {"status": "inactive"}},
                if_match=etag_of(row),
            )
            return ok(MSG_REMOVED, name=name, modified_date=stored.get("modified_date"))

        return await self.configs.conditional((CONSUMER_TYPE, name), attempt)

    # --- /configs/_validate --------------------------------------------------------------

    async def validate(self, request: Request) -> Response:
        """The contract check of writes at the headers' level, nothing written.

        Body: `data` maps each type to the data it would have after a POST/PUT/PATCH;
        `deactivate` lists types whose row at this level would be deleted.
        """
        only(request, "POST")
        self.configs.authenticate(request)
        context = context_headers(request)
        data, deactivate = parse_dry_run(await read_body(request))
        types = [*data, *deactivate] or [CONSUMER_TYPE]  # nothing to read but the consumers
        params = list_params(context.project_id, context.account_id, types)
        rows, registrations = split(
            await registry(request).rows(with_consumers(params)), context.project_id
        )
        view = dict(data)
        for type_name in deactivate:
            view[type_name] = after_delete(rows, context.account_id, type_name)
        consumers = self.configs.book.consumers(registrations)
        found = violations(consumers, view)
        if found:
            raise breaks_consumer(found)
        return ok(MSG_VALID, consumers=sorted(c.name for c in consumers))


def parse_dry_run(body: Any) -> tuple[dict[str, Any], list[str]]:
    """`data` (type -> value, not null) and `deactivate` (type names), not both empty.

    A `data` key that is not a config type name can never be written, so it breaks nothing
    and is left out of the check (OpenAPI 3.0 cannot restrict an object's keys); a
    `deactivate` entry must be a type name (400), as the document's pattern says.
    """
    data = body.get("data", {}) if isinstance(body, dict) else None
    deactivate = body.get("deactivate", []) if isinstance(body, dict) else None
    if (
        not isinstance(data, dict)
        or not isinstance(deactivate, list)
        or not all(isinstance(t, str) for t in deactivate)
        or not (data or deactivate)
        or any(v is None for v in data.values())
    ):
        raise invalid({"non_field_errors": [MSG_VALIDATE_BODY]})
    for name in deactivate:
        parse_type(name)  # one plain, unreserved type name (400 otherwise)
    data = {name: value for name, value in data.items() if is_writable_type(name)}
    names = [*data, *deactivate]
    if len(set(names)) != len(names):
        raise invalid({"deactivate": ["A type is either written or deactivated, not both."]})
    return data, list(deactivate)
