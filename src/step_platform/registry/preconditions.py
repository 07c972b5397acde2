"""`If-Match` on the writes of a single record: optimistic concurrency for read-then-write clients.

A record's ETag is its `modified_date` as the body renders it, in double quotes
(`"2026-05-01T10:00:00.123456+00:00"`, `render.etag`). It is strong, it changes on every write
(every write moves `modified_date` forward by at least a microsecond), and a client holding a
row from a list holds its tag too, so a conditional write costs no extra read.

Accepted values: `*` (any version: the write is unconditional, as without the header) or one
strong tag this registry issued. A weak tag (`W/"…"`, never equal under If-Match's strong
comparison), a list of tags, or text that is not one of our tags is 400 — a client sending
one has a bug, and a silent 412 would hide it. The engine checks the version in the UPDATE's
own WHERE clause, so check and write are one statement: a mismatch writes nothing (412).
"""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request

from ..core.errors import ApiError
from .render import etag

HEADER = "If-Match"
NOT_QUOTED = 'Expected one entity tag in double quotes (as the ETag header gave it), or "*".'
WEAK = "Weak entity tags never match: If-Match compares entity tags strongly."
FOREIGN = "Not an entity tag of this registry."
NOT_HERE = "If-Match applies to the writes of a single record (/api/<kind>/<id>/)."


def invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_HEADER", f"Invalid {HEADER} header.", fields={HEADER: [message]})


def if_match(request: Request) -> dt.datetime | None:
    """The `modified_date` the record must still have, or None to write unconditionally."""
    values = request.headers.getlist(HEADER)
    if not values:
        return None
    if len(values) > 1:
        raise invalid(NOT_QUOTED)
    value = values[0].strip()
    if value == "*":
        return None
    if value.startswith("W/"):
        raise invalid(WEAK)
    if len(value) < 2 or value[0] != '"' or value[-1] != '"' or '"' in value[1:-1]:
        raise invalid(NOT_QUOTED)
    try:
        version = dt.datetime.fromisoformat(value[1:-1])
    except ValueError:
        raise invalid(FOREIGN) from None
    # only the exact spelling we issue: a tag names one version, byte for byte
    if version.tzinfo is None or etag(version) != value:
        raise invalid(FOREIGN)
    return version


def refuse_if_match(request: Request) -> None:
    """Bulk writes change many records and have no one tag: a condition would be ignored."""
    if HEADER.lower() in request.headers:
        raise invalid(NOT_HERE)
