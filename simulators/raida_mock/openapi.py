"""The OpenAPI document of raida-mock (Raida's routes as the step service uses them + admin)."""

from __future__ import annotations

from typing import Any

from step_platform.core.docs import document, json_response
from step_platform.core.versions import PACKAGE

RAIDA_ERROR = {"$ref": "#/components/schemas/RaidaError"}
TASK = {"$ref": "#/components/schemas/Task"}
ATTACHMENT = {"$ref": "#/components/schemas/Attachment"}
NODE = {"name": "node", "in": "path", "required": True, "schema": {"type": "string"}}
TASK_ID = {"name": "task", "in": "path", "required": True, "schema": {"type": "string"}}
# one path for a task and for its process (the same shape: /api/tasks/{node}/{id}), as Raida
ID_TASK = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "the task",
    "schema": {"type": "string"},
}
ID_PROCESS = {**ID_TASK, "description": "the process the new task goes in"}
NEW_TASK_LINKS = {
    "get_task": {
        "operationId": "get_task",
        "parameters": {"node": "$request.path.node", "id": "$response.body#/data/id"},
    },
    "patch_task": {
        "operationId": "patch_task",
        "parameters": {"node": "$request.path.node", "id": "$response.body#/data/id"},
    },
    "list_attachments": {
        "operationId": "list_attachments",
        "parameters": {"node": "$request.path.node", "task": "$response.body#/data/id"},
    },
}
BEARER: list[dict[str, list[str]]] = [{"raidaToken": []}]


def _raida_errors(*statuses: int) -> dict[str, Any]:
    texts = {
        400: "Malformed body, invalid RQL, status outside the task's process",
        401: "Missing, unknown or expired token",
        404: "Unknown node, process or task",
    }
    return {
        str(s): {
            "description": texts[s],
            "content": {"application/json": {"schema": RAIDA_ERROR}},
        }
        for s in statuses
    }


def _data(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"data": schema}}


def _admin(summary: str, body: bool = False) -> dict[str, Any]:
    op: dict[str, Any] = {
        "tags": ["admin"],
        "summary": summary,
        "responses": {"200": {"description": "OK"}, "400": {"description": "Invalid body"}},
    }
    if body:
        op["requestBody"] = {"content": {"application/json": {"schema": {"type": "object"}}}}
    return op


