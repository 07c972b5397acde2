"""The generic engine: reads and writes of one kind, whichever kind it is.

Every write is one statement over a whole batch (`unnest` of column arrays), inside one
transaction: a bulk request succeeds whole or changes nothing, and a single request is a batch
of one. Concurrency is left to Postgres:
* `internal_id` is `nextval` of the kind's sequence inside the INSERT, in request order;
* uniqueness is the unique indexes' job: INSERT ... ON CONFLICT DO NOTHING tells which items
  clashed, an UPDATE's unique violation is analysed after the rollback; both become 409
  `ENTITY_EXISTS` per item — never a check-then-insert race, never a 500;
* PATCH merges `data` and `meta` in the UPDATE itself (`data || $patch`), so concurrent
  patches of different keys both land;
* every write moves `modified_date` forward by at least a microsecond (`BUMP`), so it is a row
  version: the ETag, and `If-Match` is a `modified_date = $version` term in the same UPDATE's
  WHERE clause (Postgres re-checks it on the newest row version after waiting for a concurrent
  writer), so a stale version writes nothing and no race slips between check and write;
* a deadlock between two batches is retried;
* every write transaction first names its actor and operation (`revisions.record_as`); the
  triggers of migration 0003 then record one revision per written row in the same
  transaction, so a refused or rolled-back write leaves no revision.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from functools import lru_cache
from typing import Any, TypeAlias, TypeVar

import asyncpg

from ..core.errors import ApiError
from ..core.watch import Indexed
from .db import Store
from .filters import ListQuery
from .kinds import Kind, UniqueRule
from .revisions import (
    LATEST,
    Audit,
    Scope,
    object_index,
    object_index_sql,
    record_as,
    revision_of,
)
from .sql import shifted
from .validation import UNIQUE, DataMode, Errors, Mode, WriteItem

log = logging.getLogger("step_platform.registry")

Record: TypeAlias = asyncpg.Record
T = TypeVar("T")
ATTEMPTS = 3
NOT_AN_OBJECT = "Stored data is not an object: it cannot be merged; replace it with PUT."
UNKNOWN_CLASH = "This item clashes with an existing record."
# `now()` is the transaction's start: a writer that waited for another one's row lock, or a
# clock that stepped back, could otherwise store the same or an older modified_date.
BUMP = "modified_date = greatest(now(), t.modified_date + interval '1 microsecond')"
# Columns a read adds to a kind's own (none of a kind's columns has these names): the index of
# its scope or object, the latest index, a paged list's count.
INDEX, LATEST_INDEX, TOTAL = "registry_scope_index", "registry_latest_index", "registry_total"
# The If-Match condition: NULL (no header, `*`, bulk items) writes whatever the version.
MATCHES = "({version} IS NULL OR t.modified_date = {version})"


class ItemsError(ApiError):
    """A batch failed; `items` has one field map per request item, `{}` for good ones."""

    def __init__(self, status: int, code: str, message: str, items: list[Errors]) -> None:
        super().__init__(status, code, message, items=items)
        self.items = items


async def _retrying(work: Callable[[], Awaitable[T]]) -> T:
    """Run a transaction again when Postgres chose it as a deadlock victim."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await work()
        except asyncpg.DeadlockDetectedError:
            if attempt == ATTEMPTS:
                raise
            log.info("deadlock, attempt %d of %d", attempt, ATTEMPTS)
    raise AssertionError("unreachable")


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, allow_nan=False)


# --- SQL, built once per kind from its declaration ------------------------------------------


def _clash_exists(kind: Kind, rule: UniqueRule) -> str:
    """A row `x` other than the batch's holds the key of batch row `u` (NULLs not distinct)."""
    first, *rest = rule.columns
    match = " ".join(f"AND x.{c} IS NOT DISTINCT FROM u.{c}" for c in rest)
    return f"SELECT 1 FROM {kind.table} AS x WHERE x.{first} = u.{first} {match}"


