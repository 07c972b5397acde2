"""Validation of request bodies: one item of a create, PUT or PATCH becomes a `WriteItem`.

Messages are the original's (Django REST Framework's) verbatim, keyed by field, so a client
that reads the original's field map reads ours. What the original did not validate — `meta`
shape and values, NUL characters and lone surrogates that Postgres cannot store, non-finite
numbers — is rejected here too, so nothing malformed reaches the database.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import ApiError
from ..core.ids import parse_uuid
from .kinds import Column, Kind

Errors = dict[str, list[str]]

REQUIRED = "This field is required."
NULL = "This field may not be null."
BLANK = "This field may not be blank."
INVALID_UUID = "Must be a valid UUID."
INVALID_STRING = "Not a valid string."
NUL_CHARS = "Null characters are not allowed."
INVALID_TEXT = "Text must be valid Unicode without null characters."
INVALID_NUMBER = "A valid number is required."
INVALID_INTEGER = "A valid integer is required."
UNIQUE = "This field must be unique."
ID_MISMATCH = "Does not match the id in the URL."
DUPLICATE_ID = "This id appears more than once in the request."
META_STATUSES = ("active", "inactive")


def not_a_dict(value: Any) -> str:
    return f"Invalid data. Expected a dictionary, but got {type(value).__name__}."


def not_a_list(value: Any) -> str:
    return f'Expected a list of items but got type "{type(value).__name__}".'


def expected_dict(value: Any) -> str:
    return f'Expected a dictionary of items but got type "{type(value).__name__}".'


class IdMismatch(ApiError):
    """A single write whose body names another record than its URL: a conflict between two
    addresses of the write, not a malformed field (409)."""

    def __init__(self) -> None:
        super().__init__(409, "ID_MISMATCH", ID_MISMATCH, fields={"id": [ID_MISMATCH]})


class Mode(enum.Enum):
    CREATE = "create"
    PUT = "put"
    PATCH = "patch"


class DataMode(enum.IntEnum):
    KEEP = 0
    REPLACE = 1
    MERGE = 2


@dataclass
class WriteItem:
    """A validated item: what to store. `values` holds only the columns being set."""

    id: uuid.UUID | None
    values: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)  # full meta (create) or a patch
    data_mode: DataMode = DataMode.KEEP
    data: Any = None
    if_version: dt.datetime | None = None  # If-Match: the modified_date the row must still have


# --- scalars --------------------------------------------------------------------------------

_BAD_TEXT = re.compile(r"[\x00\ud800-\udfff]")


def _text(column: Column, value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, str):  # a number is not text (the original turned it into text)
        return None, INVALID_STRING
    text = str(value).strip()
    if not text:
        return None, BLANK
    if "\x00" in text:
        return None, NUL_CHARS
    if _BAD_TEXT.search(text):
        return None, INVALID_TEXT
    if column.max_length is not None and len(text) > column.max_length:
        return None, f"Ensure this field has no more than {column.max_length} characters."
    return text, None


def _float(column: Column, value: Any) -> tuple[Any, str | None]:
    # a JSON number only: text is not a number (the original parsed "0.5")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, INVALID_NUMBER
    try:
        number = float(value)
    except OverflowError:
        return None, INVALID_NUMBER
    if not math.isfinite(number):
        return None, INVALID_NUMBER
    return number, _bounds(column, number, "{:.1f}")


def _int(column: Column, value: Any) -> tuple[Any, str | None]:
    if isinstance(value, bool):
        return None, INVALID_INTEGER
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    else:
        return None, INVALID_INTEGER
    return number, _bounds(column, number, "{}")


def _bounds(column: Column, number: float, fmt: str) -> str | None:
    if column.maximum is not None and number > column.maximum:
        return f"Ensure this value is less than or equal to {fmt.format(column.maximum)}."
    if column.minimum is not None and number < column.minimum:
        return f"Ensure this value is greater than or equal to {fmt.format(column.minimum)}."
    return None


def _uuid(column: Column, value: Any) -> tuple[Any, str | None]:
    parsed = parse_uuid(value)
    return (parsed, None) if parsed is not None else (None, INVALID_UUID)


_SCALARS = {"text": _text, "float": _float, "int": _int, "uuid": _uuid}


def json_problem(value: Any) -> str | None:
    """Why Postgres JSONB could not store `value` (a NUL or a lone surrogate), or None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _BAD_TEXT.search(item):
                return INVALID_TEXT
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


# --- items ----------------------------------------------------------------------------------


