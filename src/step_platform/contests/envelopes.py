"""The step API's answers: the success envelopes (`detail`, `data`, `info`) and the errors
several handlers raise, so every route answers in the same shape."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..core.errors import ApiError
from ..core.responses import JSON, ParsedJSON
from ..core.versions import STEP_API as API_VERSION
from . import forms, messages


def ok_list(message: str, data: list[dict[str, Any]]) -> Response:
    """A list built from Raida's answers (up to hundreds of items): rendered by orjson."""
    return ParsedJSON(
        {
            "detail": {"code": "OK", "message": message},
            "data": data,
            "info": {"api_version": API_VERSION, "count": len(data)},
        }
    )


def ok_data(message: str, data: dict[str, Any], status: int = 200) -> Response:
    return JSON(
        {
            "detail": {"code": "OK", "message": message},
            "data": data,
            "info": {"api_version": API_VERSION},
        },
        status_code=status,
    )


def ok(message: str) -> Response:
    return JSON({"detail": {"code": "OK", "message": message}})


def contest_not_found() -> ApiError:
    return ApiError(404, *messages.CONTEST_NOT_FOUND)


def entity_exists() -> ApiError:
    return ApiError(409, *messages.APPLICATION_EXISTS, body={"info": {"api_version": API_VERSION}})


def task_completed(status: int = 400) -> ApiError:
    """The application's solution is in: a second send is 400 (as the original); a withdrawal
    is 409, a conflict with the application's state (docs/compat.md)."""
    return ApiError(status, *messages.TASK_COMPLETED)


def bad_status_filter() -> ApiError:
    return forms.field_errors({"status": [forms.BAD_UUID]})