def openapi() -> dict[str, Any]:
    task_body = {
        "type": "object",
        "properties": {
            "title": {"type": "string", "nullable": True},
            "description": {"type": "string", "nullable": True},
            "status_id": {"type": "string"},
            "custom_fields": {"type": "object"},
            "author": {"nullable": True},
            "assignee": {"nullable": True},
        },
    }
    paths = {
        "/api/users/token/": {
            "post": {
                "tags": ["raida"],
                "operationId": "token",
                "summary": "Service-account token (USER_RAIDA / PASSWD_RAIDA)",
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "required": ["username", "password"],
                                "properties": {
                                    "username": {"type": "string", "minLength": 1},
                                    "password": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": json_response(
                        "A bearer token",
                        {
                            "type": "object",
                            "properties": {
                                "access_token": {"type": "string"},
                                "token_type": {"type": "string"},
                                "expires_in": {"type": "number"},
                            },
                        },
                    ),
                    **_raida_errors(400, 401),
                },
            }
        },
        "/api/tasks/{node}/{id}": {
            "get": {
                "tags": ["raida"],
                "operationId": "get_task",
                "summary": "Read a task",
                "parameters": [NODE, ID_TASK],
                "responses": {
                    "200": json_response("The task", _data(TASK)),
                    **_raida_errors(401, 404),
                },
            },
            "patch": {
                "tags": ["raida"],
                "operationId": "patch_task",
                "summary": "Update a task (custom_fields merged key by key)",
                "parameters": [NODE, ID_TASK],
                "requestBody": {"content": {"application/json": {"schema": task_body}}},
                "responses": {
                    "200": json_response("The updated task", _data(TASK)),
                    **_raida_errors(400, 401, 404),
                },
            },
            "post": {
                "tags": ["raida"],
                "operationId": "create_task",
                "summary": "Create a task in a process (`id`: the process)",
                "parameters": [NODE, ID_PROCESS],
                "requestBody": {"content": {"application/json": {"schema": task_body}}},
                "responses": {
                    "201": {**json_response("The new task", _data(TASK)), "links": NEW_TASK_LINKS},
                    **_raida_errors(400, 401, 404),
                },
            },
        },
        "/api/tasks/rql/{node}": {
            "post": {
                "tags": ["raida"],
                "operationId": "search_tasks",
                "summary": "Search tasks with RQL",
                "parameters": [NODE],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["rql"],
                                "properties": {
                                    "rql": {"type": "string"},
                                    "fields": {"type": "array", "items": {"type": "string"}},
                                },
                            }
                        }
                    }
                },
                "responses": {
                    "200": json_response("Matching tasks", _data({"type": "array", "items": TASK})),
                    **_raida_errors(400, 401, 404),
                },
            }
        },
        "/api/attachments/{node}/{task}": {
            "get": {
                "tags": ["raida"],
                "operationId": "list_attachments",
                "summary": "Attachments of a task",
                "parameters": [NODE, TASK_ID],
                "responses": {
                    "200": json_response(
                        "Attachments", _data({"type": "array", "items": ATTACHMENT})
                    ),
                    **_raida_errors(401, 404),
                },
            },
            "post": {
                "tags": ["raida"],
                "operationId": "upload_attachment",
                "summary": "Upload an attachment (multipart part `attachment`)",
                "parameters": [
                    NODE,
                    TASK_ID,
                    {"name": "type", "in": "query", "schema": {"type": "string", "enum": ["task"]}},
                ],
                "requestBody": {
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "attachment": {"type": "string", "format": "binary"}
                                },
                            }
                        }
                    }
                },
                "responses": {
                    "201": json_response("The attachment", _data(ATTACHMENT)),
                    **_raida_errors(400, 401, 404),
                },
            },
        },
        "/media/{node}/{attachment}/{name}": {
            "get": {
                "tags": ["raida"],
                "operationId": "media",
                "summary": "An uploaded file",
                "security": [],
                "parameters": [
                    NODE,
                    {
                        "name": "attachment",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "The file"}, **_raida_errors(404)},
            }
        },
        "/__admin/reset": {"post": _admin("Back to the seed")},
        "/__admin/seed": {"post": _admin("Load the fixture in the body", body=True)},
        "/__admin/state": {"get": _admin("The state as a fixture")},
        "/__admin/faults": {
            "get": _admin("Active fault rules"),
            "post": _admin(
                "Add a rule {route, method, latency_ms, error_rate, error_status, fail_next, "
                "drop_next}",
                body=True,
            ),
            "delete": _admin("Remove every rule"),
        },
        "/__admin/journal": {
            "get": _admin("Requests seen: {entries: [{method, path, query, status, at}]}"),
            "delete": _admin("Forget them"),
        },
        "/__admin/tokens": {
            "post": _admin("Issue a token without touching the journal"),
            "delete": _admin("Revoke every issued token"),
        },
    }
    schemas = {
        "RaidaError": {"type": "object", "properties": {"detail": {"type": "string"}}},
        "Attachment": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "name": {"type": "string"},
                "url": {"type": "string"},
                "content_type": {"type": "string"},
            },
        },
        "Task": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "title": {"type": "string", "nullable": True},
                "description": {"type": "string", "nullable": True},
                "created_at": {"type": "string"},
                "process": {"type": "object", "properties": {"id": {"type": "string"}}},
                "status": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
                },
                "custom_fields": {"type": "object"},
                "attachments": {"type": "array", "items": ATTACHMENT},
                "author": {"nullable": True},
                "assignee": {"nullable": True},
            },
        },
    }
    doc = document(
        "raida-mock",
        PACKAGE,
        "Stateful simulator of the Raida task tracker API used by the step service.",
        paths,
        schemas,
    )
    doc["components"]["securitySchemes"] = {"raidaToken": {"type": "http", "scheme": "bearer"}}
    doc["security"] = BEARER
    return doc
