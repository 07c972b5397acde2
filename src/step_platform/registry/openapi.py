"""The registry's OpenAPI 3.0.3 document, generated from the kind declarations.

It describes the real contract (the original's generated document showed bulk bodies as single
objects, lists as always paged, and missed `field`): arrays for bulk bodies, the bare-array and
paged list forms, every filter, the error envelope.
"""

from __future__ import annotations

from typing import Any

from ..core.docs import document, error_response, json_response
from ..core.limits import LIMITS
from ..core.versions import REGISTRY_API as VERSION
from ..core.watch import MAX_INDEX, WAIT_PATTERN
from .data_filter import LOOKUPS, TYPES
from .filters import MAX_LIMIT, value_cap
from .kinds import KINDS, Column, Kind
from .preconditions import TAG_LIST as IF_MATCH_TAGS

_TYPES: dict[str, dict[str, Any]] = {
    "uuid": {"type": "string", "format": "uuid"},
    "text": {"type": "string"},
    "float": {"type": "number", "format": "double"},
    "int": {"type": "integer"},
    "timestamp": {"type": "string", "format": "date-time"},
}

DATA = {"description": "Any JSON value (default `{}`).", "nullable": True}
JSON_REF = {"$ref": "#/components/schemas/Json"}
# an object's members: any key without NUL, any value of `Json`
JSON_OBJECT: dict[str, Any] = {
    "patternProperties": {"^[^\\x00]*$": JSON_REF},
    "additionalProperties": False,
}
# What `meta` and `data` may hold: any JSON, but Postgres's JSONB stores no NUL character, in a
# string or a key (validation.json_problem refuses them: 400)
JSON_VALUE = {
    "description": "Any JSON value without a NUL character (`\\u0000`) in a string or a key.",
    "nullable": True,
    "anyOf": [
        {"type": "string", "pattern": "^[^\\x00]*$"},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "array", "items": JSON_REF},
        {
            "type": "object",
            **JSON_OBJECT,
        },
    ],
}
DATA_PATCH = {
    "type": "object",
    "nullable": True,
    "description": "Merged into the stored `data` (an object); `null` or `{}` leaves it as is. "
    "Any other JSON is 400: there is nothing to merge it into.",
    **JSON_OBJECT,
}
META = {
    "type": "object",
    "description": "`internal_id` is assigned by the server and read-only; other keys are "
    "kept and merged shallowly on update.",
    "properties": {
        "status": {"type": "string", "enum": ["active", "inactive"], "default": "active"},
        "flags": {"type": "integer", "default": 0},
        "internal_id": {"type": "integer", "readOnly": True},
    },
    **JSON_OBJECT,
}
ETAG = {
    "ETag": {
        "description": "The record's strong entity tag: its `modified_date` as the body renders "
        'it, in double quotes (`"2026-05-01T10:00:00.123456+00:00"`). It changes on every '
        "write, so a row read from a list gives its tag too.",
        "schema": {"type": "string"},
    }
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "Write only if the record's current ETag is one of these (checked in the "
    "write's own statement); else 412 `PRECONDITION_FAILED` and nothing is written (404 "
    "when the record does not exist). RFC 9110's grammar: `*` (unconditional) or a "
    'comma-separated list of entity tags, strong (`"..."`) or weak (`W/"..."`); a weak '
    "tag, or a tag this registry never issued, never matches. Text outside the grammar is "
    "400 `INVALID_HEADER`. Without it the write is unconditional. Refused (400) on bulk "
    "writes. The schema names `*`; a list of the record's ETags (`x-pattern`) is the "
    "conditional form.",
    # The schema lists only the value every write takes; a tag list is taken too (the grammar
    # in `x-pattern`), but whether it matches depends on the record's state: a generator
    # drawing from the grammar would write conditions that fail (412) on purpose.
    "schema": {"type": "string", "enum": ["*"], "x-pattern": f"^{IF_MATCH_TAGS}$"},
}


