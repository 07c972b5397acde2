"""Revisions: who wrote what, when, and the index every watch counts in.

The rows are written by the triggers of migration 0003 in the writing transaction itself; this
module tells them who is writing (`record_as`, transaction-local settings) and reads them back:
one object's history, the audit list, the index of a list's scope, and the change feed.

A list's *scope* is its address filters only (`id`, `project_id`, `account_id` and the kind's
type column): its index is the highest revision of any row whose address, before or after a
write, is in the scope. Other filters (status, data, search, dates) do not narrow it, so a
watcher of a filtered list is also woken by a change that leaves the filtered answer as it
was (it then sees the same body with a new index) — never the other way round.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import asyncpg
from starlette.datastructures import QueryParams

from ..core import context
from ..core.actor import ACTOR_HEADER, MAX_ROLES, NAME, ROLES_HEADER
from ..core.errors import ApiError
from ..core.feed import PAGE as FEED_PAGE
from ..core.ids import parse_uuid
from .filters import MAX_LIMIT, QueryError, compile_address, parse_datetime
from .kinds import KINDS, Kind
from .render import Row
from .render import row as render_row
from .validation import NUL_CHARS

DEFAULT_ACTOR = "registry"
DEFAULT_PAGE = 100
# the most changes the feed lists; a follower further behind is sent a reset instead
CHANGES_PAGE = FEED_PAGE

SET_CONTEXT = """
    SELECT set_config('step_platform.actor', $1, true),
           set_config('step_platform.actor_roles', $2, true),
           set_config('step_platform.request_id', $3, true),
           set_config('step_platform.operation', $4, true),
           set_config('step_platform.restores', $5, true)"""

COLUMNS = (
    "index, kind, object_id, operation, actor, actor_roles, request_id, created_at, restores, "
    "before, after"
)


@dataclass(frozen=True)
class Audit:
    """Who writes: the actor (a user id from the configs service, or `registry`) and roles."""

    actor: str = DEFAULT_ACTOR
    roles: tuple[str, ...] = ()


def invalid_header(name: str, message: str) -> ApiError:
    return ApiError(400, "INVALID_HEADER", f"Invalid {name} header.", fields={name: [message]})


def audit_from(headers: Mapping[str, str]) -> Audit:
    """`X-Actor` (default `registry`) and `X-Actor-Roles` (comma list) of a registry request.

    The registry is an internal service: whoever can reach it names its actor. The configs
    service always sets both from the verified token, replacing anything its caller sent.
    """
    actor = headers.get(ACTOR_HEADER.lower(), "").strip()
    if actor and not NAME.fullmatch(actor):
        raise invalid_header(ACTOR_HEADER, "1 to 254 of A-Z a-z 0-9 . _ : @ / + -")
    raw_roles = headers.get(ROLES_HEADER.lower(), "")
    roles = tuple(dict.fromkeys(r.strip() for r in raw_roles.split(",") if r.strip()))
    if len(roles) > MAX_ROLES or not all(NAME.fullmatch(r) for r in roles):
        raise invalid_header(ROLES_HEADER, f"At most {MAX_ROLES} comma-separated role names.")
    return Audit(actor=actor or DEFAULT_ACTOR, roles=roles)


async def record_as(
    conn: asyncpg.Connection, audit: Audit, operation: str, *, restores: int | None = None
) -> None:
    """Tell this transaction's revision triggers who writes and why (one round trip)."""
    await conn.execute(
        SET_CONTEXT,
        audit.actor,
        ",".join(audit.roles),
        context.request_id.get() or "",
        operation,
        "" if restores is None else str(restores),
    )


# --- rendering --------------------------------------------------------------------------------


def _stored_row(kind: Kind, text: str | None) -> str:
    """A row as the triggers stored it (to_jsonb), rendered like the kind's API rows."""
    if text is None:
        return "null"
    stored = json.loads(text)
    values: dict[str, Any] = {}
    for column in kind.columns:
        value = stored.get(column.name)
        if column.type == "timestamp" and isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        elif column.type == "json" and value is not None:
            # back to JSON text, as a row's JSONB arrives (`render` splices text as is: a
            # `data` that is a JSON string must keep its quotes)
            value = json.dumps(value, ensure_ascii=False)
        values[column.name] = value
    return render_row(kind, values)


