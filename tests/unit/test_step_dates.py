"""Raida dates in the two output formats, converted to TIME_ZONE when they carry a time."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from step_platform.contests.dates import format_a, format_b

MOSCOW = ZoneInfo("Europe/Moscow")
UTC = ZoneInfo("UTC")


def test_format_a_is_day_month_year_with_dots() -> None:
    assert format_a("2024-11-28T00:00:00.000Z", UTC) == "28.11.2024"


def test_format_b_spells_the_month_in_english() -> None:
    assert format_b("2024-11-06T10:00:00Z", MOSCOW) == "06 November 2024"


@pytest.mark.parametrize(
    ("month", "name"),
    [(1, "January"), (5, "May"), (9, "September"), (12, "December")],
)
def test_every_month_name_is_english_whatever_the_locale(month: int, name: str) -> None:
    assert format_b(f"2024-{month:02d}-15", MOSCOW) == f"15 {name} 2024"


def test_a_utc_time_late_in_the_day_is_the_next_day_in_moscow() -> None:
    assert format_a("2024-11-28T22:30:00Z", MOSCOW) == "29.11.2024"
    assert format_a("2024-11-28T22:30:00Z", UTC) == "28.11.2024"


def test_a_date_only_value_is_not_converted() -> None:
    assert format_a("2024-11-28", ZoneInfo("America/New_York")) == "28.11.2024"


def test_an_offset_other_than_z_is_honoured() -> None:
    assert format_a("2024-11-29T01:00:00+03:00", UTC) == "28.11.2024"


def test_a_time_without_offset_is_taken_as_utc() -> None:
    assert format_a("2024-11-28T22:30:00", MOSCOW) == "29.11.2024"


@pytest.mark.parametrize(
    "value",
    [
        "2024-11-28 22:30:00.123456Z",
        "2024-11-28T22:30:00.1Z",
    ],
)
def test_fractions_and_a_space_separator_are_accepted(value: str) -> None:
    assert format_a(value, UTC) == "28.11.2024"


@pytest.mark.parametrize("value", ["tomorrow", "28.11.2024", "2024-13-01", "2024-11-28X10", 42, []])
def test_unparsable_values_become_null(value: object) -> None:
    assert format_a(value, UTC) is None
    assert format_b(value, UTC) is None


def test_null_stays_null_and_empty_stays_empty() -> None:
    assert format_a(None, UTC) is None
    assert format_a("", UTC) == ""


def test_a_remembered_text_is_rendered_per_zone_and_format() -> None:
    # Rendered texts are cached: the zone and the format are part of what is remembered.
    late = "2024-11-28T22:30:00Z"
    assert format_a(late, UTC) == "28.11.2024"
    assert format_a(late, MOSCOW) == "29.11.2024"
    assert format_b(late, UTC) == "28 November 2024"
    assert format_a(late, UTC) == "28.11.2024"


def test_a_text_longer_than_the_cached_ones_is_still_rendered() -> None:
    padded = "2024-11-28T22:30:00Z".rjust(100)
    assert format_a(padded, MOSCOW) == "29.11.2024"
