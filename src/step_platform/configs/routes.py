"""The configs API: read config sets, create, replace, merge-patch and deactivate one config.

Every request is handled in the same order: token (401), write role for writes (403),
context headers (400), path and body (400/415), then the registry. Nothing reaches the
registry before all input is known to be good, and each write is one registry write, so a
failed request never leaves anything half-written.

Writes are read-then-write (the row at the level is read, the new data computed from it), so
each write of a row that was read carries the row's ETag in `If-Match`: if another writer got
in between, the registry answers 412, nothing is written, and the whole attempt runs again on
a fresh read (`conditional`). No update is lost; without contention a write is still two
registry calls.

Before a write is sent, `contracts.py` checks what it makes of the layered view against every
registered consumer (422 BREAKS_CONSUMER unless overridden). The registrations come back from
the same list call that reads the row (`consumers.with_consumers`), so the check adds no call.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.auth import Principal, TokenVerifier, forbidden
from ..core.cache import TtlCache
from ..core.changes import ChangeSignal
from ..core.errors import ApiError
from ..core.feed import FeedFollower
from ..core.headers import Context, context_headers
from ..core.ids import canonical_uuid
from ..core.locks import KeyedLock
from ..core.responses import JSON
from ..core.state import resource
from ..core.upstream import UpstreamBadResponse, json_of
from ..core.watch import HEADER as INDEX_HEADER
from ..core.watch import Indexed, block, parse_read_watch, parse_watch, wait_text
from .consumers import Consumer, ConsumerBook, split, with_consumers
from .contracts import Override, after_delete, enforce, requested_override, violations
from .flights import Flights
from .merge_patch import merge_patch
from .object_code import config_object_code
from .registry_client import (
    UPSTREAM,
    RegistryClient,
    Row,
    RowChanged,
    entity_exists,
    etag_of,
    list_params,
    not_found,
)
from .resolution import ACCOUNT, PROJECT, ConfigSet, is_active, level_of, pick, resolve
from .validation import (
    parse_create,
    parse_data,
    parse_page,
    parse_rollback,
    parse_type,
    parse_types,
    read_body,
)

MSG_TYPES = "Данные по конфигам типа {types}."
MSG_ALL = "Получены все конфиги для данных Project-ID и Account-ID."
MSG_CREATED = "Конфиги добавлены в реестр."
MSG_REPLACED = "Данные конфига заменены."
MSG_PATCHED = "Данные конфига обновлены."
MSG_DEACTIVATED = "Конфиг деактивирован."
MSG_CONFLICT = "Конфиг одновременно изменяют другие запросы. Повторите запрос."
MSG_HISTORY = "История конфигов типа {types}, новые изменения первыми."
MSG_ROLLED_BACK = "Конфиг возвращён к ревизии {index}."

# Tries of one write when others keep changing the row between our read and our write. Each
# failed try is caused by a distinct write that landed, and writers of one config in this
# instance queue on a lock instead, so a request fails (409) only if more than ATTEMPTS - 1
# writes from other instances land while it runs.
ATTEMPTS = 5

log = logging.getLogger("step_platform.configs")


def ok(message: str, status: int = 200, **body: Any) -> Response:
    return JSON({"detail": {"code": "OK", "message": message}, **body}, status_code=status)


def registry(request: Request) -> RegistryClient:
    """The registry client the lifespan opened (`app.State`)."""
    return resource(request, "registry", RegistryClient)


def feed(request: Request) -> FeedFollower:
    """The change-feed follower the lifespan made (`app.State`)."""
    return resource(request, "feed", FeedFollower)


async def registry_ready(request: Request) -> None:
    await registry(request).ping()


def row_id(row: Mapping[str, Any]) -> str:
    """The id of a registry row, checked before it is put into a URL."""
    canonical = canonical_uuid(row.get("id"))
    if canonical is None:
        raise UpstreamBadResponse(UPSTREAM, "a row without a valid id")
    return canonical


def revision_view(revision: Any) -> dict[str, Any]:
    """A registry revision as the configs history shows it: the type, level, who, when, and
    the config's `data` and `meta` before and after."""
    if not isinstance(revision, dict) or not isinstance(revision.get("after"), dict):
        raise UpstreamBadResponse(UPSTREAM, "a revision without its row")
    after = revision["after"]

    def state(row: Any) -> dict[str, Any] | None:
        if not isinstance(row, dict):
            return None
        return {"data": row.get("data"), "meta": row.get("meta")}

    return {
        "index": revision.get("index"),
        "object_type": after.get("object_type"),
        "level": PROJECT if after.get("account_id") is None else ACCOUNT,
        "operation": revision.get("operation"),
        "actor": revision.get("actor"),
        "actor_roles": revision.get("actor_roles"),
        "request_id": revision.get("request_id"),
        "time": revision.get("time"),
        "restores": revision.get("restores"),
        "before": state(revision.get("before")),
        "after": state(after),
    }


