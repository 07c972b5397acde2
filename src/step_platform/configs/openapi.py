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
                    "403": error_response("FORBIDDEN: the token lacks the write role"),
                    "409": error_response(
                        "ENTITY_EXISTS: an active config of this type exists (or CONFLICT: see PUT)"
                    ),
                    "415": error_response("UNSUPPORTED_MEDIA_TYPE"),
                    **COMMON_ERRORS,
                },
                requestBody=_body("NewConfig"),
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
                {"200": written, **WRITE_ERRORS},
                parameters=[TYPE_PARAM],
                requestBody=_body("ConfigData"),
            ),
            "patch": _op(
                "patch_config",
                "Apply `data` as an RFC 7396 merge patch to the config at the headers' level",
                {"200": written, **WRITE_ERRORS},
                parameters=[TYPE_PARAM],
                requestBody=_body("ConfigData"),
            ),
            "delete": _op(
                "deactivate_config",
                "Deactivate the config at the headers' level",
                {"200": written, **WRITE_ERRORS},
                parameters=[TYPE_PARAM],
            ),
        },
    }
    return base_document(TITLE, VERSION, TITLE, paths, SCHEMAS, bearer=True)
