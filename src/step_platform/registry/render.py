"""Rows to JSON text, in the kind's response field order.

JSONB arrives from Postgres as text and is spliced in unchanged, so a list of thousands of
rows is rendered without parsing and re-serialising every `meta` and `data`. Timestamps are
ISO 8601 in UTC with microseconds; floats always carry a fraction (`0.0`), as the original.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any, TypeAlias

import asyncpg
from starlette.responses import Response

from .kinds import ColumnType, Kind

# a row as asyncpg returns it, or any mapping of its columns (tests, rollbacks)
Row: TypeAlias = asyncpg.Record | Mapping[str, Any]


# `json.dumps(value, ensure_ascii=False)` builds an encoder per call; one, kept, encodes a
# string in C
_encode = json.JSONEncoder(ensure_ascii=False).encode


def _uuid(value: Any) -> str:
    return f'"{value}"'


def _text(value: Any) -> str:
    return _encode(value)


def _float(value: Any) -> str:
    return repr(float(value))


def _int(value: Any) -> str:
    return str(int(value))


def _timestamp(value: dt.datetime) -> str:
    if value.tzinfo is not dt.UTC:  # asyncpg's timestamptz values are UTC already
        value = value.astimezone(dt.UTC)
    return f'"{value.isoformat(timespec="microseconds")}"'


def _json(value: Any) -> str:
    return value if isinstance(value, str) else _encode(value)


ENCODERS: dict[ColumnType, Callable[[Any], str]] = {
    "uuid": _uuid,
    "text": _text,
    "float": _float,
    "int": _int,
    "timestamp": _timestamp,
    "json": _json,
}


Plan: TypeAlias = tuple[tuple[str, str, Callable[[Any], str]], ...]


@lru_cache(maxsize=8)
def _plan(kind: Kind) -> Plan:
    return tuple((c.name, json.dumps(c.name) + ":", ENCODERS[c.type]) for c in kind.columns)


def _row(plan: Plan, record: Row) -> str:
    parts = [
        key + ("null" if (value := record[name]) is None else encode(value))
        for name, key, encode in plan
    ]
    return "{" + ",".join(parts) + "}"


def row(kind: Kind, record: Row) -> str:
    return _row(_plan(kind), record)


def rows(kind: Kind, records: Iterable[Row]) -> str:
    plan = _plan(kind)  # once: a kind's hash covers all its columns
    return "[" + ",".join([_row(plan, r) for r in records]) + "]"


def etag(modified_date: dt.datetime) -> str:
    """A record's strong entity tag: its `modified_date` exactly as the body shows it, quoted.

    So a client holding a row from any read (a list too) holds its tag. Every write moves
    `modified_date` forward (engine), so the tag changes on every write.
    """
    return _timestamp(modified_date)


class RawJSON(Response):
    """A response whose body is JSON text rendered already."""

    media_type = "application/json"

    def __init__(
        self, text: str, status_code: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(text.encode(), status_code=status_code, headers=headers)