async def restored_value(client: RegistryClient, id: str, index: int) -> Row | None:
    """The row as revision `index` of it left it, None when that is not a revision of it."""
    page = await client.revisions(
        {"id": id, "kind": "config", "after": str(index - 1), "ordering": "index", "limit": "1"}
    )
    results = page["results"]
    if results and isinstance(results[0], dict) and results[0].get("index") == index:
        after = results[0].get("after")
        return after if isinstance(after, dict) else None
    return None


def replacement(row: Row, data: Any, user_id: str) -> Row:
    """A registry PUT body that changes only `data` and the writer (PUT resets omitted fields)."""
    keep = ("project_id", "account_id", "object_type", "object_item", "object_code", "name")
    return {"id": row_id(row), **{k: row.get(k) for k in keep}, "user_id": user_id, "data": data}


# (Project-ID, Account-ID, types or None for all): a write invalidates its project's group
CacheKey = tuple[str, str | None, tuple[str, ...] | None]


Fetched = tuple[ConfigSet, Indexed]  # a resolved set and the index it was read at


def project_of(key: CacheKey) -> str:
    return key[0]


@dataclass(frozen=True)
class Target:
    """What a write of one config reads first: the row at the headers' level, the consumers
    to check, and the type's value in the view once that row is deactivated."""

    row: Row
    consumers: list[Consumer]
    after_delete: Any


