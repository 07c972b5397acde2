"""`If-Match` on the writes of a single record: optimistic concurrency for read-then-write clients.

A record's ETag is its `modified_date` as the body renders it, in double quotes
(`"2026-05-01T10:00:00.123456+00:00"`, `render.etag`). It is strong, it changes on every write
(every write moves `modified_date` forward by at least a microsecond), and a client holding a
row from a list holds its tag too, so a conditional write costs no extra read.

Accepted values are RFC 9110's grammar: `*` (any version: the write is unconditional, as
without the header) or a comma list of entity tags, strong (`"…"`) or weak (`W/"…"`). The
write happens when one listed tag equals the record's current one by strong comparison: a weak
tag never does, nor does a well-formed tag this registry never issued — they are 412 on an
existing record (404 on a missing one, as without the header). Text outside the grammar
(empty, unquoted) is 400. The engine checks the version in the UPDATE's own WHERE clause, so
check and write are one statement: a mismatch writes nothing (412).
"""

from __future__ import annotations

import datetime as dt
import re

from starlette.requests import Request

from ..core.errors import ApiError
from .render import etag

HEADER = "If-Match"
# RFC 9110: If-Match = "*" / #entity-tag; entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc
# being the visible ASCII but the double quote (obs-text left out: never in our tags)
ENTITY_TAG = r'(?:W/)?"[\x21\x23-\x7e]*"'
TAG_LIST = rf"{ENTITY_TAG}(?:[ \t]*,[ \t]*{ENTITY_TAG})*"
GRAMMAR = rf"^[ \t]*(?:\*|{TAG_LIST})[ \t]*$"
_GRAMMAR = re.compile(GRAMMAR)
_TAG = re.compile(ENTITY_TAG)
NOT_A_TAG_LIST = '"*" or a comma-separated list of entity tags in double quotes (W/ for weak).'
NOT_HERE = "If-Match applies to the writes of a single record (/api/<kind>/<id>/)."
# A version no record has (every modified_date is a write's time): a condition that never holds
NEVER = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


def invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_HEADER", f"Invalid {HEADER} header.", fields={HEADER: [message]})


def _ours(tag: str) -> dt.datetime | None:
    """The version a strong tag names, when it is spelled exactly as this registry issues."""
    try:
        version = dt.datetime.fromisoformat(tag[1:-1])
    except ValueError:
        return None
    if version.tzinfo is None or etag(version) != tag:
        return None
    return version


def if_match(request: Request) -> tuple[dt.datetime, ...] | None:
    """The versions the record may have for the write to happen (none: it cannot happen), or
    None to write unconditionally (no header, `*`)."""
    values = request.headers.getlist(HEADER)
    if not values:
        return None
    value = ",".join(values)  # repeated field lines are one list
    if not _GRAMMAR.fullmatch(value):
        raise invalid(NOT_A_TAG_LIST)
    if value.strip() == "*":
        return None
    versions = (_ours(tag) for tag in _TAG.findall(value) if not tag.startswith("W/"))
    return tuple(dict.fromkeys(v for v in versions if v is not None))


def one_version(
    candidates: tuple[dt.datetime, ...] | None, current: dt.datetime | None
) -> dt.datetime | None:
    """The single version the write's WHERE clause checks: the current one when it is listed,
    else one that never matches (so an existing record is 412, a missing one 404)."""
    if candidates is None:
        return None
    if len(candidates) == 1:
        return candidates[0]
    return current if current in candidates else NEVER


def refuse_if_match(request: Request) -> None:
    """Bulk writes change many records and have no one tag: a condition would be ignored."""
    if HEADER.lower() in request.headers:
        raise invalid(NOT_HERE)