# text the registry stores: something besides whitespace, no NUL (lone surrogates are refused
# too, but no JSON encoder sends them, and not every pattern engine has a class for them)
# (whitespace as Python's str.strip sees it, spelled out: a pattern engine may read `\s` as
# ASCII only)
SPACE = r"\s\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = rf"^[^\x00]*[^{SPACE}\x00][^\x00]*$"
NO_NUL = r"^[^\x00]*$"
# The closing brace is a one-character range, `[}-}]`: schemathesis folds a `maxLength` into a
# pattern by re-serialising it, and writes a plain `\}` (or `[}]`) back as a bare `}`, which an
# ECMA (unicode) regex refuses, so the whole operation failed with a schema error.
UUID = (
    r"(?:urn:uuid:)?\{?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
    r"[0-9a-fA-F]{12}[}-}]?"
)


def comma_list(item: str, *, empty: bool = True, most: int | None = None) -> str:
    """A pattern for `item, item, ...` as the filters split it (blank tokens are skipped),
    at most `most` tokens when the server caps them."""
    token = rf"\s*(?:{item})?\s*" if empty else rf"\s*(?:{item})\s*"
    more = "*" if most is None else f"{{0,{most - 1}}}"
    return rf"^{token}(?:,{token}){more}$"


def _column_schema(c: Column) -> dict[str, Any]:
    if c.name == "meta":
        return {"$ref": "#/components/schemas/Meta"}
    if c.name == "data":
        return DATA
    schema = dict(_TYPES[c.type])
    if c.type == "text":  # stripped, it must not be blank; Postgres stores no NUL
        schema.update(minLength=1, pattern=NOT_BLANK)
    if c.nullable:
        schema["nullable"] = True
    if c.max_length:
        schema["maxLength"] = c.max_length
    if c.minimum is not None:
        schema["minimum"] = c.minimum
    if c.maximum is not None:
        schema["maximum"] = c.maximum
    if c.default is not None:
        schema["default"] = c.default
    if not c.writable:
        schema["readOnly"] = True
    return schema


def _write_schema(
    kind: Kind, *, id_note: str, nullable_id: bool, data: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "id": {
                **_TYPES["uuid"],
                "description": id_note,
                **({"nullable": True} if nullable_id else {}),
            },
            **{c.name: _column_schema(c) for c in kind.writable},
            "meta": {"$ref": "#/components/schemas/Meta"},
            "data": data,
        },
    }
    if required:
        schema["required"] = required
    return schema


def _schemas(kind: Kind) -> dict[str, Any]:
    """The record, and one body schema per write: what each write's validation accepts (a
    create may name its id or not, a PUT needs the required columns, a PATCH merges an object
    into `data`, bulk PUT/PATCH items name their record)."""
    name = kind.label
    record = {
        "type": "object",
        "properties": {c.name: _column_schema(c) for c in kind.columns},
        "required": [c.name for c in kind.columns],
    }
    required = [c.name for c in kind.writable if c.required]
    replace_data = {**JSON_REF, "description": "Replaces `data` (default `{}`)."}
    patch_data = {"$ref": "#/components/schemas/DataPatch"}
    page = {
        "type": "object",
        "properties": {
            "count": {"type": "integer"},
            "next": {"type": "string", "nullable": True},
            "previous": {"type": "string", "nullable": True},
            "results": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}},
        },
    }
    return {
        name: record,
        f"{name}Input": _write_schema(
            kind,
            id_note="Optional: the server assigns one when absent or null.",
            nullable_id=True,
            data=replace_data,
            required=required,
        ),
        f"{name}Replace": _write_schema(
            kind,
            id_note="Optional; when given it must be the id in the URL (else 409).",
            nullable_id=False,
            data=replace_data,
            required=required,
        ),
        f"{name}Patch": _write_schema(
            kind,
            id_note="Optional; when given it must be the id in the URL (else 409).",
            nullable_id=False,
            data=patch_data,
            required=[],
        ),
        f"{name}BulkReplace": _write_schema(
            kind,
            id_note="The record to replace.",
            nullable_id=False,
            data=replace_data,
            required=["id", *required],
        ),
        f"{name}BulkPatch": _write_schema(
            kind,
            id_note="The record to patch.",
            nullable_id=False,
            data=patch_data,
            required=["id"],
        ),
        f"{name}Page": page,
    }


