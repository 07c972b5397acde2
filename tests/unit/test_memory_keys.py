"""The in-process idempotency store of configs and step."""

from __future__ import annotations

import asyncio

import pytest

from step_platform.core.idempotency import Answer, KeyReused, MemoryKeys

pytestmark = pytest.mark.anyio

ANSWER = Answer(201, [(b"content-type", b"application/json")], b"{}")


async def test_a_saved_answer_is_found_again() -> None:
    keys = MemoryKeys()
    async with keys.slot("k", "f") as slot:
        assert slot.answer is None
        slot.save(ANSWER)
    async with keys.slot("k", "f") as slot:
        assert slot.answer == ANSWER


async def test_nothing_saved_leaves_the_key_free() -> None:
    keys = MemoryKeys()
    async with keys.slot("k", "f"):
        pass
    async with keys.slot("k", "other") as slot:
        assert slot.answer is None


async def test_another_fingerprint_is_refused() -> None:
    keys = MemoryKeys()
    async with keys.slot("k", "f") as slot:
        slot.save(ANSWER)
    with pytest.raises(KeyReused):
        async with keys.slot("k", "g"):
            pass


async def test_a_concurrent_repeat_waits_for_the_first_and_replays() -> None:
    keys = MemoryKeys()
    order: list[str] = []

    async def first() -> None:
        async with keys.slot("k", "f") as slot:
            await asyncio.sleep(0.05)
            order.append("first saved")
            slot.save(ANSWER)

    async def second() -> None:
        await asyncio.sleep(0.01)
        async with keys.slot("k", "f") as slot:
            order.append("second replays" if slot.answer == ANSWER else "second ran")

    await asyncio.gather(first(), second())
    assert order == ["first saved", "second replays"]
    assert keys._locks == {}  # no lock outlives its requests


async def test_expired_answers_are_forgotten() -> None:
    keys = MemoryKeys(ttl=0.0)
    async with keys.slot("k", "f") as slot:
        slot.save(ANSWER)
    await asyncio.sleep(0.001)
    async with keys.slot("k", "g") as slot:
        assert slot.answer is None


async def test_the_oldest_answers_go_first_past_the_capacity() -> None:
    keys = MemoryKeys(capacity=2)
    for key in ("a", "b", "c"):
        async with keys.slot(key, "f") as slot:
            slot.save(ANSWER)
    async with keys.slot("a", "other") as slot:
        assert slot.answer is None
