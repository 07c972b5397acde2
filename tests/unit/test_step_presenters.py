"""Raida task objects -> response items: total mappings, the in-memory join, the race winner."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from step_platform.contests.joining import oldest
from step_platform.contests.presenters import (
    contest_details,
    contest_item,
    first_attachment,
    first_by_contest,
    with_application,
)

UTC = ZoneInfo("UTC")
COMPLETED = "b9d7d6d4-e22e-4aa1-bf2d-35cdfcb94a2d"
CONTEST = "e2ccc043-2558-4bd1-872e-4df6cf7b5256"


def test_a_null_custom_fields_object_gives_nulls() -> None:
    item = contest_item({"id": "x", "custom_fields": None, "status": None}, UTC)
    assert item["status_id"] is None
    assert item["deadline"] is None
    assert item["konkurs_category"] is None


def test_details_of_an_empty_task_never_fail() -> None:
    data = contest_details({}, None, COMPLETED, UTC)
    assert data["id"] is None
    assert data["attachments"] is None
    assert data["user_task_status"]["code"] == "TASK_DOES_NOT_EXIST"


def test_details_print_numbers_given_for_text_as_text() -> None:
    data = contest_details({"custom_fields": {"cf_award": 5000}}, None, COMPLETED, UTC)
    assert data["award"] == "5000"


def test_details_normalise_ids_to_lowercase() -> None:
    data = contest_details(
        {"id": CONTEST.upper(), "status": {"id": COMPLETED.upper(), "name": "x"}},
        None,
        COMPLETED,
        UTC,
    )
    assert (data["id"], data["status_id"]) == (CONTEST, COMPLETED)


def test_details_keep_only_id_and_name_of_attachments() -> None:
    data = contest_details(
        {"attachments": [{"id": "a", "name": "n", "url": "u", "content_type": "t"}, "junk"]},
        None,
        COMPLETED,
        UTC,
    )
    assert data["attachments"] == [{"id": "a", "name": "n"}]


def test_the_join_keeps_the_first_application_per_contest() -> None:
    tasks = [
        {"id": "1", "custom_fields": {"cf_konkurs_id": CONTEST.upper()}},
        {"id": "2", "custom_fields": {"cf_konkurs_id": CONTEST}},
        {"id": "3", "custom_fields": {}},
        {"id": "4"},
    ]
    assert first_by_contest(tasks) == {CONTEST: tasks[0]}


def test_contests_are_paired_with_their_first_application_in_the_contests_order() -> None:
    other = "0b6c1c4e-3f57-4a53-8f0e-2b1d8f8f6a01"
    contests = [{"id": other}, {"id": "no application"}, {"id": CONTEST.upper()}, {"x": 1}]
    tasks = [
        {"id": "1", "custom_fields": {"cf_konkurs_id": CONTEST}},
        {"id": "2", "custom_fields": {"cf_konkurs_id": other}},
        {"id": "3", "custom_fields": {"cf_konkurs_id": CONTEST}},
    ]
    assert with_application(contests, tasks) == [
        (contests[0], tasks[1]),
        (contests[2], tasks[0]),
    ]


def test_the_first_attachment_has_four_fields() -> None:
    assert first_attachment([{"id": "a", "name": "n", "extra": 1}]) == {
        "id": "a",
        "name": "n",
        "url": None,
        "content_type": None,
    }
    assert first_attachment([]) is None
    assert first_attachment(None) is None


def test_the_oldest_task_wins_a_race_then_raidas_order() -> None:
    a = {"id": "a", "created_at": "2024-11-10T10:00:00.500Z"}
    b = {"id": "b", "created_at": "2024-11-10T10:00:00.100Z"}
    c = {"id": "c", "created_at": "2024-11-10T10:00:00.100Z"}
    d = {"id": "d", "created_at": "not a date"}
    assert oldest([a, b, c, d]) is b
    assert oldest([d, a]) is a
    assert oldest([c, b]) is c
