"""The error envelope and the one place exceptions become responses.

Every error a client sees is `{"detail": {"code", "message", ...}}`. Code raises `ApiError`
(or a subclass); `install_error_handlers` turns it, Starlette's routing errors and anything
unexpected into that envelope. No stack trace ever reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from .responses import JSON

log = logging.getLogger("step_platform.errors")

# Generic messages in the language of each service's own messages (new messages
# use the language of the service's existing ones).
MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "NOT_FOUND": "Not found.",
        "METHOD_NOT_ALLOWED": 'Method "{method}" not allowed.',
        "INTERNAL_ERROR": "Internal server error.",
        "DISALLOWED_HOST": "Invalid Host header: {host!r}.",
        "PAYLOAD_TOO_LARGE": "Request body is too large.",
        "BAD_REQUEST": "Bad request.",
    },
    "ru": {
        "NOT_FOUND": "Не найдено.",
        "METHOD_NOT_ALLOWED": 'Метод "{method}" не разрешен.',
        "INTERNAL_ERROR": "Внутренняя ошибка сервиса.",
        "DISALLOWED_HOST": "Недопустимый заголовок Host: {host!r}.",
        "PAYLOAD_TOO_LARGE": "Тело запроса слишком велико.",
        "BAD_REQUEST": "Некорректный запрос.",
    },
}


class ApiError(Exception):
    """An error with an HTTP status and a stable code; extra keys go into `detail`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra
        self.headers = headers or {}
        self.body = body or {}

    def payload(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"code": self.code, "message": self.message}
        detail.update(self.extra)
        return {"detail": detail, **self.body}

    def response(self) -> Response:
        return JSON(self.payload(), status_code=self.status, headers=self.headers)


def bad_request(message: str, *, code: str = "BAD_REQUEST", **extra: Any) -> ApiError:
    return ApiError(400, code, message, **extra)


def error_response(status: int, code: str, message: str, **extra: Any) -> Response:
    return ApiError(status, code, message, **extra).response()


def install_error_handlers(app: Any, language: str = "en") -> None:
    messages = MESSAGES[language]

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def on_http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return error_response(404, "NOT_FOUND", messages["NOT_FOUND"])
        if exc.status_code == 405:
            headers = dict(exc.headers or {})
            message = messages["METHOD_NOT_ALLOWED"].format(method=request.method)
            return ApiError(405, "METHOD_NOT_ALLOWED", message, headers=headers).response()
        code = "BAD_REQUEST" if exc.status_code < 500 else "INTERNAL_ERROR"
        return error_response(exc.status_code, code, str(exc.detail))

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(HTTPException, on_http_exception)


def internal_error_body(language: str) -> bytes:
    from .responses import dumps

    return dumps(
        {"detail": {"code": "INTERNAL_ERROR", "message": MESSAGES[language]["INTERNAL_ERROR"]}}
    )