def render_revision(record: Row) -> str:
    kind = BY_NAME[record["kind"]]
    head = {
        "index": record["index"],
        "kind": record["kind"],
        "id": str(record["object_id"]),
        "operation": record["operation"],
        "actor": record["actor"],
        "actor_roles": list(record["actor_roles"]),
        "request_id": record["request_id"],
        "time": record["created_at"].astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "restores": record["restores"],
    }
    text = json.dumps(head, ensure_ascii=False)[:-1]
    before = _stored_row(kind, record["before"])
    after = _stored_row(kind, record["after"])
    return f'{text},"before":{before},"after":{after}}}'


BY_NAME: dict[str, Kind] = {kind.singular: kind for kind in KINDS}


# --- queries ----------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _scope_source(kind: Kind) -> str:
    """Revisions of a kind as rows with the kind's address column names, after and before."""
    t = kind.type_column
    return (
        f"SELECT index, object_id AS id, project_id, account_id, object_type AS {t} "
        f"FROM registry_revisions WHERE kind = '{kind.singular}' "
        f"UNION ALL SELECT index, object_id, before_project_id, before_account_id, "
        f"before_object_type FROM registry_revisions "
        f"WHERE kind = '{kind.singular}' AND before_present"
    )


LATEST = "(SELECT coalesce(max(index), 0) FROM registry_revisions)"


@dataclass(frozen=True)
class Scope:
    """A list's scope in the revision history: the highest index among its rows' revisions
    (`where` over `_scope_source`'s columns, `$1..` numbering `params`)."""

    kind: Kind
    where: str
    params: list[object]
    projects: list[str] | None  # the scope's projects, None for any

    @property
    def index(self) -> str:
        """A scalar subquery giving the scope's index."""
        source = _scope_source(self.kind)
        return f"(SELECT coalesce(max(s.index), 0) FROM ({source}) AS s WHERE {self.where})"

    @property
    def sql(self) -> str:
        """One statement giving `index` and `latest`."""
        return f"SELECT {self.index} AS index, {LATEST} AS latest"


def scope_sql(kind: Kind, query: QueryParams) -> Scope:
    address = compile_address(kind, query)
    where = " AND ".join(f"({c})" for c in address.conditions) or "TRUE"
    return Scope(kind, where, list(address.params.values), address.projects)


def object_index_sql(kind: Kind, id_param: str) -> str:
    """A scalar subquery: the index of the object's latest revision (0 if none)."""
    return (
        "(SELECT coalesce(max(index), 0) FROM registry_revisions "
        f"WHERE kind = '{kind.singular}' AND object_id = {id_param})"
    )


async def object_index(conn: asyncpg.Connection, kind: Kind, id: uuid.UUID) -> tuple[int, int]:
    record = await conn.fetchrow(
        "SELECT coalesce(max(index), 0) AS index, "
        f"{LATEST} AS latest FROM registry_revisions WHERE kind = $1 AND object_id = $2",
        kind.singular,
        id,
    )
    assert record is not None  # an aggregate always answers one row
    return record["index"], record["latest"]


@dataclass
class AuditQuery:
    """The audit list's filters, compiled to one WHERE clause and its params."""

    conditions: list[str]
    params: list[object]
    limit: int
    offset: int
    ascending: bool

    def sql(self) -> tuple[str, str]:
        where = " AND ".join(self.conditions) or "TRUE"
        order = "ASC" if self.ascending else "DESC"
        n = len(self.params)
        select = (
            f"SELECT {COLUMNS} FROM registry_revisions WHERE {where} "
            f"ORDER BY index {order} LIMIT ${n + 1} OFFSET ${n + 2}"
        )
        return select, f"SELECT count(*) FROM registry_revisions WHERE {where}"


def _whole(raw: str, low: int, high: int) -> int | None:
    text = raw.strip()
    if text.isascii() and text.isdigit() and low <= int(text) <= high:
        return int(text)
    return None


def refuse_nul(query: QueryParams) -> None:
    """Postgres refuses NUL in text: a parameter holding one is 400, before any SQL."""
    bad = sorted({name for name, value in query.multi_items() if "\x00" in value})
    if bad:
        raise QueryError({name: [NUL_CHARS] for name in bad})


