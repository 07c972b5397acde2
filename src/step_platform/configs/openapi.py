"""The OpenAPI 3.0.3 document of the configs service, written as data.

Title, description, version, tag and the `get_all_configs` operation id are the original's;
the error responses are the ones this service really answers with.
"""

from __future__ import annotations

from typing import Any

from ..core.docs import CONTEXT_HEADERS, error_response, json_response
from ..core.docs import document as base_document
from ..core.versions import CONFIGS_API as VERSION
from .routes import ATTEMPTS

TITLE = "API Configs"
TAG = "Configs"
CONSUMERS_TAG = "Consumers"

TYPES_PARAM: dict[str, Any] = {
    "name": "config_type",
    "in": "path",
    "required": True,
    "description": "One config type, or several separated by commas (`node_id,task_status_id`).",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_]+(,[A-Za-z0-9_]+)*$"},
}
TYPE_PARAM: dict[str, Any] = {
    **TYPES_PARAM,
    "description": "Exactly one config type.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_]+$"},
}

OK_DETAIL: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {"code": {"type": "string", "enum": ["OK"]}, "message": {"type": "string"}},
}

SCHEMAS: dict[str, Any] = {
    "ConfigSet": {
        "type": "object",
        "required": ["detail", "data", "sources"],
        "properties": {
            "detail": OK_DETAIL,
            "data": {
                "type": "object",
                "description": "config type -> its data",
                "additionalProperties": {},
            },
            "sources": {
                "type": "object",
                "description": "config type -> the level its data came from",
                "additionalProperties": {"type": "string", "enum": ["account", "project"]},
            },
            "missing": {
                "type": "array",
                "description": "requested types that were not found (typed reads only)",
                "items": {"type": "string"},
            },
        },
    },
    "NewConfig": {
        "type": "object",
        "required": ["project_id", "object_type", "data"],
        "properties": {
            "project_id": {"type": "string", "format": "uuid"},
            "account_id": {"type": "string", "format": "uuid"},
            "object_type": {"type": "string", "pattern": "^[A-Za-z0-9_]+$", "maxLength": 254},
            "data": {"description": "any JSON value except null"},
        },
    },
    "ConfigData": {
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"description": "any JSON value except null"}},
    },
    "RegistryConfig": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "created_date": {"type": "string", "format": "date-time"},
            "modified_date": {"type": "string", "format": "date-time"},
            "project_id": {"type": "string", "format": "uuid", "nullable": True},
            "account_id": {"type": "string", "format": "uuid", "nullable": True},
            "user_id": {"type": "string", "format": "uuid", "nullable": True},
            "object_type": {"type": "string", "nullable": True},
            "object_item": {"type": "string", "format": "uuid", "nullable": True},
            "object_code": {"type": "string", "nullable": True},
            "name": {"type": "string", "nullable": True},
            "meta": {"type": "object", "additionalProperties": True},
            "data": {},
        },
    },
    "ConsumerRegistration": {
        "type": "object",
        "required": ["schemas"],
        "properties": {
            "schemas": {
                "type": "object",
                "description": "config type -> the JSON Schema (2020-12 unless `$schema` says "
                "otherwise) its value must satisfy; every `$ref` must point inside the schema",
                "additionalProperties": {"type": "object"},
            }
        },
    },
    "Consumer": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "types": {"type": "array", "items": {"type": "string"}},
            "schemas": {"type": "object", "additionalProperties": {"type": "object"}},
            "registered_by": {"type": "string", "format": "uuid", "nullable": True},
            "modified_date": {"type": "string", "format": "date-time"},
        },
    },
    "ConsumerList": {
        "type": "object",
        "properties": {
            "detail": OK_DETAIL,
            "consumers": {"type": "array", "items": {"$ref": "#/components/schemas/Consumer"}},
        },
    },
    "ConsumerWritten": {
        "type": "object",
        "properties": {
            "detail": OK_DETAIL,
            "consumer": {"$ref": "#/components/schemas/Consumer"},
        },
    },
    "DryRun": {
        "type": "object",
        "properties": {
            "data": {
                "type": "object",
                "description": "config type -> its data after the intended POST/PUT/PATCH",
                "additionalProperties": {},
            },
            "deactivate": {
                "type": "array",
                "description": "types whose config at this level would be deleted",
                "items": {"type": "string"},
            },
        },
    },
    "DryRunPassed": {
        "type": "object",
        "properties": {
            "detail": OK_DETAIL,
            "consumers": {
                "type": "array",
                "description": "the consumers checked",
                "items": {"type": "string"},
            },
        },
    },
    "BreaksConsumer": {
        "type": "object",
        "properties": {
            "detail": {
                "type": "object",
                "properties": {
                    "code": {"type": "string", "enum": ["BREAKS_CONSUMER"]},
                    "message": {"type": "string"},
                    "violations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "consumer": {"type": "string"},
                                "type": {"type": "string"},
                                "paths": {
                                    "type": "array",
                                    "description": "dotted paths as the consumer reports them "
                                    "(`node_id` for a missing or non-object type, "
                                    "`task_status_id.new` inside one)",
                                    "items": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            }
        },
    },
    "ConfigWritten": {
        "type": "object",
        "required": ["detail", "data"],
        "properties": {
            "detail": OK_DETAIL,
            "data": {"$ref": "#/components/schemas/RegistryConfig"},
        },
    },
}

COMMON_ERRORS: dict[str, Any] = {
    "400": error_response("BAD_REQUEST (body, type names) or INVALID_HEADER"),
    "401": error_response("TOKEN_MISSING, TOKEN_INCORRECT or TOKEN_EXPIRED"),
    "502": error_response("UPSTREAM_ERROR: the registry failed"),
    "503": error_response("UPSTREAM_UNAVAILABLE: the registry cannot be reached"),
    "504": error_response("UPSTREAM_TIMEOUT: the registry did not answer in time"),
}
WRITE_ERRORS: dict[str, Any] = {
    **COMMON_ERRORS,
    "403": error_response("FORBIDDEN: the token lacks the write role"),
    "404": error_response("NOT_FOUND: no active config of this type at this level"),
    "409": error_response(
        "CONFLICT: other writers changed the config between this request's read and write "
        f"on all {ATTEMPTS} tries; nothing was written, repeat the request"
    ),
}


BREAKS = {
    "description": "BREAKS_CONSUMER: the write would break a registered consumer; nothing "
    "was written",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BreaksConsumer"}}},
}
OVERRIDE_PARAM: dict[str, Any] = {
    "name": "X-Consumer-Override",
    "in": "header",
    "required": False,
    "description": "Emergency only: write even if it breaks a consumer. The value is the "
    "reason; the token needs the override role (CONFIGS_OVERRIDE_ROLE, default "
    "`configs:override`). Logged, and stored in the row's `meta.consumer_override`.",
    "schema": {"type": "string", "maxLength": 500},
}
NAME_PARAM: dict[str, Any] = {
    "name": "name",
    "in": "path",
    "required": True,
    "description": "The consumer's name (`step`)",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"},
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _op(op_id: str, summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "tags": [TAG],
        "operationId": op_id,
        "summary": summary,
        "parameters": list(CONTEXT_HEADERS) + extra.pop("parameters", []),
        **extra,
        "responses": responses,
    }


def document() -> dict[str, Any]:
    read_ok = json_response("the resolved config set", _ref("ConfigSet"))
    written = json_response("the stored registry row", _ref("ConfigWritten"))
    not_found = error_response("NOT_FOUND: none of the types exist")
    paths = {
        "/configs/": {
            "get": _op(
                "get_all_configs",
                "Every active config of the Project-ID / Account-ID",
                {"200": read_ok, "404": not_found, **COMMON_ERRORS},
            ),
            "post": _op(
                "create_config",
                "Create one config (an inactive one of the same level is reactivated)",
                {
                    "201": written,
                    "422": BREAKS,
                    "403": error_response("FORBIDDEN: the token lacks the write role"),
                    "409": error_response(
                        "ENTITY_EXISTS: an active config of this type exists (or CONFLICT: see PUT)"
                    ),
                    "415": error_response("UNSUPPORTED_MEDIA_TYPE"),
                    **COMMON_ERRORS,
                },
                requestBody=_body("NewConfig"),
                parameters=[OVERRIDE_PARAM],
            ),
        },
        "/configs/{config_type}/": {
            "get": _op(
                "get_configs",
                "Configs of the given types; account level overrides project level",
                {"200": read_ok, "404": not_found, **COMMON_ERRORS},
                parameters=[TYPES_PARAM],
            ),
            "put": _op(
                "replace_config",
                "Replace the data of the config at the headers' level",
                {"200": written, "422": BREAKS, **WRITE_ERRORS},
                parameters=[TYPE_PARAM, OVERRIDE_PARAM],
                requestBody=_body("ConfigData"),
            ),
            "patch": _op(
                "patch_config",
                "Apply `data` as an RFC 7396 merge patch to the config at the headers' level",
                {"200": written, "422": BREAKS, **WRITE_ERRORS},
                parameters=[TYPE_PARAM, OVERRIDE_PARAM],
                requestBody=_body("ConfigData"),
            ),
            "delete": _op(
                "deactivate_config",
                "Deactivate the config at the headers' level",
                {"200": written, "422": BREAKS, **WRITE_ERRORS},
                parameters=[TYPE_PARAM, OVERRIDE_PARAM],
            ),
        },
    }
    paths.update(consumer_paths())
    _history_paths(paths)
    return base_document(TITLE, VERSION, TITLE, paths, {**SCHEMAS, **HISTORY_SCHEMAS}, bearer=True)


# --- history, rollback and watches ------------------------------------------------------------

INDEX_HEADER = {
    "X-Config-Index": {
        "description": "The index of the last change of the configs read (both levels, these "
        "types); pass it back as `index` to wait for the next change.",
        "schema": {"type": "integer"},
    }
}
WATCH_PARAMS: list[dict[str, Any]] = [
    {
        "name": "index",
        "in": "query",
        "required": False,
        "description": "Blocking query, as Consul's: answer at once when the set's "
        "`X-Config-Index` is above this (or this is ahead of the registry: start again from "
        "the answer's index), else when a change of the set is committed through any "
        "instance, or when `wait` ends (200, same body and index). Negative or not an "
        "integer: 400 `INVALID_QUERY`.",
        "schema": {"type": "integer", "minimum": 0},
    },
    {
        "name": "wait",
        "in": "query",
        "required": False,
        "description": "Seconds, or a number with `ms`, `s` or `m` (`30s`); default 30 s, "
        "capped at 300 s; without `index` a plain read.",
        "schema": {"type": "string", "example": "30s"},
    },
]
STATE = {
    "type": "object",
    "nullable": True,
    "properties": {"data": {}, "meta": {"type": "object", "additionalProperties": True}},
}
HISTORY_SCHEMAS: dict[str, Any] = {
    "ConfigRevision": {
        "type": "object",
        "properties": {
            "index": {"type": "integer"},
            "object_type": {"type": "string"},
            "level": {"type": "string", "enum": ["account", "project"]},
            "operation": {
                "type": "string",
                "description": "The registry write: `create`, `update` (a replace: PUT and "
                "PATCH here), `patch` (DELETE here), `rollback`, `adopted`.",
            },
            "actor": {"type": "string", "description": "The writer's user id (from the token)."},
            "actor_roles": {"type": "array", "items": {"type": "string"}},
            "request_id": {"type": "string", "nullable": True},
            "time": {"type": "string", "format": "date-time"},
            "restores": {"type": "integer", "nullable": True},
            "before": STATE,
            "after": STATE,
        },
    },
    "ConfigHistory": {
        "type": "object",
        "properties": {
            "detail": OK_DETAIL,
            "count": {"type": "integer"},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "results": {"type": "array", "items": _ref("ConfigRevision")},
        },
    },
    "Rollback": {
        "type": "object",
        "required": ["index"],
        "properties": {"index": {"type": "integer", "minimum": 1}},
    },
}


def _history_paths(paths: dict[str, Any]) -> None:
    for path in ("/configs/", "/configs/{config_type}/"):
        read = paths[path]["get"]
        read["parameters"] = [*read["parameters"], *WATCH_PARAMS]
        read["responses"]["200"] = {**read["responses"]["200"], "headers": INDEX_HEADER}
    page = [
        {"name": "limit", "in": "query", "required": False, "description": "1..1000, 100",
         "schema": {"type": "integer"}},
        {"name": "offset", "in": "query", "required": False, "description": "0 or more",
         "schema": {"type": "integer"}},
    ]  # fmt: skip
    history = json_response("newest first", _ref("ConfigHistory"))
    paths["/configs/{config_type}/history/"] = {
        "get": _op(
            "config_history",
            "Changes of these types at the Project-ID (and Account-ID), newest first",
            {"200": {**history, "headers": INDEX_HEADER}, **COMMON_ERRORS},
            parameters=[TYPES_PARAM, *page],
        )
    }
    paths["/configs/{config_type}/rollback/"] = {
        "post": _op(
            "rollback_config",
            "Write the config at the headers' level back as a revision from its history left "
            "it (data and meta); brings back a deactivated one too. A new revision itself.",
            {
                "200": json_response("the stored registry row", _ref("ConfigWritten")),
                **WRITE_ERRORS,
            },
            parameters=[TYPE_PARAM],
            requestBody=_body("Rollback"),
        )
    }
    paths["/configs/_changes/"] = {
        "get": {
            "tags": [TAG],
            "operationId": "config_changes",
            "summary": "The registry's change feed (needs the write role): which projects "
            "changed after `index`. Step follows it to drop cached config sets at once.",
            "parameters": WATCH_PARAMS,
            "responses": {
                "200": json_response(
                    "`{index, reset, changes: [{index, kind, id, projects}]}`",
                    {"type": "object"},
                ),
                **COMMON_ERRORS,
                "403": error_response("FORBIDDEN: the token lacks the write role"),
            },
        }
    }


def _plain(op_id: str, summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An operation without the context headers (consumers are not per project)."""
    op = _op(op_id, summary, responses, **extra)
    op["parameters"] = op["parameters"][len(CONTEXT_HEADERS) :]
    op["tags"] = [CONSUMERS_TAG]
    return op


def consumer_paths() -> dict[str, Any]:
    consumer = json_response("the registration", _ref("ConsumerWritten"))
    auth = {"401": COMMON_ERRORS["401"], "502": COMMON_ERRORS["502"]}
    forbidden = error_response("FORBIDDEN: the token lacks the write role")
    missing = error_response("NOT_FOUND: no such consumer")
    return {
        "/configs/_consumers/": {
            "get": _plain(
                "list_consumers",
                "Registered consumers and the schemas of the types they read",
                {"200": json_response("every consumer", _ref("ConsumerList")), **auth},
            )
        },
        "/configs/_consumers/{name}/": {
            "get": _plain(
                "get_consumer",
                "One registration",
                {"200": consumer, "404": missing, **auth},
                parameters=[NAME_PARAM],
            ),
            "put": _plain(
                "register_consumer",
                "Register (or re-register) a consumer: from then on writes that would break "
                "it are refused. Idempotent.",
                {
                    "200": consumer,
                    "201": consumer,
                    "400": error_response(
                        "INVALID_SCHEMA (naming the type and the schema error) or BAD_REQUEST"
                    ),
                    "403": forbidden,
                    **auth,
                },
                parameters=[NAME_PARAM],
                requestBody=_body("ConsumerRegistration"),
            ),
            "delete": _plain(
                "remove_consumer",
                "Remove a registration",
                {
                    "200": json_response("removed", {"type": "object"}),
                    "403": forbidden,
                    "404": missing,
                    **auth,
                },
                parameters=[NAME_PARAM],
            ),
        },
        "/configs/_validate/": {
            "post": {
                **_op(
                    "validate_configs",
                    "Dry run: would these writes at the headers' level break a consumer?",
                    {
                        "200": json_response("no consumer breaks", _ref("DryRunPassed")),
                        "422": BREAKS,
                        **COMMON_ERRORS,
                    },
                    requestBody=_body("DryRun"),
                ),
                "tags": [CONSUMERS_TAG],
            }
        },
    }
