"""KeyedLock: holders of one key run one at a time, other keys are not held up, and a key's
lock is gone once nobody holds or awaits it."""

from __future__ import annotations

import asyncio

import pytest

from step_platform.core.locks import KeyedLock

pytestmark = pytest.mark.anyio


async def test_holders_of_one_key_run_one_at_a_time():
    locks = KeyedLock()
    inside: list[int] = []
    overlaps = 0

    async def work(n: int) -> None:
        nonlocal overlaps
        async with locks.hold("config"):
            overlaps += bool(inside)
            inside.append(n)
            await asyncio.sleep(0)
            inside.remove(n)

    await asyncio.gather(*(work(n) for n in range(10)))
    assert overlaps == 0


async def test_holders_enter_in_arrival_order():
    locks = KeyedLock()
    entered: list[int] = []

    async def work(n: int) -> None:
        async with locks.hold("config"):
            entered.append(n)
            await asyncio.sleep(0)

    await asyncio.gather(*(work(n) for n in range(5)))
    assert entered == [0, 1, 2, 3, 4]


async def test_other_keys_are_not_held_up():
    locks = KeyedLock()
    async with locks.hold("a"):
        await asyncio.wait_for(_enter(locks, "b"), timeout=5)


async def _enter(locks: KeyedLock, key: str) -> None:
    async with locks.hold(key):
        pass


async def test_a_key_is_forgotten_when_nobody_holds_or_awaits_it():
    locks = KeyedLock()
    await asyncio.gather(*(_enter(locks, key) for key in ("a", "b", "a")))
    assert len(locks) == 0


async def test_a_waiter_that_is_cancelled_leaves_nothing_behind():
    locks = KeyedLock()
    async with locks.hold("a"):
        waiter = asyncio.ensure_future(_enter(locks, "a"))
        await asyncio.sleep(0)
        assert len(locks) == 1
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    assert len(locks) == 0


async def test_an_error_inside_releases_the_key():
    locks = KeyedLock()
    with pytest.raises(RuntimeError):
        async with locks.hold("a"):
            raise RuntimeError("boom")
    await asyncio.wait_for(_enter(locks, "a"), timeout=5)
    assert len(locks) == 0