@lru_cache(maxsize=8)
def _sql(kind: Kind) -> dict[str, str]:
    columns = ", ".join(c.name for c in kind.columns)
    returning = ", ".join(f"t.{c.name}" for c in kind.columns)
    own = kind.writable
    own_names = ", ".join(c.name for c in own)

    types = ["uuid[]", *(c.sql_type for c in own), "text[]", "text[]"]
    args = ", ".join(f"CAST(${i} AS {t})" for i, t in enumerate(types, 1))
    internal_id = f"jsonb_build_object('internal_id', nextval('{kind.sequence}'))"
    clashes = "".join(f"AND NOT EXISTS ({_clash_exists(kind, rule)}) " for rule in kind.unique)
    # Rows that clash with stored ones are filtered out before nextval runs (a refused create
    # consumes no internal_id); ON CONFLICT catches what a concurrent transaction inserts.
    insert = f"""
        INSERT INTO {kind.table} AS t (id, created_date, modified_date, {own_names}, meta, data)
        SELECT u.id, now(), now(), {", ".join(f"u.{c.name}" for c in own)},
               CAST(u.meta AS jsonb) || {internal_id}, CAST(u.data AS jsonb)
        FROM unnest({args}) WITH ORDINALITY AS u(id, {own_names}, meta, data, ord)
        WHERE NOT EXISTS (SELECT 1 FROM {kind.table} AS x WHERE x.id = u.id) {clashes}
        ORDER BY u.ord
        ON CONFLICT DO NOTHING
        RETURNING {returning}"""

    types = ["uuid[]"]
    aliases = ["id"]
    sets = []
    for c in own:
        types += ["bool[]", c.sql_type]
        aliases += [f"set_{c.name}", c.name]
        sets.append(f"{c.name} = CASE WHEN u.set_{c.name} THEN u.{c.name} ELSE t.{c.name} END")
    types += ["int4[]", "text[]", "text[]", "timestamptz[]"]
    aliases += ["data_mode", "data", "meta", "if_version"]
    args = ", ".join(f"CAST(${i} AS {t})" for i, t in enumerate(types, 1))
    update = f"""
        UPDATE {kind.table} AS t SET
            {", ".join(sets)},
            data = CASE u.data_mode
                WHEN {DataMode.REPLACE} THEN CAST(u.data AS jsonb)
                WHEN {DataMode.MERGE} THEN
                    (CASE WHEN jsonb_typeof(t.data) = 'object' THEN t.data ELSE '{{}}' END)
                    || CAST(u.data AS jsonb)
                ELSE t.data END,
            meta = (CASE WHEN jsonb_typeof(t.meta) = 'object' THEN t.meta ELSE '{{}}' END)
                   || CAST(u.meta AS jsonb),
            {BUMP}
        FROM unnest({args}) AS u({", ".join(aliases)})
        WHERE t.id = u.id AND {MATCHES.format(version="u.if_version")}
          AND (u.data_mode <> {DataMode.MERGE} OR t.data IS NULL
               OR jsonb_typeof(t.data) IN ('object', 'null'))
        RETURNING {returning}"""

    deactivate = f"""
        UPDATE {kind.table} AS t SET
            meta = jsonb_set(CASE WHEN jsonb_typeof(t.meta) = 'object' THEN t.meta
                             ELSE '{{}}' END, '{{status}}', '"inactive"'),
            {BUMP}
        WHERE t.id = ANY(CAST($1 AS uuid[]))
          AND {MATCHES.format(version="CAST($2 AS timestamptz)")}
        RETURNING t.id, t.modified_date"""

    own_p = ", ".join(f"p.{c.name}" for c in own)
    # A rollback writes the writable columns, meta and data exactly as a revision stored them.
    rollback = f"""
        UPDATE {kind.table} AS t SET ({own_names}, meta, data) = (
            SELECT {own_p}, p.meta, p.data
            FROM jsonb_populate_record(NULL::{kind.table}, CAST($2 AS jsonb)) AS p),
            {BUMP}
        WHERE t.id = $1 AND {MATCHES.format(version="CAST($3 AS timestamptz)")}
        RETURNING {returning}"""

    return {
        "rollback": rollback,
        "get": f"SELECT {columns} FROM {kind.table} WHERE id = $1",
        "get_indexed": f"SELECT {columns}, {object_index_sql(kind, '$1')} AS {INDEX}, "
        f"{LATEST} AS {LATEST_INDEX} FROM {kind.table} WHERE id = $1",
        "existing": f"SELECT id, modified_date FROM {kind.table} "
        "WHERE id = ANY(CAST($1 AS uuid[]))",
        "insert": insert,
        "update": update,
        "deactivate": deactivate,
    }


