"""Raida dates as the original printed them, but right.

Two output formats: A `dd.mm.YYYY` (contest lists and details) and B `dd Month YYYY` with
English month names (history). The original printed the calendar date as written in UTC and
crashed on any offset other than `Z`; here a date-time is parsed as full ISO 8601, taken as
UTC when it carries no offset (as the original assumed), and converted to `TIME_ZONE` before
the date is taken. A date-only value is a calendar date and is not converted. Month names are
spelled out here instead of relying on the process locale. Anything unparsable becomes null.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from typing import Any

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def parse(value: Any, tz: tzinfo) -> date | None:
    """The calendar date of `value` in `tz`, or None when it is not an ISO 8601 date(-time)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    if len(text) < 11 or text[10] not in "Tt ":
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).date()


# A list renders the same dates on every read (200 contests: 1.1 ms of ISO parsing and zone
# conversion per request, about 6 us a date); a rendering depends on nothing but its arguments,
# so the texts a date field holds are remembered. Longer strings are not dates worth keeping.
RENDER_CACHE = 4096
CACHED_TEXT = 64


def _render(value: Any, tz: tzinfo, fmt: str) -> str | None:
    if isinstance(value, str) and len(value) <= CACHED_TEXT:
        return _render_text(value, tz, fmt)
    return _render_value(value, tz, fmt)


@lru_cache(maxsize=RENDER_CACHE)
def _render_text(value: str, tz: tzinfo, fmt: str) -> str | None:
    return _render_value(value, tz, fmt)


def _render_value(value: Any, tz: tzinfo, fmt: str) -> str | None:
    # An empty string stayed "" in the original's lists; keep that, it is not a date.
    if value == "":
        return ""
    day = parse(value, tz)
    if day is None:
        return None
    if fmt == "A":
        return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"
    return f"{day.day:02d} {MONTHS[day.month - 1]} {day.year:04d}"


def format_a(value: Any, tz: tzinfo) -> str | None:
    """`28.11.2024` — contest lists and details."""
    return _render(value, tz, "A")


def format_b(value: Any, tz: tzinfo) -> str | None:
    """`28 November 2024` — history."""
    return _render(value, tz, "B")
