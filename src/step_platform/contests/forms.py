"""Request bodies of the two write routes, validated before any upstream call.

Messages are the framework's Russian ones the original answered with (its 400 carried them as
a field map under `message`; here `message` is one sentence and the map is `detail.fields`).
"""

from __future__ import annotations

import mimetypes
import os
import re
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from ..core import bodies
from ..core.bodies import JsonBodies
from ..core.errors import MESSAGES as CORE_MESSAGES
from ..core.errors import ApiError
from ..core.ids import canonical_uuid
from .raida_client import Upload

REQUIRED = "Это поле обязательно."
NOT_NULL = "Это поле не может быть null."
NOT_BLANK = "Это поле не может быть пустым."
BAD_UUID = "Must be a valid UUID."
NO_FILE = "Не был загружен файл."
EMPTY_FILE = "Загруженный файл пуст."
NOT_A_FILE = "Загруженный файл не является корректным файлом."
NO_FILENAME = "Не удалось определить имя файла."
ONE_FILE = "Можно загрузить только один файл."
TOO_LARGE = "Файл слишком большой: не более {limit} байт."
NOT_OBJECT = "Недопустимые данные. Ожидался словарь, но был получен {kind}."
UNSUPPORTED = 'Неподдерживаемый тип данных "{media}" в запросе.'

MULTIPART = "multipart/form-data"
FORM = "application/x-www-form-urlencoded"


def field_errors(fields: dict[str, list[str]]) -> ApiError:
    return ApiError(400, "BAD_REQUEST", CORE_MESSAGES["ru"]["BAD_REQUEST"], fields=fields)


def unsupported(media: str) -> ApiError:
    return BODIES.unsupported_media(media)


BODIES = JsonBodies(language="ru", parse_code="BAD_REQUEST", unsupported=UNSUPPORTED)


def media_type(request: Request) -> str:
    return bodies.media_type(request)


async def json_object(request: Request) -> dict[str, Any]:
    data = await BODIES.read(request)
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise field_errors({"non_field_errors": [NOT_OBJECT.format(kind=kind)]})
    return data


def _uuid_field(data: Any, name: str, errors: dict[str, list[str]]) -> str | None:
    if name not in data:
        errors[name] = [REQUIRED]
        return None
    value = data[name]
    if value is None:
        errors[name] = [NOT_NULL]
        return None
    parsed = canonical_uuid(value)
    if parsed is None:
        errors[name] = [BAD_UUID]
    return parsed


# --- route 8 ---------------------------------------------------------------------------------


async def join_contest_id(request: Request) -> str:
    """`contest_id` from a JSON, form or multipart body (the original took all three)."""
    media = media_type(request)
    if media in (MULTIPART, FORM):
        async with request.form(max_files=10, max_fields=100) as form:
            data: Any = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    elif media in ("application/json", ""):
        data = await json_object(request)
    else:
        raise unsupported(media)
    errors: dict[str, list[str]] = {}
    contest_id = _uuid_field(data, "contest_id", errors)
    if errors or contest_id is None:
        raise field_errors(errors)
    return contest_id


# --- route 10 --------------------------------------------------------------------------------


@dataclass
class Solution:
    task_id: str
    upload: Upload
    solution_link: str | None
    comments: str | None


_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\/]")


def safe_filename(name: str) -> str:
    """The client's file name without any directory part or unprintable characters (bidi
    overrides such as U+202E disguise an extension); `.` and `..` are no name ("")."""
    base = os.path.basename(name.replace("\\", "/")).strip()
    # not printable: controls, format characters (bidi), separators other than a space,
    # surrogates, private and unassigned code points
    base = "".join(c if c.isprintable() else "_" for c in base)
    base = _UNSAFE.sub("_", base)[:200]
    return "" if not base.strip(". ") else base


def _optional_text(form: FormData | dict[str, Any], name: str, errors: dict[str, list[str]]):
    if name not in form:
        return None
    value = form[name]
    if not isinstance(value, str):
        errors[name] = ["Not a valid string."]
        return None
    value = value.strip()
    if not value:
        errors[name] = [NOT_BLANK]
        return None
    return value


async def solution(request: Request, *, max_upload_bytes: int) -> tuple[Solution, FormData | None]:
    """The validated submission, and the form to close once the file has been sent.

    JSON is parsed as the original did, but cannot carry a file, so it always fails on
    `solution_file`; url-encoded forms are refused with 415 as the original did.
    """
    media = media_type(request)
    form: FormData | None = None
    if media == MULTIPART:
        form = await request.form(max_files=20, max_fields=100)
        data: Any = form
    elif media in ("application/json", ""):
        data = await json_object(request)
    else:
        raise unsupported(media)
    try:
        return _validate_solution(data, max_upload_bytes), form
    except BaseException:
        if form is not None:
            await form.close()
        raise


def _validate_solution(data: Any, max_upload_bytes: int) -> Solution:
    errors: dict[str, list[str]] = {}
    task_id = _uuid_field(data, "task_id", errors)
    upload: UploadFile | None = None
    files = (
        data.getlist("solution_file")
        if isinstance(data, FormData)
        else ([data["solution_file"]] if "solution_file" in data else [])
    )
    if not files:
        errors["solution_file"] = [NO_FILE]
    elif len(files) > 1:
        errors["solution_file"] = [ONE_FILE]
    elif not isinstance(files[0], UploadFile):
        errors["solution_file"] = [NOT_A_FILE]
    else:
        upload = files[0]
        if not upload.filename or not safe_filename(upload.filename):
            errors["solution_file"] = [NO_FILENAME]
        elif not upload.size:
            errors["solution_file"] = [EMPTY_FILE]
    link = _optional_text(data, "solution_link", errors)
    comments = _optional_text(data, "comments", errors)
    if errors:
        raise field_errors(errors)
    assert task_id is not None and upload is not None and upload.filename
    if upload.size is not None and upload.size > max_upload_bytes:
        raise ApiError(
            413,
            "PAYLOAD_TOO_LARGE",
            TOO_LARGE.format(limit=max_upload_bytes),
            limit=max_upload_bytes,
        )
    filename = safe_filename(upload.filename)
    content_type = (
        upload.content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    )
    return Solution(
        task_id=task_id,
        upload=Upload(filename, upload.file, content_type),
        solution_link=link,
        comments=comments,
    )