@lru_cache(maxsize=8)
def _clash_sql(kind: Kind, rule: UniqueRule) -> str:
    """Rows holding any of the given keys (NULLs not distinct), tagged with the key's position."""
    cols = [kind.by_name[name] for name in rule.columns]
    args = ", ".join(f"CAST(${i} AS {c.sql_type})" for i, c in enumerate(cols, 1))
    match = " AND ".join(f"t.{c.name} IS NOT DISTINCT FROM k.{c.name}" for c in cols)
    names = ", ".join(c.name for c in cols)
    return (
        f"SELECT k.ord, t.id FROM unnest({args}) WITH ORDINALITY AS k({names}, ord) "
        f"JOIN {kind.table} AS t ON t.{cols[0].name} = k.{cols[0].name} AND {match}"
    )


# --- the engine -----------------------------------------------------------------------------


class Engine:
    def __init__(self, kind: Kind, store: Store) -> None:
        self.kind = kind
        self.store = store
        self.sql = _sql(kind)
        self.messages = kind.messages()

    # reads

    async def get(self, id: uuid.UUID) -> Record | None:
        return await self.store.read(lambda conn: conn.fetchrow(self.sql["get"], id))

    async def list_indexed(
        self, query: ListQuery, scope: Scope
    ) -> tuple[list[Record], int | None, Indexed]:
        """A list and the index of its scope (`revisions.scope_sql`) from one snapshot: one
        statement whose every row carries the index, the latest index (and the count of a
        paged list), so a write shows in both or in neither; one round trip.

        An empty page carries nothing: then the index is read first and the rows after it, on
        one connection, so a write that lands between the two reads shows in the rows and
        makes the next blocking query with this index return at once, never the reverse."""
        # the scope's values ($n) follow the select's; the count's are a prefix of the select's
        extra = [
            f"{shifted(scope.index, query.param_count)} AS {INDEX}",
            f"{LATEST} AS {LATEST_INDEX}",
        ]
        if query.paged:
            extra.append(f"({query.count(self.kind)[0]}) AS {TOTAL}")
        combined, params, count_sql, count_params = query.sql(self.kind, extra)

        async def read(conn: asyncpg.Connection) -> tuple[list[Record], int | None, Indexed]:
            records = await conn.fetch(combined, *params, *scope.params)
            if records:
                first = records[0]
                total = first[TOTAL] if query.paged else None
                return records, total, Indexed(first[INDEX], first[LATEST_INDEX])
            found = await conn.fetchrow(scope.sql, *scope.params)
            records = await conn.fetch(query.sql(self.kind)[0], *params)
            total = await conn.fetchval(count_sql, *count_params) if query.paged else None
            assert found is not None  # the scope query is an aggregate: always one row
            return records, total, Indexed(found["index"], found["latest"])

        async with self.store.costly(query.costly):
            return await self.store.read(read)

    async def get_indexed(self, id: uuid.UUID) -> tuple[Record | None, Indexed]:
        """The row and its object's index, from one snapshot in one statement; for a missing
        row the index is read on its own (the route answers 404 whatever it is)."""

        async def read(conn: asyncpg.Connection) -> tuple[Record | None, Indexed]:
            record = await conn.fetchrow(self.sql["get_indexed"], id)
            if record is not None:
                return record, Indexed(record[INDEX], record[LATEST_INDEX])
            index, latest = await object_index(conn, self.kind, id)
            return None, Indexed(index, latest)

        return await self.store.read(read)

    # writes

    async def create(self, items: Sequence[WriteItem], audit: Audit = Audit()) -> list[Record]:
        if not items:
            return []
        for item in items:
            item.id = item.id or uuid.uuid4()
        duplicates = self._batch_duplicates(items)
        if any(duplicates):
            # Refused before the INSERT: a batch that clashes with itself consumes no internal_id.
            raise self._conflict(duplicates)
        own = self.kind.writable
        args: list[Any] = [[item.id for item in items]]
        args += [[item.values[c.name] for item in items] for c in own]
        args += [[_json(item.meta) for item in items], [_json(item.data) for item in items]]

        async def insert() -> list[Record]:
            async with self.store.transaction() as conn:
                await record_as(conn, audit, "create")
                records = await conn.fetch(self.sql["insert"], *args)
                if len(records) < len(items):
                    inserted = {r["id"] for r in records}
                    skipped = [i for i, it in enumerate(items) if it.id not in inserted]
                    raise await self._create_clashes(conn, items, skipped)
                rows: list[Record] = records
                return rows

        by_id = {r["id"]: r for r in await _retrying(insert)}
        return [by_id[item.id] for item in items]

    async def update(
        self, items: Sequence[WriteItem], mode: Mode, audit: Audit = Audit()
    ) -> list[Record]:
        """PUT (every writable column set) or PATCH (the given ones) of existing rows."""
        if not items:
            return []
        own = self.kind.writable
        # Rows are locked in id order whatever the request order: two batches over the same
        # rows then queue instead of deadlocking (a deadlock that still happens is retried).
        ordered = sorted(items, key=lambda item: item.id.bytes if item.id else b"")
        args: list[Any] = [[item.id for item in ordered]]
        for c in own:
            args.append([mode is Mode.PUT or c.name in item.values for item in ordered])
            args.append([item.values.get(c.name) for item in ordered])
        args.append([int(item.data_mode) for item in ordered])
        args.append([_json(item.data) if item.data_mode else None for item in ordered])
        args.append([_json(item.meta) for item in ordered])
        args.append([item.if_version for item in ordered])

        async def update() -> list[Record]:
            async with self.store.transaction() as conn:
                await record_as(conn, audit, "update" if mode is Mode.PUT else "patch")
                records = await conn.fetch(self.sql["update"], *args)
                if len(records) < len(items):
                    raise await self._update_misses(conn, items, {r["id"] for r in records})
                rows: list[Record] = records
                return rows

        try:
            records = await _retrying(update)
        except asyncpg.UniqueViolationError as exc:
            raise await self._update_clashes(items, exc) from None
        by_id = {r["id"]: r for r in records}
        return [by_id[item.id] for item in items]

    async def deactivate(
        self,
        ids: Sequence[uuid.UUID],
        *,
        if_version: dt.datetime | None = None,
        audit: Audit = Audit(),
    ) -> dict[uuid.UUID, dt.datetime]:
        """Set meta.status to inactive (one statement); returns each existing id's new
        modified_date. With `if_version` (If-Match of one record) a row holding another
        version is left alone: 412."""

        async def deactivate() -> list[Record]:
            async with self.store.transaction() as conn:
                await record_as(conn, audit, "deactivate")
                records = await conn.fetch(self.sql["deactivate"], list(ids), if_version)
                if if_version is not None and len(records) < len(ids):
                    done = {r["id"] for r in records}
                    missed = [i for i in ids if i not in done]
                    if await conn.fetch(self.sql["existing"], missed):
                        raise ApiError(412, "PRECONDITION_FAILED", self.messages["changed"])
                return records

        return {r["id"]: r["modified_date"] for r in await _retrying(deactivate)}

    async def rollback(
        self,
        id: uuid.UUID,
        index: int,
        *,
        if_version: dt.datetime | None = None,
        user_id: uuid.UUID | None = None,
        audit: Audit = Audit(),
    ) -> Record:
        """Write the row back as revision `index` of it left it; itself a new revision.
        `user_id` (the writer) replaces the stored one when given."""

        async def work() -> Record:
            async with self.store.transaction() as conn:
                after = await revision_of(conn, self.kind, id, index)
                if after is None:
                    if not await conn.fetch(self.sql["existing"], [id]):
                        raise ApiError(404, "NOT_FOUND", self.messages["not_found"])
                    # the revision, like the record, is a resource the path names: 404
                    raise ApiError(
                        404,
                        "REVISION_NOT_FOUND",
                        f"No revision {index} of this {self.kind.singular}.",
                        fields={"index": [f"No revision {index} of this {self.kind.singular}."]},
                    )
                if user_id is not None:
                    after = json.dumps({**json.loads(after), "user_id": str(user_id)})
                await record_as(conn, audit, "rollback", restores=index)
                record = await conn.fetchrow(self.sql["rollback"], id, after, if_version)
                if record is None:
                    if not await conn.fetch(self.sql["existing"], [id]):
                        raise ApiError(404, "NOT_FOUND", self.messages["not_found"])
                    raise ApiError(412, "PRECONDITION_FAILED", self.messages["changed"])
                return record

        try:
            return await _retrying(work)
        except asyncpg.UniqueViolationError:
            fields: Errors = {}
            for rule in self.kind.unique:
                fields.update(self._rule_error(rule))
            message = next(iter(fields.values()))[0] if fields else UNKNOWN_CLASH
            raise ApiError(409, "ENTITY_EXISTS", message, fields=fields) from None

    # failure analysis: which items, and why

    async def _clashes(
        self, conn: asyncpg.Connection, rule: UniqueRule, keys: list[tuple[Any, ...] | None]
    ) -> list[set[uuid.UUID]]:
        """For each key (None: the rule does not apply), the ids of rows that hold it."""
        found: list[set[uuid.UUID]] = [set() for _ in keys]
        wanted = [(i, k) for i, k in enumerate(keys) if k is not None and k[0] is not None]
        if not wanted:
            return found
        columns = [[k[n] for _, k in wanted] for n in range(len(rule.columns))]
        for record in await conn.fetch(_clash_sql(self.kind, rule), *columns):
            found[wanted[record["ord"] - 1][0]].add(record["id"])
        return found

    def _batch_duplicates(self, items: Sequence[WriteItem]) -> list[Errors]:
        """Items that repeat an earlier item's id or unique key, in the same batch."""
        errors: list[Errors] = [{} for _ in items]
        ids: set[uuid.UUID | None] = set()
        keys: dict[UniqueRule, set[tuple[Any, ...]]] = {rule: set() for rule in self.kind.unique}
        for item, error in zip(items, errors, strict=True):
            if item.id in ids:
                error["id"] = [UNIQUE]
            ids.add(item.id)
            for rule, seen in keys.items():
                key = tuple(item.values[c] for c in rule.columns)
                if key[0] is not None:
                    if key in seen:
                        error.update(self._rule_error(rule))
                    seen.add(key)
        return errors

    def _rule_error(self, rule: UniqueRule) -> Errors:
        return {rule.error_key: [rule.message]}

    def _conflict(self, items: list[Errors]) -> ItemsError:
        if len(items) == 1 and items[0]:
            message = next(iter(items[0].values()))[0]
        else:
            message = "Some items clash with existing records."
        return ItemsError(409, "ENTITY_EXISTS", message, items)

    async def _create_clashes(
        self, conn: asyncpg.Connection, items: Sequence[WriteItem], skipped: list[int]
    ) -> ItemsError:
        errors: list[Errors] = [{} for _ in items]
        ids = [items[i].id for i in skipped]
        taken = {r["id"] for r in await conn.fetch(self.sql["existing"], ids)}
        for i in skipped:
            if items[i].id in taken:
                errors[i]["id"] = [UNIQUE]
        for rule in self.kind.unique:
            keys: list[tuple[Any, ...] | None] = [
                tuple(items[i].values[c] for c in rule.columns) for i in skipped
            ]
            for i, holders in zip(skipped, await self._clashes(conn, rule, keys), strict=True):
                if holders:
                    errors[i].update(self._rule_error(rule))
        for i in skipped:
            errors[i] = errors[i] or {"non_field_errors": [UNKNOWN_CLASH]}
        return self._conflict(errors)

    async def _update_misses(
        self, conn: asyncpg.Connection, items: Sequence[WriteItem], updated: set[uuid.UUID]
    ) -> ItemsError:
        """Why rows were not updated: unknown (404), changed since If-Match's version (412),
        or not-an-object data under a merge (400), in that order of precedence."""
        missing = [item.id for item in items if item.id not in updated]
        stored = {
            r["id"]: r["modified_date"] for r in await conn.fetch(self.sql["existing"], missing)
        }
        errors: list[Errors] = []
        for item in items:
            if item.id in updated:
                errors.append({})
            elif item.id not in stored:
                errors.append({"id": [self.messages["not_found"]]})
            elif item.if_version is not None and stored[item.id] != item.if_version:
                errors.append({"if_match": [self.messages["changed"]]})
            else:
                errors.append({"data": [NOT_AN_OBJECT]})
        for key, status, code, message in (
            ("id", 404, "NOT_FOUND", self.messages["not_found"]),
            ("if_match", 412, "PRECONDITION_FAILED", self.messages["changed"]),
        ):
            if any(key in e for e in errors):
                return ItemsError(status, code, message, [e if key in e else {} for e in errors])
        # a well-formed merge the stored row cannot take: a conflict with its current state
        return ItemsError(409, "DATA_NOT_MERGEABLE", NOT_AN_OBJECT, errors)

    async def _update_clashes(
        self, items: Sequence[WriteItem], exc: asyncpg.UniqueViolationError
    ) -> ItemsError:
        """After a unique violation (and the rollback): which items would clash, and with what."""
        errors: list[Errors] = [{} for _ in items]
        batch = {item.id for item in items}
        columns = sorted({c for rule in self.kind.unique for c in rule.columns})
        async with self.store.connection() as conn:
            stored = {
                r["id"]: r
                for r in await conn.fetch(
                    f"SELECT id, {', '.join(columns)} FROM {self.kind.table} "
                    "WHERE id = ANY(CAST($1 AS uuid[]))",
                    [item.id for item in items],
                )
            }
            for rule in self.kind.unique:
                keys: list[tuple[Any, ...] | None] = []
                for item in items:
                    row = stored.get(item.id)
                    if row is None:
                        keys.append(None)
                        continue
                    keys.append(tuple(item.values.get(c, row[c]) for c in rule.columns))
                final = {item.id: key for item, key in zip(items, keys, strict=True)}
                holders = await self._clashes(conn, rule, keys)
                seen: dict[tuple[Any, ...], uuid.UUID] = {}
                for n, (item, key) in enumerate(zip(items, keys, strict=True)):
                    if key is None or key[0] is None:
                        continue
                    others = {
                        h for h in holders[n] - {item.id} if h not in batch or final[h] == key
                    }
                    if others or key in seen:
                        errors[n].update(self._rule_error(rule))
                    if item.id is not None:
                        seen.setdefault(key, item.id)
        if not any(errors):
            log.warning("unique violation not traced to an item: %s", exc)
            errors = [{"non_field_errors": [UNKNOWN_CLASH]} for _ in items]
        return self._conflict(errors)