def _meta(raw: Any, mode: Mode, errors: Errors) -> dict[str, Any]:
    """Create: a full meta with defaults. Update: a patch merged into the stored meta.

    `internal_id` is the server's: a client's value is dropped on every write.
    """
    if raw is None:
        errors["meta"] = [NULL]
        return {}
    if not isinstance(raw, dict):
        errors["meta"] = [expected_dict(raw)]
        return {}
    meta = {k: v for k, v in raw.items() if k != "internal_id"}
    if "status" in meta and meta["status"] not in META_STATUSES:
        errors["meta.status"] = [f'"{meta["status"]}" is not a valid choice.']
    if "flags" in meta:
        flags = meta["flags"]
        if isinstance(flags, float) and math.isfinite(flags) and flags.is_integer():
            meta["flags"] = flags = int(flags)
        if isinstance(flags, bool) or not isinstance(flags, int):
            errors["meta.flags"] = [INVALID_INTEGER]
    problem = json_problem(meta)
    if problem:
        errors.setdefault("meta", []).append(problem)
    if mode is Mode.CREATE:
        meta = {"status": "active", "flags": 0, **meta}
    return meta


def _data(raw: Any, present: bool, mode: Mode, item: WriteItem, errors: Errors) -> None:
    if mode is Mode.PATCH:
        if not present or raw is None or raw == {}:
            return  # the original: PATCH with null or {} data leaves it unchanged
        if not isinstance(raw, dict):
            errors["data"] = [expected_dict(raw)]
            return
        item.data_mode, item.data = DataMode.MERGE, raw
    else:
        item.data_mode, item.data = DataMode.REPLACE, (raw if present else {})
    problem = json_problem(item.data)
    if problem:
        errors["data"] = [problem]


def validate_item(
    kind: Kind, body: Any, mode: Mode, *, url_id: uuid.UUID | None = None
) -> tuple[WriteItem | None, Errors]:
    """Validate one item. `url_id` is the id of a single PUT/PATCH route (body id optional)."""
    if not isinstance(body, dict):
        return None, {"non_field_errors": [not_a_dict(body)]}
    errors: Errors = {}
    item = WriteItem(id=None)
    item.id = _item_id(body, mode, url_id, errors)
    _columns(kind, body, mode, item, errors)
    if "meta" in body:
        item.meta = _meta(body["meta"], mode, errors)
    elif mode is Mode.CREATE:
        item.meta = {"status": "active", "flags": 0}
    _data(body.get("data"), "data" in body, mode, item, errors)
    return (None, errors) if errors else (item, {})


def _item_id(
    body: dict[str, Any], mode: Mode, url_id: uuid.UUID | None, errors: Errors
) -> uuid.UUID | None:
    """A create may name its id; a single write takes the URL's (a body id must equal it);
    a bulk update or patch must name each item's."""
    raw = body.get("id")
    if url_id is not None and mode is not Mode.CREATE:
        if "id" in body and parse_uuid(raw) != url_id:
            raise IdMismatch()
        return url_id
    if mode is not Mode.CREATE and "id" not in body:
        errors["id"] = [REQUIRED]
        return None
    if raw is None:
        if mode is not Mode.CREATE:
            errors["id"] = [NULL]
        return None
    parsed = parse_uuid(raw)
    if parsed is None:
        errors["id"] = [INVALID_UUID]
    return parsed


def _columns(kind: Kind, body: dict[str, Any], mode: Mode, item: WriteItem, errors: Errors) -> None:
    """The kind's writable columns: absent ones keep (PATCH) or take their default, `null`
    only where the column is nullable, every other value parsed by its column type."""
    for column in kind.writable:
        if column.name not in body:
            if mode is Mode.PATCH:
                continue
            if column.required:
                errors[column.name] = [REQUIRED]
            else:
                item.values[column.name] = column.default
            continue
        raw = body[column.name]
        if raw is None:
            if column.nullable:
                item.values[column.name] = None
            else:
                errors[column.name] = [NULL]
            continue
        value, error = _SCALARS[column.type](column, raw)
        if error:
            errors[column.name] = [error]
        else:
            item.values[column.name] = value


def validate_items(
    kind: Kind, body: Any, mode: Mode
) -> tuple[list[WriteItem], list[Errors] | None, Errors | None]:
    """A bulk body: (items, per-item errors in request order or None, body-level errors)."""
    if not isinstance(body, list):
        return [], None, {"non_field_errors": [not_a_list(body)]}
    items: list[WriteItem] = []
    all_errors: list[Errors] = []
    seen: set[uuid.UUID] = set()
    for raw in body:
        item, errors = validate_item(kind, raw, mode)
        item_id = item.id if item is not None else None
        if item_id is not None and mode is not Mode.CREATE:
            if item_id in seen:
                item, errors = None, {"id": [DUPLICATE_ID]}
            else:
                seen.add(item_id)
        all_errors.append(errors)
        if item is not None:
            items.append(item)
    if any(all_errors):
        return [], all_errors, None
    return items, None, None
