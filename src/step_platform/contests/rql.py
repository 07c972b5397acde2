"""The one place RQL (Raida's query language) is written.

The original formatted client input straight into query strings (route 4's `?status=` and the
JWT's user id), so a quote in a value rewrote the query. Here a query is built only from
conditions whose field is one of a fixed set and whose values are UUIDs, validated and
rendered canonical, then quoted; an IN list is rendered explicitly (never a Python tuple repr).
Spacing and keywords match what the original emitted, so Raida sees the same language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..core.ids import canonical_uuid

_FIELD = re.compile(r"^(process\.id|status\.id|status\.name|cf_[a-z0-9_]+)$")


class RqlValueError(ValueError):
    """A value offered to the builder is not what the condition allows."""


def quote(text: str) -> str:
    """A single-quoted RQL string; backslash and quote escaped with a backslash."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def uuid_value(value: object) -> str:
    """The canonical lowercase form of a UUID, or RqlValueError: only ids reach a query."""
    # braces, urn: and hex-only forms are refused: one id, one spelling in a query
    text = canonical_uuid(value, hyphenated=True)
    if text is None:
        raise RqlValueError(f"not a hyphenated UUID: {value!r}")
    return text


def _field(name: str) -> str:
    if not _FIELD.match(name):
        raise RqlValueError(f"not a queryable field: {name!r}")
    return name


@dataclass(frozen=True)
class Condition:
    text: str


def eq(field: str, value: object) -> Condition:
    return Condition(f"{_field(field)} = {quote(uuid_value(value))}")


def ne(field: str, value: object) -> Condition:
    return Condition(f"{_field(field)} != {quote(uuid_value(value))}")


def one_of(field: str, values: Iterable[object]) -> Condition:
    """`field IN ('a', 'b')`; a single value is written as `=` (as the original did)."""
    items = list(dict.fromkeys(uuid_value(v) for v in values))
    if not items:
        raise RqlValueError("an IN list needs at least one value")
    if len(items) == 1:
        return Condition(f"{_field(field)} = {quote(items[0])}")
    return Condition(f"{_field(field)} IN ({', '.join(quote(v) for v in items)})")


def query(*conditions: Condition) -> str:
    if not conditions:
        raise RqlValueError("a query needs at least one condition")
    return " AND ".join(c.text for c in conditions)


# --- the queries step sends ----------------------------------------------------------------


def contests(contest_process: str, statuses: Iterable[str]) -> str:
    """Contests of the contest process in the given statuses (lists, my tasks, history)."""
    return query(eq("process.id", contest_process), one_of("status.id", statuses))


def user_tasks(
    task_process: str,
    user_id: str,
    *,
    contest_id: str | None = None,
    statuses: Iterable[str] | None = None,
    not_status: str | None = None,
) -> str:
    """A user's applications: for one contest (details, join) or all at once (my tasks, history).

    Fetching all of the user's applications in one query is what keeps the number of Raida
    calls flat however many contests there are.
    """
    conditions = [eq("process.id", task_process)]
    if contest_id is not None:
        conditions.append(eq("cf_konkurs_id", contest_id))
    conditions.append(eq("cf_userid", user_id))
    if statuses is not None:
        conditions.append(one_of("status.id", statuses))
    if not_status is not None:
        conditions.append(ne("status.id", not_status))
    return query(*conditions)


def contest_tasks(task_process: str, contest_id: str, statuses: Iterable[str]) -> str:
    """Applications of one contest in the given statuses (route 4)."""
    return query(
        eq("process.id", task_process),
        eq("cf_konkurs_id", contest_id),
        one_of("status.id", statuses),
    )