DATE = {"type": "string", "format": "date"}
MAX_OFFSET = 2**62
FILTER_BOUND = 10**50  # filters.py: numbers past it are refused (400)
# a blocking query's wait, as core.watch reads it
# a `meta__`/`data__` path: keys joined by `__`, none empty
JSON_PATH = rf"(?:meta|data)(?:__[^_\s\x00](?:_?[^_\s\x00])*){{1,{LIMITS.data_path_depth}}}"


# a `data=` filter as data_filter.parse reads it: a path of keys joined by `__` (none empty,
# no `=`), a lookup, `=`, and a value its type can read; `::str` (or no `::` at all) for text
_KEY = r"[^_=\x00]+(?:_[^_=\x00]+)*"
_TYPED_VALUE = (
    r"(?:[^:\x00]*|[^\x00]*::str|[+-]?\d{1,18}::int"
    r"|[+-]?\d{1,15}(?:\.\d{1,15})?::float|(?:true|false)::bool)"
)
DATA_FILTER = (
    rf"^(?:{_KEY}(?:__{_KEY}){{0,{LIMITS.data_path_depth - 1}}}__"
    rf"(?:(?:{'|'.join(lookup for lookup in LOOKUPS if lookup != 'isnull')})={_TYPED_VALUE}"
    r"|isnull=(?:true|false)(?:::bool)?))?$"
)


def text(pattern: str) -> dict[str, Any]:
    return {"type": "string", "pattern": pattern}


def field_pattern(kind: Kind) -> str:
    """A search field as the parser takes it: `^`/`=`, then a column or a JSON path."""
    columns = "|".join(c.name for c in kind.columns)
    return rf"^\s*(?:[\^=]?(?:{columns}|{JSON_PATH}))?\s*$"


def _parameters(kind: Kind) -> list[dict[str, Any]]:
    def q(
        name: str, description: str, schema: dict[str, Any] | None = None, **kw: Any
    ) -> dict[str, Any]:
        return {
            "name": name,
            "in": "query",
            "required": False,
            "description": description,
            "schema": schema or {"type": "string"},
            **kw,
        }

    params = []
    for c in kind.filters:
        if c.filter == "in":
            what = "UUIDs; `null` matches NULL" if c.type == "uuid" else "exact strings"
            pattern = comma_list(f"{UUID}|null") if c.type == "uuid" else NO_NUL
            params.append(q(c.name, f"Comma-separated list of {what}.", text(pattern)))
        elif c.filter == "date":
            for suffix, word in (("", "on"), ("__gt", "after"), ("__lt", "before")):
                params.append(q(c.name + suffix, f"UTC calendar day {word} the given date.", DATE))
        else:
            bounds = {"minimum": -FILTER_BOUND, "maximum": FILTER_BOUND}
            for suffix, op in (("", "="), ("__gt", ">"), ("__lt", "<")):
                schema = {**_TYPES[c.type], **bounds}
                params.append(q(c.name + suffix, f"`{c.name} {op} value`.", schema))
    params.append(q("meta_status", "meta.status, case-insensitive.", text(NO_NUL)))
    meta_int = {"type": "integer", "minimum": -FILTER_BOUND, "maximum": FILTER_BOUND}
    params.append(q("meta_flags", "meta.flags = n.", meta_int))
    params.append(
        q(
            "meta_internal_id",
            "meta.internal_id = one of a comma list of integers.",
            text(comma_list(r"[+-]?\d{1,18}")),
        )
    )
    for key in ("flags", "internal_id"):
        params.append(q(f"meta_{key}__gt", f"meta.{key} > n.", meta_int))
        params.append(q(f"meta_{key}__lt", f"meta.{key} < n.", meta_int))
    params.append(
        q(
            "data",
            "`<key>[__<key>...]__<lookup>=<value>[::<type>]`; repeatable (AND). Lookups: "
            f"{', '.join(LOOKUPS)}. Types: {', '.join(TYPES)} (default str).",
            {
                "type": "array",
                "items": text(DATA_FILTER),
                "maxItems": LIMITS.data_filters,
            },
            style="form",
            explode=True,
        )
    )
    search = (
        'Terms (whitespace/comma separated, "quoted phrases"); every term must occur in one '
        "of the search fields, case-insensitive."
    )
    params.append(q("search", search, text(NO_NUL)))
    params.append(
        q(
            "field",
            "Search fields (repeatable): a column, `meta__<key>` or `data__<key>[__...]`, "
            "optionally prefixed `^` (starts with) or `=` (equals). Default: "
            f"{', '.join(kind.search_fields)}.",
            {
                "type": "array",
                "items": text(field_pattern(kind)),
                "maxItems": LIMITS.field_terms,
            },
            style="form",
            explode=True,
        )
    )
    params.append(
        q(
            "ordering",
            "Comma list of fields or `data__<key>` paths, `-` for "
            "descending. Default: meta.internal_id descending.",
            text(
                comma_list(
                    rf"-?\s*(?:{'|'.join(c.name for c in kind.columns)}|{JSON_PATH})",
                    most=LIMITS.ordering_tokens,
                )
            ),
        )
    )
    params.append(
        q(
            "limit",
            f"Page size 1..{MAX_LIMIT}: the answer becomes a page object.",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        )
    )
    params.append(
        q(
            "offset",
            "Rows to skip (paged form).",
            {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
        )
    )
    for param in params:
        cap = value_cap(kind, param["name"])
        if cap is not None:
            schema = param["schema"].get("items", param["schema"])
            schema["maxLength"] = getattr(LIMITS, cap)
    return params


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "Invalid input (`detail.fields`, or `detail.items` for bulk bodies)",
        404: "Not found (`detail.items` for bulk bodies)",
        409: "A conflict with the stored record: `ENTITY_EXISTS` (a unique clash), "
        "`ID_MISMATCH` (the body names another id than the URL), `DATA_NOT_MERGEABLE` (a "
        "PATCH of `data` onto stored data that is not an object) (`detail.fields` or "
        "`detail.items`)",
        412: "`PRECONDITION_FAILED`: the record's ETag no longer matches If-Match",
        415: "Body is not JSON",
    }
    return {str(s): error_response(text[s]) for s in statuses}


