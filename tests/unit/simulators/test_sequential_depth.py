"""raida-mock's `sequential_depth`: how many calls a client waited for one after another."""

from __future__ import annotations

from typing import Any

from raida_mock.traffic import sequential_depth


def call(start_ms: int, end_ms: int) -> dict[str, Any]:
    def stamp(ms: int) -> str:
        return f"2026-01-01T00:00:{ms // 1000:02d}.{ms % 1000:03d}000Z"

    return {"at": stamp(start_ms), "answered_at": stamp(end_ms)}


def test_no_calls_is_depth_zero() -> None:
    assert sequential_depth([]) == 0


def test_calls_one_after_another_add_up() -> None:
    assert sequential_depth([call(0, 10), call(11, 20), call(21, 30)]) == 3


def test_overlapping_calls_count_once() -> None:
    assert sequential_depth([call(0, 10), call(1, 11), call(12, 20)]) == 2


def test_the_longest_chain_counts_not_the_number_of_calls() -> None:
    # a and b concurrently, then c after both; d alone alongside all of them
    calls = [call(0, 10), call(0, 12), call(13, 20), call(0, 25)]
    assert sequential_depth(calls) == 2


def test_the_order_of_the_entries_does_not_matter() -> None:
    assert sequential_depth([call(21, 30), call(0, 10), call(11, 20)]) == 3
