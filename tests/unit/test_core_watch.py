"""Blocking-query parameters, the change signal and the blocking loop, without a network."""

from __future__ import annotations

import asyncio
import re

import pytest

from step_platform.core.changes import ChangeSignal
from step_platform.core.errors import ApiError
from step_platform.core.watch import (
    DEFAULT_WAIT,
    MAX_WAIT,
    WAIT_PATTERN,
    Indexed,
    Watch,
    block,
    parse_read_watch,
    parse_watch,
    wait_text,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, None),
        ({"index": "0"}, Watch(0, DEFAULT_WAIT)),
        ({"index": "12", "wait": "5"}, Watch(12, 5.0)),
        ({"index": "12", "wait": "1.5s"}, Watch(12, 1.5)),
        ({"index": "12", "wait": "250ms"}, Watch(12, 0.25)),
        ({"index": "12", "wait": "2m"}, Watch(12, 120.0)),
        ({"index": "12", "wait": "0s"}, Watch(12, 0.0)),
    ],
)
def test_watch_parameters_are_read(params, expected):
    assert parse_watch(params) == expected


def test_a_wait_without_index_is_a_plain_read():
    assert parse_watch({"wait": "5s"}) is None


@pytest.mark.parametrize("asked", [3, 7, 99])
async def test_an_index_other_than_the_reads_answers_at_once(asked):
    """Below: a change was missed; above (up to the latest or past it): not this read's."""
    reads = []

    async def read() -> int:
        reads.append(1)
        return 5

    found = await block(Watch(asked, 5.0), ChangeSignal(), None, read, lambda _: Indexed(5, 9))
    assert found == 5 and reads == [1]


def test_a_huge_wait_is_capped():
    assert parse_watch({"index": "1", "wait": "999999s"}) == Watch(1, MAX_WAIT)
    assert parse_watch({"index": "1", "wait": "100000m"}) == Watch(1, MAX_WAIT)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"index": "-1"}, "index"),
        ({"index": "abc"}, "index"),
        ({"index": "1.5"}, "index"),
        ({"index": str(2**63)}, "index"),
        ({"index": "١"}, "index"),  # a non-ASCII digit
        ({"index": "1", "wait": "-5s"}, "wait"),
        ({"index": "1", "wait": "soon"}, "wait"),
        ({"index": "1", "wait": "5h"}, "wait"),
        ({"index": "1", "wait": " 5s"}, "wait"),
        ({"index": "1", "wait": "5s\n"}, "wait"),
        ({"index": "1", "wait": "١s"}, "wait"),  # a non-ASCII digit
        ({"index": " 1"}, "index"),
        ({"wait": "soon"}, "wait"),
    ],
)
def test_nonsense_is_a_400_naming_the_parameter(params, field):
    with pytest.raises(ApiError) as caught:
        parse_watch(params)
    assert (caught.value.status, caught.value.code) == (400, "INVALID_QUERY")
    assert list(caught.value.extra["fields"]) == [field]


def test_a_wait_without_an_index_is_a_plain_read():
    assert parse_watch({"wait": "5s"}) is None


def test_index_zero_on_a_read_is_a_plain_read():
    assert parse_read_watch({"index": "0", "wait": "30s"}) is None
    assert parse_read_watch({"index": "1", "wait": "30s"}) == Watch(1, 30.0)


def test_index_zero_on_a_feed_still_blocks_from_the_start():
    assert parse_watch({"index": "0", "wait": "30s"}) == Watch(0, 30.0)


def test_messages_follow_the_service_language():
    with pytest.raises(ApiError) as caught:
        parse_watch({"index": "x"}, "ru")
    assert caught.value.message == "Некорректные параметры запроса."


async def test_a_ticket_wakes_on_its_project_and_on_nothing_else():
    signal = ChangeSignal()
    mine, anything = signal.ticket({"p"}), signal.ticket(None)
    signal.notify({"q"}, 3)
    assert not mine.event.is_set() and anything.event.is_set()
    signal.notify({"p"}, 4)
    assert mine.event.is_set()
    assert signal.index == 4
    assert signal.waiting() == 0


async def test_a_released_ticket_leaves_nothing_behind():
    signal = ChangeSignal()
    ticket = signal.ticket({"p", "q"})
    assert signal.waiting() == 2
    assert await signal.wait(ticket, 0.01) is False
    signal.release(ticket)
    assert signal.waiting() == 0


async def test_listeners_hear_projects_and_resets():
    heard = []
    signal = ChangeSignal()
    signal.add_listener(heard.append)
    signal.notify({"p"})
    signal.notify_all()
    assert heard == [frozenset({"p"}), None]


async def test_a_reset_wakes_every_ticket_and_keeps_the_highest_index():
    signal = ChangeSignal()
    tickets = [signal.ticket({"p"}), signal.ticket(None)]
    signal.notify({"q"}, 7)
    signal.notify_all(5)
    assert all(t.event.is_set() for t in tickets) and signal.waiting() == 0
    assert signal.index == 7
    signal.notify_all(9)
    assert signal.index == 9


async def test_block_reads_again_after_a_change_until_the_index_passes():
    signal = ChangeSignal()
    state = {"index": 5}
    reads = []

    async def read() -> int:
        reads.append(state["index"])
        return state["index"]

    async def writes() -> None:
        await asyncio.sleep(0.05)
        signal.notify({"other"})  # not ours: no read
        await asyncio.sleep(0.05)
        signal.notify({"p"})  # ours, but nothing new yet: read again, keep waiting
        await asyncio.sleep(0.05)
        state["index"] = 6
        signal.notify({"p"})

    task = asyncio.create_task(writes())
    found = await block(Watch(5, 5.0), signal, {"p"}, read, lambda i: Indexed(i, i))
    await task
    assert found == 6
    assert reads == [5, 5, 6]


async def test_block_answers_a_future_index_at_once():
    signal = ChangeSignal()

    async def read() -> int:
        return 5

    found = await block(Watch(99, 5.0), signal, {"p"}, read, lambda i: Indexed(i, i))
    assert found == 5


async def test_block_answers_at_once_an_index_this_read_never_had():
    """The set's index is 3, the registry is at 10: a client asking with 7 did not get 7 from
    this read (a made-up or foreign index), so it gets the read at once and starts again."""
    signal = ChangeSignal()

    async def read() -> int:
        return 3

    watch = block(Watch(7, 60.0), signal, {"p"}, read, lambda i: Indexed(i, 10))
    assert await asyncio.wait_for(watch, 1.0) == 3


@pytest.mark.parametrize("seconds", [0.0026000000000000003, 1e-9, 0.0, 300.0, 29.9999999])
def test_a_wait_passed_on_is_one_the_pattern_takes(seconds):
    text = wait_text(seconds)
    assert re.fullmatch(WAIT_PATTERN, text)
    assert parse_watch({"index": "1", "wait": text}).wait == pytest.approx(seconds, abs=1e-6)
