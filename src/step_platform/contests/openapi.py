"""The OpenAPI 3.0.3 document of the step service, written as data.

Unlike the original's generated document (which described several shapes wrongly), this
one describes the responses actually sent.
"""

from __future__ import annotations

from typing import Any

from ..core.docs import CONTEXT_HEADERS, document, error_response, json_response
from ..core.versions import STEP_API as VERSION
from .config_format import PROJECT_NOT_FOUND, PROJECT_NOT_FOUND_MESSAGE
from .messages import (
    APPLICATION_EXISTS,
    APPLICATION_NOT_FOUND,
    CONTEST_NOT_FOUND,
    TASK_COMPLETED,
    TASK_DOES_NOT_EXIST,
    described,
)

TITLE = "API Contests"
TAG = "Contests"
SCHEMA_TAG = "Config format"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "nullable": True, **extra}


def _envelope(data: dict[str, Any] | None, *, count: bool) -> dict[str, Any]:
    props: dict[str, Any] = {"detail": _ref("Detail")}
    required = ["detail"]
    if data is not None:
        info_props: dict[str, Any] = {"api_version": {"type": "string", "example": VERSION}}
        if count:
            info_props["count"] = {"type": "integer"}
        props["data"] = data
        props["info"] = {"type": "object", "properties": info_props}
        required += ["data", "info"]
    return {"type": "object", "required": required, "properties": props}


def _list_of(name: str) -> dict[str, Any]:
    return _envelope({"type": "array", "items": _ref(name)}, count=True)


STATE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "code": {
            "type": "string",
            "enum": ["TASK_COMPLETED", "TASK_UNCOMPLETED", "TASK_DOES_NOT_EXIST"],
        },
        "message": {"type": "string"},
    },
}

CONTEST_FIELDS: dict[str, Any] = {
    "id": {"type": "string", "format": "uuid"},
    "title": _nullable("string"),
    "description": _nullable("string"),
    "status_id": _nullable("string", format="uuid"),
    "status_name": _nullable("string"),
    "deadline": _nullable("string", example="28.11.2024", description="dd.mm.YYYY"),
    "award": _nullable("string"),
    "brief": _nullable("string"),
    "profession": _nullable("string"),
    "projects": _nullable("string"),
    "konkurs_category": _nullable("string"),
}

SCHEMAS: dict[str, Any] = {
    "Detail": {
        "type": "object",
        "properties": {"code": {"type": "string", "example": "OK"}, "message": {"type": "string"}},
    },
    "ContestItem": {"type": "object", "properties": CONTEST_FIELDS},
    "ContestTaskItem": {
        "type": "object",
        "properties": {k: v for k, v in CONTEST_FIELDS.items() if k != "profession"},
    },
    "MyTaskItem": {
        "type": "object",
        "properties": {
            **CONTEST_FIELDS,
            "application_status": {
                "type": "object",
                "properties": {
                    **STATE["properties"],
                    "application_id": {"type": "string", "format": "uuid"},
                    "solution_link": _nullable("string"),
                },
            },
        },
    },
    "HistoryItem": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "title": _nullable("string"),
            "created_at": _nullable("string", example="06 November 2024"),
            "deadline": _nullable("string", example="28 November 2024"),
            "solution_link": _nullable("string"),
            "attachments": {
                "type": "object",
                "nullable": True,
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "url": {"type": "string"},
                    "content_type": {"type": "string"},
                },
            },
        },
    },
    "ContestDetails": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "title": _nullable("string"),
            "description": _nullable("string"),
            "created_at": _nullable("string", example="06.11.2024"),
            "status_id": _nullable("string", format="uuid"),
            "status_name": _nullable("string"),
            "deadline": _nullable("string", example="28.11.2024"),
            "award": _nullable("string"),
            "profession": _nullable("string"),
            "category": _nullable("string"),
            "attachments": {
                "type": "array",
                "nullable": True,
                "items": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
                },
            },
            "user_task_id": _nullable("string", format="uuid"),
            "user_task_status": STATE,
        },
    },
    "Joined": {
        "type": "object",
        "properties": {
            "task_id": {"type": "string", "format": "uuid"},
            "status": {"type": "string", "example": "Новая"},
            "contest_id": {"type": "string", "format": "uuid"},
            "user_id": {"type": "string", "format": "uuid"},
        },
    },
}

