"""Request input of the configs service: type names, request bodies, their field errors.

Everything is checked before the registry is called, and every problem is a 400 BAD_REQUEST
whose `message` is a sentence and whose `detail.fields` maps each field to its messages (the
original put the field map itself into `message`). Field messages are the framework's English
ones the original answered with, so clients matching on them keep working.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from ..core.bodies import JsonBodies, media_type
from ..core.errors import MESSAGES, ApiError
from ..core.headers import Context
from ..core.ids import canonical_uuid

TYPE_NAME = re.compile(r"[A-Za-z0-9_]+")
# object_code is `{project}:{account or empty}:{type}`, at most 254 characters in the registry:
# with two UUIDs and two colons, 180 are left for the type name.
MAX_TYPE_LENGTH = 254 - 2 * 36 - 2
# kept for the service itself: consumer registrations and the `/configs/_…` routes
RESERVED_TYPES = frozenset({"_consumer", "_consumers", "_validate"})
RESERVED = "This config type name is reserved."

REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
NOT_BLANK = "This field may not be blank."
BAD_UUID = "Must be a valid UUID."
NOT_STRING = "Not a valid string."
BAD_TYPE_NAME = "Only latin letters, digits and underscores are allowed."
TOO_LONG = f"Ensure this field has no more than {MAX_TYPE_LENGTH} characters."
NOT_OBJECT = "Invalid data. Expected a dictionary, but got {kind}."
BAD_JSON = "Value must be valid JSON."
OTHER_PROJECT = "Does not match the Project-ID header."
OTHER_ACCOUNT = "Does not match the Account-ID header."
MSG_OUTSIDE_CONTEXT = "Конфиг можно создать только в проекте (и аккаунте) из заголовков запроса."

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_LIMIT = 1000  # of a history page
MAX_OFFSET = 2**62


def invalid(fields: dict[str, list[str]]) -> ApiError:
    return ApiError(400, "BAD_REQUEST", MESSAGES["ru"]["BAD_REQUEST"], fields=fields)


def parse_types(raw: str) -> tuple[str, ...]:
    """`a,b,c` from the path; each name `[A-Za-z0-9_]+`, duplicates folded, order kept.

    The original spliced this value into the registry's query string unescaped, so `&`, `=`
    or `#` rewrote the query; here only plain names reach the registry.
    """
    names = raw.split(",")
    bad = [n for n in names if not TYPE_NAME.fullmatch(n) or len(n) > MAX_TYPE_LENGTH]
    if bad:
        raise invalid({"config_type": [f"{BAD_TYPE_NAME} Got: {', '.join(map(repr, bad))}."]})
    reserved = [n for n in names if n in RESERVED_TYPES]
    if reserved:
        raise invalid({"config_type": [f"{RESERVED} Got: {', '.join(map(repr, reserved))}."]})
    return tuple(dict.fromkeys(names))


def parse_type(raw: str) -> str:
    """Exactly one type name (the write routes address one config)."""
    names = parse_types(raw)
    if len(names) != 1 or "," in raw:
        raise invalid({"config_type": ["Exactly one config type is expected here."]})
    return names[0]


BODIES = JsonBodies(
    language="ru",
    parse_code="BAD_REQUEST",
    unsupported='Неподдерживаемый тип данных "{media}" в запросе.',
)


async def read_body(request: Request) -> Any:
    """The parsed body: JSON (also without a content type), or a form as the original allowed.

    In a form the `data` field holds JSON text, as DRF's JSONField reads it from HTML input;
    it is parsed within the same caps as a JSON body.
    """
    if media_type(request) in FORM_TYPES:
        async with request.form(max_files=0, max_fields=100) as form:
            body: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
        if "data" in body:
            try:
                body["data"] = BODIES.parse(body["data"])
            except ApiError as exc:
                if exc.code == "LIMIT_EXCEEDED":
                    raise
                raise invalid({"data": [BAD_JSON]}) from None
        return body
    return await BODIES.read(request)


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        kind = "list" if isinstance(body, list) else type(body).__name__
        raise invalid({"non_field_errors": [NOT_OBJECT.format(kind=kind)]})
    return body


def _uuid(body: dict[str, Any], name: str, fields: dict[str, list[str]]) -> str | None:
    value = body.get(name)
    if value is None:
        fields[name] = [NOT_NULL]
        return None
    canonical = canonical_uuid(value.strip() if isinstance(value, str) else value)
    if canonical is None:
        fields[name] = [BAD_UUID]
    return canonical


def _type_name(body: dict[str, Any], fields: dict[str, list[str]]) -> str | None:
    value = body.get("object_type")
    if "object_type" not in body:
        fields["object_type"] = [REQUIRED]
    elif value is None:
        fields["object_type"] = [NOT_NULL]
    elif not isinstance(value, str):
        fields["object_type"] = [NOT_STRING]
    elif not value.strip():
        fields["object_type"] = [NOT_BLANK]
    elif len(value.strip()) > MAX_TYPE_LENGTH:
        fields["object_type"] = [TOO_LONG]
    elif not TYPE_NAME.fullmatch(value.strip()):
        fields["object_type"] = [BAD_TYPE_NAME]
    elif value.strip() in RESERVED_TYPES:
        fields["object_type"] = [RESERVED]
    else:
        return value.strip()
    return None


def _data(body: dict[str, Any], fields: dict[str, list[str]]) -> Any:
    if "data" not in body:
        fields["data"] = [REQUIRED]
    elif body["data"] is None:
        fields["data"] = [NOT_NULL]
    return body.get("data")


@dataclass(frozen=True)
class NewConfig:
    """A validated POST body; `project_id`/`account_id` canonical, they decide the level."""

    project_id: str
    account_id: str | None
    object_type: str
    data: Any


def parse_create(body: Any, context: Context) -> NewConfig:
    """POST body as the original (unknown fields ignored); ids must match the headers.

    A malformed body is 400; a well-formed one naming another project (or, with Account-ID,
    another account) than the headers is 403: the request may write only in its context.
    """
    body = _object(body)
    fields: dict[str, list[str]] = {}
    project_id = account_id = None
    if "project_id" not in body:
        fields["project_id"] = [REQUIRED]
    else:
        project_id = _uuid(body, "project_id", fields)
    if "account_id" in body:
        account_id = _uuid(body, "account_id", fields)
    object_type = _type_name(body, fields)
    data = _data(body, fields)
    if fields:
        raise invalid(fields)
    if project_id != context.project_id:
        fields["project_id"] = [OTHER_PROJECT]
    if account_id is not None and context.account_id and account_id != context.account_id:
        fields["account_id"] = [OTHER_ACCOUNT]
    if fields:  # well-formed, but outside the request's context
        raise ApiError(403, "FORBIDDEN", MSG_OUTSIDE_CONTEXT, fields=fields)
    assert project_id is not None and object_type is not None
    return NewConfig(project_id, account_id, object_type, data)


def parse_data(body: Any) -> Any:
    """PUT/PATCH body `{"data": ...}` (other keys ignored); `data` required, not null."""
    body = _object(body)
    fields: dict[str, list[str]] = {}
    data = _data(body, fields)
    if fields:
        raise invalid(fields)
    return data


def _whole(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def parse_rollback(body: Any) -> int:
    """Rollback body `{"index": N}`: the revision (from the history) to restore."""
    body = _object(body)
    if "index" not in body:
        raise invalid({"index": [REQUIRED]})
    index: int = body["index"]
    if isinstance(index, str) or _whole(index, 1, 2**63 - 1) is None:
        raise invalid({"index": ["A revision index from the history is expected (1 or more)."]})
    return index


def parse_page(query: Mapping[str, str], max_limit: int = MAX_LIMIT) -> tuple[int, int]:
    """`limit` (1 to max_limit, default 100) and `offset` (0 or more) of a history page."""
    fields: dict[str, list[str]] = {}
    limit = _whole(query.get("limit", "100"), 1, max_limit)
    if limit is None:
        fields["limit"] = [f"Enter a whole number between 1 and {max_limit}."]
    offset = _whole(query.get("offset", "0"), 0, MAX_OFFSET)
    if offset is None:
        fields["offset"] = ["Enter a whole number greater than or equal to 0."]
    if fields:
        raise invalid(fields)
    assert limit is not None and offset is not None
    return limit, offset