def _paths(kind: Kind) -> dict[str, Any]:
    name, many, one = kind.label, kind.plural, kind.singular
    ref = {"$ref": f"#/components/schemas/{name}"}
    refs = {"type": "array", "items": ref}

    def schema(suffix: str) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{name}{suffix}"}

    inp = schema("Input")
    tag_many, tag_one = [f"{name}s controllers"], [f"{name} controllers"]

    def body(schema: dict[str, Any]) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    def record_body(schema: dict[str, Any]) -> dict[str, Any]:
        """One record's body, as `allOf` of its schema (the same set of values). Fuzzers that
        learn from 400 answers read the error envelope's `detail.fields.<name>` as a path
        into a body object and would add a required `detail.fields` member to a body given
        as an object schema; wrapped, the learned path has no object to land in."""
        return body({"allOf": [schema]})

    def op(
        op_id: str,
        tags: list[str],
        summary: str,
        ok: str,
        resp: dict[str, Any],
        *errs: int,
        **extra: Any,
    ) -> dict[str, Any]:
        return {
            "operationId": op_id,
            "tags": tags,
            "summary": summary,
            "responses": {ok: resp, **_errors(*errs)},
            **extra,
        }

    list_response = json_response(
        "A bare array; a page object when `limit` or `offset` is given",
        {"oneOf": [refs, {"$ref": f"#/components/schemas/{name}Page"}]},
    )
    deactivated = json_response(
        "Deactivated",
        {
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "deactivated": {"type": "array", "items": {"type": "string", "format": "uuid"}},
                "not_found": {"type": "array", "items": {"type": "string", "format": "uuid"}},
            },
        },
    )
    id_param = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    }
    ids_param = {
        "name": "id",
        "in": "query",
        "required": True,
        "description": "Comma-separated UUIDs (at least one).",
        "schema": text(comma_list(UUID, empty=False)),
    }
    message = json_response(
        "Deactivated", {"type": "object", "properties": {"message": {"type": "string"}}}
    )

    def tagged(response: dict[str, Any]) -> dict[str, Any]:
        return {**response, "headers": ETAG}

    return {
        f"/api/{many}/": {
            "get": op(
                f"api_{many}_list",
                tag_many,
                f"List {many}",
                "200",
                list_response,
                400,
                parameters=_parameters(kind),
            ),
            "post": op(
                f"api_{many}_create",
                tag_many,
                f"Create {many} (all or nothing)",
                "201",
                json_response("Created, in request order", refs),
                400,
                409,
                415,
                requestBody=body({"type": "array", "items": inp}),
            ),
            "put": op(
                f"api_{many}_update",
                tag_many,
                f"Replace {many} (all or nothing)",
                "200",
                json_response("Updated, in request order", refs),
                400,
                404,
                409,
                415,
                requestBody=body({"type": "array", "items": schema("BulkReplace")}),
            ),
            "patch": op(
                f"api_{many}_partial_update",
                tag_many,
                f"Patch {many}: data and meta merged (all or nothing)",
                "200",
                json_response("Updated, in request order", refs),
                400,
                404,
                409,
                415,
                requestBody=body({"type": "array", "items": schema("BulkPatch")}),
            ),
            "delete": op(
                f"api_{many}_destroy",
                tag_many,
                f"Deactivate {many}",
                "200",
                deactivated,
                400,
                parameters=[ids_param],
            ),
        },
        f"/api/{one}/": {
            "post": op(
                f"api_{one}_create",
                tag_one,
                f"Create a {one}",
                "201",
                tagged(json_response("Created", ref)),
                400,
                409,
                415,
                requestBody=record_body(inp),
            ),
        },
        f"/api/{one}/{{id}}/": {
            "parameters": [id_param],
            "get": op(
                f"api_{one}_retrieve",
                tag_one,
                f"Read a {one}",
                "200",
                tagged(json_response("The record", ref)),
                404,
            ),
            "put": op(
                f"api_{one}_update",
                tag_one,
                f"Replace a {one}'s writable fields",
                "200",
                tagged(json_response("Updated", ref)),
                400,
                404,
                409,
                412,
                415,
                parameters=[IF_MATCH],
                requestBody=record_body(schema("Replace")),
            ),
            "patch": op(
                f"api_{one}_partial_update",
                tag_one,
                f"Patch a {one}: data and meta merged",
                "200",
                tagged(json_response("Updated", ref)),
                400,
                404,
                409,
                412,
                415,
                parameters=[IF_MATCH],
                requestBody=record_body(schema("Patch")),
            ),
            "delete": op(
                f"api_{one}_destroy",
                tag_one,
                f"Deactivate a {one}",
                "200",
                tagged(message),
                400,
                404,
                412,
                parameters=[IF_MATCH],
            ),
        },
    }