COMMON_ERRORS = {
    "400": error_response("INVALID_HEADER / BAD_REQUEST"),
    "401": error_response("TOKEN_MISSING / TOKEN_INCORRECT / TOKEN_EXPIRED"),
    "404": error_response(
        f"{PROJECT_NOT_FOUND}: {PROJECT_NOT_FOUND_MESSAGE.format(project_id='<id>')}"
    ),
    "500": error_response("SERVICE_ERROR: the project's config set is unusable (detail.errors)"),
    "502": error_response("UPSTREAM_ERROR (raida or configs)"),
    "503": error_response("UPSTREAM_UNAVAILABLE"),
    "504": error_response("UPSTREAM_TIMEOUT"),
}


def _path_uuid(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    }


def _op(
    operation_id: str,
    summary: str,
    ok: tuple[str, dict[str, Any]],
    *,
    params: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: str = "200",
    links: dict[str, Any] | None = None,
) -> dict[str, Any]:
    responses: dict[str, Any] = {status: json_response(*ok)}
    if links:
        responses[status]["links"] = links
    responses.update(COMMON_ERRORS)
    for code, text in (errors or {}).items():
        if code in COMMON_ERRORS:  # e.g. 404: the route's own reason beside the common one
            text = f"{text} / {COMMON_ERRORS[code]['description']}"
        responses[code] = error_response(text)
    op: dict[str, Any] = {
        "tags": [TAG],
        "operationId": operation_id,
        "summary": summary,
        "parameters": [*CONTEXT_HEADERS, *(params or [])],
        "responses": dict(sorted(responses.items())),
    }
    if body is not None:
        op["requestBody"] = body
    return op


SEND_DESCRIPTION = (
    "All or nothing: the application is claimed (status completed) before the file is uploaded, "
    "and the claim is undone if Raida fails, so an upstream error leaves the application as it "
    "was (open, no new file) and a retry is safe. Of concurrent sends of one application one "
    "succeeds; the others get 400 TASK_COMPLETED."
)


# Optional texts that are refused blank (forms.NOT_BLANK): something besides white space.
NOT_BLANK: dict[str, Any] = {"type": "string", "minLength": 1, "pattern": r"\S"}

# Where the ids the other operations need come from (schemathesis follows these). None to
# send_solution: its body carries the file, and a body with a file merged with a linked
# `task_id` is no longer one schemathesis can validate (it then expects a refusal).
FIRST_CONTEST_LINKS: dict[str, Any] = {
    "contest_details": {
        "operationId": "contest_details",
        "parameters": {"contest_id": "$response.body#/data/0/id"},
    },
    "contest_tasks": {
        "operationId": "contest_tasks",
        "parameters": {"contest_id": "$response.body#/data/0/id"},
    },
    "join_contest": {
        "operationId": "join_contest",
        "requestBody": {"contest_id": "$response.body#/data/0/id"},
    },
}
APPLICATION_LINKS: dict[str, Any] = {
    "withdraw_application": {
        "operationId": "withdraw_application",
        "parameters": {"task_id": "$response.body#/data/task_id"},
    },
    "contest_details": {
        "operationId": "contest_details",
        "parameters": {"contest_id": "$response.body#/data/contest_id"},
    },
}


