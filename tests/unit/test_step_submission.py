"""The claim arithmetic of route 10 (contests/submission.py): what counts as a live claim and
what a view of the application says about ours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from step_platform.contests.submission import (
    CLAIM_PREFIX,
    MIN_CLAIM_LEASE,
    Claim,
    Verdict,
    attachment_ids,
    claim_lease,
    live_claims,
    verdict,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
OURS = Claim(CLAIM_PREFIX + "a" * 32, NOW)


def stamp(ago: timedelta) -> str:
    return Claim(CLAIM_PREFIX + "x", NOW - ago).value


def task(**fields: Any) -> dict[str, Any]:
    return {"id": "t", "custom_fields": fields}


def test_a_claim_is_a_prefixed_key_with_its_utc_time() -> None:
    claim = Claim.new(NOW)
    assert claim.key.startswith(CLAIM_PREFIX)
    assert len(claim.key) == len(CLAIM_PREFIX) + 32
    assert claim.value == "2025-03-01T12:00:00.000000Z"
    assert Claim.new(NOW).key != claim.key


def test_the_time_is_written_in_utc_whatever_the_clock_zone() -> None:
    moscow = NOW.astimezone(timezone(timedelta(hours=3)))
    assert Claim("k", moscow).value == "2025-03-01T12:00:00.000000Z"


def test_claims_younger_than_the_lease_are_live() -> None:
    view = task(
        **{
            CLAIM_PREFIX + "fresh": stamp(timedelta(seconds=1)),
            CLAIM_PREFIX + "almost": stamp(LEASE - timedelta(seconds=1)),
            CLAIM_PREFIX + "expired": stamp(LEASE),
            CLAIM_PREFIX + "future": stamp(-timedelta(minutes=1)),  # another instance's clock
        }
    )
    assert live_claims(view, now=NOW, lease=LEASE) == {
        CLAIM_PREFIX + "fresh",
        CLAIM_PREFIX + "almost",
        CLAIM_PREFIX + "future",
    }


@pytest.mark.parametrize("value", [None, "", "not a time", 42, {"at": "x"}])
def test_released_or_unreadable_claims_are_not_live(value: Any) -> None:
    assert live_claims(task(**{CLAIM_PREFIX + "k": value}), now=NOW, lease=LEASE) == set()


def test_a_time_without_offset_is_utc() -> None:
    naive = (NOW - timedelta(seconds=5)).replace(tzinfo=None).isoformat()
    assert live_claims(task(**{CLAIM_PREFIX + "k": naive}), now=NOW, lease=LEASE) == {
        CLAIM_PREFIX + "k"
    }


def test_other_custom_fields_are_not_claims() -> None:
    view = task(solution_link=stamp(timedelta(0)), cf_userid="u", solution_claim="x")
    assert live_claims(view, now=NOW, lease=LEASE) == set()
    assert live_claims({"id": "t"}, now=NOW, lease=LEASE) == set()
    assert live_claims({"custom_fields": None}, now=NOW, lease=LEASE) == set()


def test_ours_alone_is_held() -> None:
    view = task(**{OURS.key: OURS.value, CLAIM_PREFIX + "old": None})
    assert verdict(view, OURS, now=NOW, lease=LEASE) is Verdict.HELD


def test_ours_next_to_another_live_claim_is_lost() -> None:
    view = task(**{OURS.key: OURS.value, CLAIM_PREFIX + "b": stamp(timedelta(seconds=2))})
    assert verdict(view, OURS, now=NOW, lease=LEASE) is Verdict.LOST


def test_ours_next_to_an_expired_claim_is_held() -> None:
    view = task(**{OURS.key: OURS.value, CLAIM_PREFIX + "b": stamp(timedelta(hours=1))})
    assert verdict(view, OURS, now=NOW, lease=LEASE) is Verdict.HELD


@pytest.mark.parametrize(
    "view",
    [None, [], "task", task(), task(**{OURS.key: None}), task(**{CLAIM_PREFIX + "b": "x"})],
)
def test_a_view_without_our_live_claim_says_absent(view: Any) -> None:
    assert verdict(view, OURS, now=NOW, lease=LEASE) is Verdict.ABSENT


def test_the_lease_is_four_deadlines_but_never_under_five_minutes() -> None:
    assert claim_lease(12.0) == MIN_CLAIM_LEASE == timedelta(minutes=5)
    assert claim_lease(300.0) == timedelta(minutes=20)


def test_attachment_ids_come_from_the_task_object() -> None:
    listed = [{"id": "a"}, {"id": "b"}, {"name": "x"}, {"id": {"odd": 1}}, 3]
    assert attachment_ids({"attachments": listed}) == {
        "a",
        "b",
    }
    assert attachment_ids({"attachments": []}) == set()
    assert attachment_ids({"attachments": None}) is None
    assert attachment_ids({}) is None
    assert attachment_ids(None) is None