def build() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Meta": META, "Json": JSON_VALUE, "DataPatch": DATA_PATCH}
    for kind in KINDS:
        paths.update(_paths(kind))
        schemas.update(_schemas(kind))
    _revision_paths(paths)
    schemas.update(Revision=REVISION)
    paths["/info/"] = {
        "get": {
            "operationId": "info_retrieve",
            "tags": ["Service"],
            "responses": {"200": json_response("Version", {"type": "object"})},
        }
    }
    for route, summary in (("/healthz", "Process is up"), ("/readyz", "Database answers")):
        paths[route] = {
            "get": {
                "operationId": route.strip("/"),
                "tags": ["Service"],
                "summary": summary,
                "responses": {"200": json_response("OK", {"type": "object"})},
            }
        }
    return document("Registry API", VERSION, "Registry API", paths, schemas)


# --- history, rollback and watches (revisions) ------------------------------------------------

INDEX_HEADERS = {
    "X-Config-Index": {
        "description": "The index of the last change of what was read (for a list: of any row "
        "whose id, project_id, account_id or type is in the list's filters, before or after "
        "the change). Pass it back as `index` to wait for the next change.",
        "schema": {"type": "integer"},
    },
    "X-Config-Latest-Index": {
        "description": "The latest index of the whole registry (lists only).",
        "schema": {"type": "integer"},
    },
}
WATCH_PARAMETERS = [
    {
        "name": "index",
        "in": "query",
        "required": False,
        "description": "Blocking query. When this is the list's current `X-Config-Index`, "
        "the answer waits for a change in the list's scope committed by any instance "
        "(Postgres LISTEN/NOTIFY), or for the end of `wait` (200 with the same body and "
        "index). Any other value answers at once: below, a change was missed; above, it is "
        "not this list's index (another list's, the latest, or ahead of a restored registry) "
        "and the client watches on with the index it gets. `0` never waits (a first read). "
        "A negative or non-integer value is 400 `INVALID_QUERY`.",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_INDEX},
    },
    {
        "name": "wait",
        "in": "query",
        "required": False,
        "description": "How long a blocking query may wait: seconds, or a number with `ms`, "
        "`s` or `m` (`30s`). Default 30 s, capped at 300 s. Without `index` the read does "
        "not wait; a negative or unparsable value is 400 `INVALID_QUERY`.",
        "schema": {"type": "string", "pattern": WAIT_PATTERN, "example": "30s"},
    },
]
ACTOR_NAME = r"[A-Za-z0-9._:@/+\-]{1,254}"
ACTOR_PARAMETERS = [
    {
        "name": "X-Actor",
        "in": "header",
        "required": False,
        "description": "Who writes, recorded in the revision (default `registry`); the configs "
        "service sets the token's user id. 1-254 of `A-Z a-z 0-9 . _ : @ / + -`, else 400.",
        "schema": text(rf"^\s*(?:{ACTOR_NAME})?\s*$"),
    },
    {
        "name": "X-Actor-Roles",
        "in": "header",
        "required": False,
        "description": "The actor's roles, comma-separated (at most 64), recorded too.",
        "schema": text(rf"^\s*(?:{ACTOR_NAME})?\s*(?:,\s*(?:{ACTOR_NAME})?\s*){{0,63}}$"),
    },
]
REVISION = {
    "type": "object",
    "description": "One write of one row, recorded in the writing transaction.",
    "properties": {
        "index": {"type": "integer", "description": "Global, strictly increasing."},
        "kind": {"type": "string", "enum": ["config", "link"]},
        "id": {"type": "string", "format": "uuid", "description": "The row written."},
        "operation": {
            "type": "string",
            "enum": ["create", "update", "patch", "deactivate", "rollback", "adopted", "sql"],
            "description": "`update` is a PUT; `adopted` a row that existed when migration "
            "0003 ran; `sql` a write made outside the registry.",
        },
        "actor": {"type": "string"},
        "actor_roles": {"type": "array", "items": {"type": "string"}},
        "request_id": {"type": "string", "nullable": True},
        "time": {"type": "string", "format": "date-time"},
        "restores": {
            "type": "integer",
            "nullable": True,
            "description": "For a rollback: the index it restored.",
        },
        "before": {"type": "object", "nullable": True, "description": "The row before."},
        "after": {"type": "object", "description": "The row after."},
    },
}
REVISION_PAGE = {
    "type": "object",
    "properties": {
        "count": {"type": "integer"},
        "next": {"type": "string", "nullable": True},
        "previous": {"type": "string", "nullable": True},
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Revision"}},
    },
}