def _with_description(description: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    return {**_op(*args, **kwargs), "description": description}


def openapi_document() -> dict[str, Any]:
    contest_id = _path_uuid("contest_id")
    paths = {
        "/contests/active/": {
            "get": _op(
                "active_contests",
                "Active contests (accepting works)",
                ("OK", _list_of("ContestItem")),
                links=FIRST_CONTEST_LINKS,
            )
        },
        "/contests/archive/": {
            "get": _op(
                "archived_contests",
                "Finished contests (done, no winner)",
                ("OK", _list_of("ContestItem")),
            )
        },
        "/contests/{contest_id}/": {
            "get": _op(
                "contest_details",
                "One contest and the caller's application",
                ("OK", _envelope(_ref("ContestDetails"), count=False)),
                params=[contest_id],
                errors={"404": described(CONTEST_NOT_FOUND)},
            )
        },
        "/contests/{contest_id}/task/": {
            "get": _op(
                "contest_tasks",
                "Applications of a contest by status",
                ("OK", _list_of("ContestTaskItem")),
                params=[
                    contest_id,
                    {
                        "name": "status",
                        "in": "query",
                        "required": False,
                        "description": "status id (UUID), repeatable; default approved+completed",
                        "schema": {"type": "array", "items": {"type": "string", "format": "uuid"}},
                        "style": "form",
                        "explode": True,
                    },
                ],
            )
        },
        "/contests/user/my/tasks/": {
            "get": _op(
                "my_tasks", "Running contests the caller applied to", ("OK", _list_of("MyTaskItem"))
            )
        },
        "/contests/user/my/history/": {
            "get": _op(
                "my_history",
                "Finished contests the caller submitted to",
                ("OK", _list_of("HistoryItem")),
            )
        },
        "/contests/user/{user_id}/history/": {
            "get": _op(
                "user_history",
                "Finished contests a user submitted to",
                ("OK", _list_of("HistoryItem")),
                params=[_path_uuid("user_id")],
            )
        },
        "/contests/user/my/task/": {
            "post": _op(
                "join_contest",
                "Apply to a contest",
                ("Created", _envelope(_ref("Joined"), count=False)),
                status="201",
                links=APPLICATION_LINKS,
                body={
                    "required": True,
                    "content": {
                        media: {
                            "schema": {
                                "type": "object",
                                "required": ["contest_id"],
                                "properties": {"contest_id": {"type": "string", "format": "uuid"}},
                            }
                        }
                        for media in (
                            "application/json",
                            "application/x-www-form-urlencoded",
                            "multipart/form-data",
                        )
                    },
                },
                errors={
                    "404": described(CONTEST_NOT_FOUND),
                    "409": described(APPLICATION_EXISTS),
                },
            )
        },
        "/contests/user/my/task/{task_id}/": {
            "delete": _op(
                "withdraw_application",
                "Withdraw the caller's application",
                ("OK", _envelope(None, count=False)),
                params=[_path_uuid("task_id")],
                errors={
                    "404": described(APPLICATION_NOT_FOUND),
                    "409": described(TASK_COMPLETED),
                },
            )
        },
        "/contests/user/my/task/send_solution": {
            "post": _with_description(
                SEND_DESCRIPTION,
                "send_solution",
                "Submit a solution to the caller's application",
                ("OK", _envelope(None, count=False)),
                body={
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["task_id", "solution_file"],
                                "properties": {
                                    "task_id": {"type": "string", "format": "uuid"},
                                    "solution_file": {
                                        "type": "string",
                                        "format": "binary",
                                        "minLength": 1,
                                        "description": "not empty, with a file name",
                                    },
                                    "solution_link": NOT_BLANK,
                                    "comments": NOT_BLANK,
                                },
                            }
                        }
                    },
                },
                errors={
                    "400": "INVALID_HEADER / BAD_REQUEST (detail.fields) / TASK_COMPLETED",
                    "404": described(TASK_DOES_NOT_EXIST),
                    "413": "PAYLOAD_TOO_LARGE: the file is over STEP_MAX_UPLOAD_BYTES",
                    "415": "UNSUPPORTED_MEDIA_TYPE",
                },
            )
        },
    }
    paths["/config-schema/"] = {
        "get": {
            "tags": [SCHEMA_TAG],
            "operationId": "config_schema",
            "summary": "The config format step reads: a JSON Schema (2020-12) per config type",
            "description": (
                "Generated from the one declaration step validates with; the same body step "
                "registers as a consumer with the configs service (PUT /configs/_consumers/step/)"
                ". No token needed. docs/config-format.md explains it."
            ),
            "security": [],
            "parameters": [],
            "responses": {
                "200": json_response(
                    "config type -> its JSON Schema",
                    {
                        "type": "object",
                        "required": ["schemas"],
                        "properties": {
                            "schemas": {
                                "type": "object",
                                "additionalProperties": {"type": "object"},
                            }
                        },
                    },
                )
            },
        }
    }
    doc = document(
        TITLE,
        VERSION,
        "Contests section of the Step personal cabinet, backed by Raida. Every route needs a "
        "User Center bearer token and the Project-ID header (Account-ID optional).",
        paths,
        SCHEMAS,
        bearer=True,
    )
    doc["tags"] = [{"name": TAG}, {"name": SCHEMA_TAG}]
    return doc