class ConfigsEndpoints:
    def __init__(
        self,
        *,
        verifier: TokenVerifier,
        cache: TtlCache[CacheKey, Fetched],
        write_role: str,
        override_role: str = "",
        book: ConsumerBook | None = None,
        signal: ChangeSignal | None = None,
    ):
        self.verifier = verifier
        self.cache = cache
        self.write_role = write_role
        self.override_role = override_role
        self.book = book or ConsumerBook()
        self.locks = KeyedLock()
        self.flights: Flights[Fetched] = Flights()
        self.signal = signal if signal is not None else ChangeSignal()

    def routes(self) -> list[Route]:
        # declared without the final slash: PathNormalizeMiddleware serves `/x`, `/x/`, `//x/`;
        # `/configs/_changes` before `/configs/{types}`, which would take `_changes` as a type
        return [
            Route("/configs", self.collection, methods=["GET", "POST"]),
            Route("/configs/_changes", self.changes, methods=["GET"]),
            Route("/configs/{types}", self.by_type, methods=["GET", "PUT", "PATCH", "DELETE"]),
            Route("/configs/{types}/history", self.history, methods=["GET"]),
            Route("/configs/{types}/rollback", self.rollback, methods=["POST"]),
        ]

    # --- dispatch ------------------------------------------------------------------------

    async def collection(self, request: Request) -> Response:
        if request.method == "POST":
            return await self.create(request)
        return await self.read(request, None)

    async def by_type(self, request: Request) -> Response:
        raw = request.path_params["types"]
        if request.method in ("GET", "HEAD"):
            return await self.read(request, raw)
        if request.method == "DELETE":
            return await self.deactivate(request, raw)
        if request.method == "PUT":
            return await self.update(request, raw, lambda old, new: new, MSG_REPLACED)
        return await self.update(request, raw, merge_patch, MSG_PATCHED)

    # --- common steps --------------------------------------------------------------------

    def authenticate(self, request: Request, *, write: bool = False) -> Principal:
        principal = self.verifier.verify(request.headers.get("authorization"))
        if write and not principal.has_role(self.write_role):
            raise forbidden()
        return principal

    def override(self, request: Request, principal: Principal) -> Override | None:
        return requested_override(request, principal, self.override_role)

    async def row_at_level(self, request: Request, context: Context, object_type: str) -> Target:
        """The active row of this type at the headers' level (the one reads would serve)."""
        params = list_params(context.project_id, context.account_id, [object_type])
        rows, registrations = split(
            await registry(request).rows(with_consumers(params)), context.project_id
        )
        level = ACCOUNT if context.account_id else PROJECT
        same_level = [r for r in rows if level_of(r, context.account_id) == level]
        winner = pick(same_level, context.account_id).get(object_type)
        if winner is None:
            raise not_found(missing=[object_type])
        return Target(
            row=dict(winner[0]),
            consumers=self.book.consumers(registrations),
            after_delete=after_delete(rows, context.account_id, object_type),
        )

    async def conditional(
        self, key: Hashable, attempt: Callable[[], Awaitable[Response]]
    ) -> Response:
        """Run a read-then-write `attempt` until its If-Match holds, at most ATTEMPTS times.

        `key` is the config's address (project, account, type): this instance's writes of one
        config run one at a time. After ATTEMPTS refusals: 409 CONFLICT, nothing written.
        """
        async with self.locks.hold(key):
            for number in range(1, ATTEMPTS + 1):
                try:
                    return await attempt()
                except RowChanged as changed:
                    log.info(
                        "row %s changed under write, attempt %d of %d", changed, number, ATTEMPTS
                    )
        raise ApiError(409, "CONFLICT", MSG_CONFLICT)

    # --- handlers ------------------------------------------------------------------------

    async def read(self, request: Request, raw_types: str | None) -> Response:
        """One registry call (or none, from the cache while the change feed is live) resolving
        account over project level.

        `raw_types` is the path's comma list, None for every type. The answer carries
        `X-Config-Index`; with `?index=N&wait=W` it is a blocking query (`core.watch`) woken
        through this instance's change signal, fed by the registry's change feed.
        """
        self.authenticate(request)
        context = context_headers(request)
        types = None if raw_types is None else parse_types(raw_types)
        watch = parse_read_watch(request.query_params, "ru")
        follower = feed(request)
        if watch is not None:
            follower.ensure_started()
        key: CacheKey = (context.project_id, context.account_id, types)
        client = registry(request)

        async def fetch() -> Fetched:
            # served only while the feed is live (`trust_while` in the lifespan)
            cached = self.cache.get(key)
            if cached is not None:
                return cached
            generation = self.cache.generation(context.project_id)

            async def from_registry() -> Fetched:
                params = list_params(context.project_id, context.account_id, types)
                rows, found = await client.list_indexed(params)
                fetched = (resolve(rows, context.account_id, types), found)
                self.cache.put(key, fetched, generation)
                return fetched

            if watch is None:  # a plain read starts its own: it sees every earlier write
                return await from_registry()
            return await self.flights.run((key, generation), from_registry)

        result, found = await block(
            watch, self.signal, [context.project_id], fetch, lambda fetched: fetched[1]
        )
        headers = {INDEX_HEADER: str(found.index)}
        if not result.data:
            error = not_found(**({"missing": list(result.missing)} if types else {}))
            error.headers = headers
            raise error
        extra: dict[str, Any] = {"data": result.data, "sources": result.sources}
        if types is not None:
            extra["missing"] = list(result.missing)
        message = MSG_ALL if raw_types is None else MSG_TYPES.format(types=raw_types)
        response = ok(message, **extra)
        response.headers.update(headers)
        return response

    async def history(self, request: Request) -> Response:
        """The revisions of these types at the caller's project (and account), newest first."""
        self.authenticate(request)
        context = context_headers(request)
        raw_types = request.path_params["types"]
        types = parse_types(raw_types)
        limit, offset = parse_page(request.query_params)
        params = list_params(context.project_id, context.account_id, types, active_only=False)
        params.update(kind="config", limit=str(limit), offset=str(offset))
        page = await registry(request).revisions(params)
        results = [revision_view(r) for r in page["results"]]
        newest = max((r["index"] for r in results if isinstance(r["index"], int)), default=0)
        response = ok(
            MSG_HISTORY.format(types=raw_types),
            count=page.get("count"),
            limit=limit,
            offset=offset,
            results=results,
        )
        response.headers[INDEX_HEADER] = str(newest)
        return response

    async def changes(self, request: Request) -> Response:
        """The registry's change feed, passed on (step follows it to drop its cache at once).
        It names the projects of every change, so it needs the write role."""
        self.authenticate(request, write=True)
        watch = parse_watch(request.query_params, "ru")
        params = {} if watch is None else {"index": str(watch.index), "wait": wait_text(watch.wait)}
        response = await registry(request).changes(params, watch.wait if watch else 0.0)
        if response.status_code != 200:
            raise UpstreamBadResponse(UPSTREAM, f"changes answered {response.status_code}")
        body = json_of(response, UPSTREAM)
        if not isinstance(body, dict):
            raise UpstreamBadResponse(UPSTREAM, "changes answer is not an object")
        return JSON(body, headers={INDEX_HEADER: str(body.get("index", 0))})

    async def create(self, request: Request) -> Response:
        """POST: 409 when an active row exists at that level, reactivate an inactive one."""
        principal = self.authenticate(request, write=True)
        context = context_headers(request)
        new = parse_create(await read_body(request), context)
        override = self.override(request, principal)
        client = registry(request).acting_for(principal)
        params = list_params(
            new.project_id,
            new.account_id,
            [new.object_type],
            active_only=False,
            with_project_level=False,
        )
        level = ACCOUNT if new.account_id else PROJECT

        async def attempt() -> Response:
            found, registrations = split(await client.rows(with_consumers(params)), new.project_id)
            rows = [
                r
                for r in found
                if level_of(r, new.account_id) == level and r.get("object_type") == new.object_type
            ]
            if any(is_active(r) for r in rows):
                raise entity_exists()
            broken = violations(self.book.consumers(registrations), {new.object_type: new.data})
            recorded = enforce(broken, override, where=f"POST {new.object_type}") or {}
            code = config_object_code(new.project_id, new.account_id, new.object_type)
            previous = next((r for r in rows if r.get("object_code") == code), None)
            try:
                if previous is not None:
                    payload = replacement(previous, new.data, principal.user_id)
                    payload["meta"] = {"status": "active", **recorded}
                    stored = await client.replace(
                        row_id(previous), payload, if_match=etag_of(previous)
                    )
                else:
                    stored = await client.create(
                        {
                            "project_id": new.project_id,
                            "account_id": new.account_id,
                            "user_id": principal.user_id,
                            "object_type": new.object_type,
                            "object_code": code,
                            "data": new.data,
                            **({"meta": recorded} if recorded else {}),
                        }
                    )
            finally:
                self.cache.invalidate(new.project_id)
            return ok(MSG_CREATED, 201, data=stored)

        return await self.conditional((new.project_id, new.account_id, new.object_type), attempt)

    async def update(
        self,
        request: Request,
        raw_type: str,
        change: Callable[[Any, Any], Any],
        message: str,
    ) -> Response:
        """PUT (replace) and PATCH (RFC 7396 merge) of the data of the row at this level."""
        principal = self.authenticate(request, write=True)
        context = context_headers(request)
        object_type = parse_type(raw_type)
        data = parse_data(await read_body(request))
        override = self.override(request, principal)
        client = registry(request).acting_for(principal)

        async def attempt() -> Response:
            target = await self.row_at_level(request, context, object_type)
            row = target.row
            new_data = change(row.get("data"), data)
            broken = violations(target.consumers, {object_type: new_data})
            recorded = enforce(broken, override, where=f"{request.method} {object_type}")
            payload = replacement(row, new_data, principal.user_id)
            if recorded:
                payload["meta"] = recorded
            try:
                stored = await client.replace(payload["id"], payload, if_match=etag_of(row))
            finally:
                self.cache.invalidate(context.project_id)
            return ok(message, data=stored)

        return await self.conditional(
            (context.project_id, context.account_id, object_type), attempt
        )

    async def deactivate(self, request: Request, raw_type: str) -> Response:
        """DELETE: the row stays, marked inactive, with the writer and time of the change."""
        principal = self.authenticate(request, write=True)
        context = context_headers(request)
        object_type = parse_type(raw_type)
        override = self.override(request, principal)
        client = registry(request).acting_for(principal)

        async def attempt() -> Response:
            target = await self.row_at_level(request, context, object_type)
            row = target.row
            broken = violations(target.consumers, {object_type: target.after_delete})
            recorded = enforce(broken, override, where=f"DELETE {object_type}") or {}
            try:
                stored = await client.patch(
                    row_id(row),
                    {"user_id": principal.user_id, "meta": {"status": "inactive", **recorded}},
                    if_match=etag_of(row),
                )
            finally:
                self.cache.invalidate(context.project_id)
            return ok(MSG_DEACTIVATED, data=stored)

        return await self.conditional(
            (context.project_id, context.account_id, object_type), attempt
        )

    async def rollback(self, request: Request) -> Response:
        """POST `{"index": N}`: the config at the headers' level back as revision N (from its
        history) left it, data and meta; a deactivated config can be brought back this way.
        Checked against the registered consumers like any write (422 unless overridden; the
        override is recorded by the revision's actor and roles, as meta is restored exactly)."""
        principal = self.authenticate(request, write=True)
        context = context_headers(request)
        object_type = parse_type(request.path_params["types"])
        index = parse_rollback(await read_body(request))
        override = self.override(request, principal)
        client = registry(request).acting_for(principal)
        params = list_params(
            context.project_id,
            context.account_id,
            [object_type],
            active_only=False,
            with_project_level=False,
        )
        level = ACCOUNT if context.account_id else PROJECT

        async def attempt() -> Response:
            found, registrations = split(
                await client.rows(with_consumers(params)), context.project_id
            )
            rows = [
                r
                for r in found
                if level_of(r, context.account_id) == level and r.get("object_type") == object_type
            ]
            active = pick([r for r in rows if is_active(r)], context.account_id).get(object_type)
            code = config_object_code(context.project_id, context.account_id, object_type)
            row = (
                active[0]
                if active
                else next((r for r in rows if r.get("object_code") == code), None)
            )
            if row is None:
                raise not_found(missing=[object_type])
            restored = await restored_value(client, row_id(row), index)
            if restored is not None:  # else not this row's revision: the registry says 404
                if not is_active(restored):
                    below = await client.rows(list_params(context.project_id, None, [object_type]))
                    value = after_delete(below, context.account_id, object_type)
                else:
                    value = restored.get("data")
                broken = violations(self.book.consumers(registrations), {object_type: value})
                enforce(broken, override, where=f"POST {object_type} rollback to {index}")
            try:
                stored = await client.rollback(
                    row_id(row), index, principal.user_id, if_match=etag_of(row)
                )
            finally:
                self.cache.invalidate(context.project_id)
            return ok(MSG_ROLLED_BACK.format(index=index), data=stored)

        return await self.conditional(
            (context.project_id, context.account_id, object_type), attempt
        )