DATE_TIME = {"type": "string", "format": "date-time"}


def _audit_parameters(with_object: bool) -> list[dict[str, Any]]:
    def q(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
        schema = schema or {"type": "string"}
        return {"name": name, "in": "query", "required": False, "description": description,
                "schema": schema}  # fmt: skip

    params = []
    if with_object:
        params += [
            q(
                "kind",
                "`config`, `link` or both, comma-separated.",
                text(comma_list("config|link")),
            ),
            q("id", "Row ids, comma-separated.", text(comma_list(UUID))),
            q(
                "project_id",
                "UUIDs, comma-separated; `null` matches rows without one.",
                text(comma_list(f"{UUID}|null")),
            ),
            q(
                "account_id",
                "UUIDs, comma-separated; `null` matches rows without one.",
                text(comma_list(f"{UUID}|null")),
            ),
            q("object_type", "Types (a link's `link_type`), comma-separated.", text(NO_NUL)),
            q("actor", "Actors, comma-separated.", text(NO_NUL)),
            q("operation", "Operations, comma-separated.", text(NO_NUL)),
        ]
    return [
        *params,
        q("since", "From this date-time on (ISO 8601; naive is UTC).", DATE_TIME),
        q("until", "Before this date-time.", DATE_TIME),
        q(
            "after",
            "Only revisions with a higher index.",
            {"type": "integer", "minimum": 0, "maximum": MAX_INDEX},
        ),
        q(
            "ordering",
            "`-index` (newest first, default) or `index`.",
            text("^(?:-?index)?$"),
        ),
        q(
            "limit",
            "Page size 1..1000 (default 100).",
            {"type": "integer", "minimum": 1, "maximum": 1000},
        ),
        q("offset", "Rows to skip.", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}),
    ]