def compile_audit(
    query: QueryParams, *, kind: Kind | None = None, id: uuid.UUID | None = None
) -> AuditQuery:
    """Filters: kind, id, project_id, account_id (`null` allowed), object_type, actor, operation
    (comma lists), since / until (date-times, `since <= time < until`), after (index > N),
    ordering (`-index`, default, or `index`), limit (1-1000, default 100), offset."""
    refuse_nul(query)
    conditions: list[str] = []
    params: list[object] = []
    errors: dict[str, list[str]] = {}

    def add(condition: str, value: object) -> None:
        params.append(value)
        conditions.append(condition.format(p=f"${len(params)}"))

    def tokens(name: str) -> list[str]:
        raw = query.get(name) or ""
        return [t.strip() for t in raw.split(",") if t.strip()]

    if kind is not None:
        add("kind = {p}", kind.singular)
    elif tokens("kind"):
        names = tokens("kind")
        if not set(names) <= set(BY_NAME):
            errors["kind"] = [f"Choose from: {', '.join(BY_NAME)}."]
        add("kind = ANY({p}::text[])", names)
    if id is not None:
        add("object_id = {p}", id)
    else:
        ids = [parse_uuid(t) for t in tokens("id")]
        if any(i is None for i in ids):
            errors["id"] = ["Enter a valid UUID."]
        elif ids:
            add("object_id = ANY({p}::uuid[])", ids)
    for name in ("project_id", "account_id"):
        values = tokens(name)
        if not values:
            continue
        uuids = [parse_uuid(t) for t in values if t != "null"]
        if any(u is None for u in uuids):
            errors[name] = ["Enter a valid UUID."]
            continue
        options = []
        if uuids:
            params.append(uuids)
            options.append(f"{name} = ANY(${len(params)}::uuid[])")
        if "null" in values:
            options.append(f"{name} IS NULL")
        conditions.append("(" + " OR ".join(options) + ")")
    for name, column in (
        ("object_type", "object_type"),
        ("actor", "actor"),
        ("operation", "operation"),
    ):
        if tokens(name):
            add(f"{column} = ANY({{p}}::text[])", tokens(name))
    for name, operator in (("since", ">="), ("until", "<")):
        raw = query.get(name)
        if raw is not None:
            moment = parse_datetime(raw) if raw else None
            if moment is None:
                errors[name] = ["Enter a valid date/time."]
            else:
                add(f"created_at {operator} {{p}}", moment)
    after = query.get("after")
    if after is not None:
        value = _whole(after, 0, 2**63 - 1)
        if value is None:
            errors["after"] = ["Enter a whole number greater than or equal to 0."]
        else:
            add("index > {p}", value)
    ordering = query.get("ordering") or "-index"
    if ordering not in ("index", "-index"):
        errors["ordering"] = ["Choose index or -index."]
    limit = _whole(query.get("limit", str(DEFAULT_PAGE)), 1, MAX_LIMIT)
    if limit is None:
        errors["limit"] = [f"Enter a whole number between 1 and {MAX_LIMIT}."]
    offset = _whole(query.get("offset", "0"), 0, 2**62)
    if offset is None:
        errors["offset"] = ["Enter a whole number greater than or equal to 0."]
    if errors:
        raise QueryError(errors)
    assert limit is not None and offset is not None
    return AuditQuery(conditions, params, limit, offset, ascending=ordering == "index")


async def audit_page(
    conn: asyncpg.Connection, audit: AuditQuery
) -> tuple[list[asyncpg.Record], int, int]:
    """(one page of revisions, how many match, the latest index)."""
    select, count = audit.sql()
    records = await conn.fetch(select, *audit.params, audit.limit, audit.offset)
    total = await conn.fetchval(count, *audit.params)
    latest = await conn.fetchval(f"SELECT {LATEST}")
    return records, total, latest


async def changes_after(
    conn: asyncpg.Connection, index: int
) -> tuple[list[asyncpg.Record], int, bool]:
    """(up to CHANGES_PAGE revisions after `index`, oldest first; the latest index; whether
    more than CHANGES_PAGE follow `index`)."""
    records = await conn.fetch(
        "SELECT index, kind, object_id, project_id, before_project_id FROM registry_revisions "
        f"WHERE index > $1 ORDER BY index LIMIT {CHANGES_PAGE + 1}",
        index,
    )
    latest = await conn.fetchval(f"SELECT {LATEST}")
    return records[:CHANGES_PAGE], latest, len(records) > CHANGES_PAGE


async def revision_of(
    conn: asyncpg.Connection, kind: Kind, id: uuid.UUID, index: int
) -> str | None:
    """The row as revision `index` of this object left it (JSON text), None if no such one."""
    after: str | None = await conn.fetchval(
        "SELECT after FROM registry_revisions WHERE index = $1 AND kind = $2 AND object_id = $3",
        index,
        kind.singular,
        id,
    )
    return after