def _revision_paths(paths: dict[str, Any]) -> None:
    page = {**json_response("A page of revisions", REVISION_PAGE), "headers": INDEX_HEADERS}
    for kind in KINDS:
        many, one = kind.plural, kind.singular
        listing = paths[f"/api/{many}/"]["get"]
        listing["parameters"] = [*listing["parameters"], *WATCH_PARAMETERS]
        listing["responses"]["200"]["headers"] = INDEX_HEADERS
        retrieve = paths[f"/api/{one}/{{id}}/"]["get"]["responses"]["200"]
        retrieve["headers"] = {**retrieve.get("headers", {}), **INDEX_HEADERS}
        for path, methods in ((f"/api/{many}/", ("post", "put", "patch", "delete")),
                              (f"/api/{one}/", ("post",)),
                              (f"/api/{one}/{{id}}/", ("put", "patch", "delete"))):  # fmt: skip
            for method in methods:
                operation = paths[path][method]
                operation["parameters"] = [*operation.get("parameters", []), *ACTOR_PARAMETERS]
        id_param = paths[f"/api/{one}/{{id}}/"]["parameters"]
        tags = [f"{kind.label} history"]
        paths[f"/api/{one}/{{id}}/history/"] = {
            "parameters": id_param,
            "get": {
                "operationId": f"api_{one}_history",
                "tags": tags,
                "summary": f"A {one}'s revisions, newest first",
                "parameters": _audit_parameters(with_object=False),
                "responses": {"200": page, **_errors(400, 404)},
            },
        }
        restored = paths[f"/api/{one}/{{id}}/"]["put"]["responses"]["200"]
        paths[f"/api/{one}/{{id}}/rollback/"] = {
            "parameters": id_param,
            "post": {
                "operationId": f"api_{one}_rollback",
                "tags": tags,
                "summary": f"Write a {one} back as one of its revisions left it",
                "description": "The writable fields, `meta` and `data` become exactly those "
                "of revision `index` (of this row, else 400); `user_id`, when given, is "
                "recorded as the writer instead. The rollback is itself a new revision "
                "(`operation: rollback`, `restores: index`).",
                "parameters": [IF_MATCH, *ACTOR_PARAMETERS],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["index"],
                                "properties": {
                                    "index": {
                                        "type": "integer",
                                        "minimum": 1,
                                        "maximum": MAX_INDEX,
                                    },
                                    "user_id": {"type": "string", "format": "uuid"},
                                },
                            }
                        }
                    },
                },
                "responses": {"200": restored, **_errors(400, 404, 409, 412, 415)},
            },
        }
    paths["/api/revisions/"] = {
        "get": {
            "operationId": "api_revisions_list",
            "tags": ["Audit"],
            "summary": "Every revision of both kinds, filtered and paged, newest first",
            "parameters": _audit_parameters(with_object=True),
            "responses": {"200": page, **_errors(400)},
        }
    }
    paths["/api/changes/"] = {
        "get": {
            "operationId": "api_changes",
            "tags": ["Audit"],
            "summary": "The change feed: what changed after an index (blocking)",
            "description": "Without `index`: where the history is now (`changes` empty). With "
            "`index`: up to 1000 revisions after it, oldest first, waiting up to `wait` for "
            "the first; `index` in the answer is the last one listed. `reset` is true, with "
            "no changes and the latest index, when the given index is ahead of this registry "
            "or more than 1000 revisions follow it: treat everything as changed and go on "
            "from `index`.",
            "parameters": WATCH_PARAMETERS,
            "responses": {
                "200": json_response(
                    "Changes",
                    {
                        "type": "object",
                        "properties": {
                            "index": {"type": "integer"},
                            "reset": {"type": "boolean"},
                            "changes": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "index": {"type": "integer"},
                                        "kind": {"type": "string"},
                                        "id": {"type": "string", "format": "uuid"},
                                        "projects": {
                                            "type": "array",
                                            "items": {"type": "string", "format": "uuid"},
                                        },
                                    },
                                },
                            },
                        },
                    },
                ),
                **_errors(400),
            },
        }
    }
