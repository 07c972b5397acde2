"""Costly reads (searches, `data` filters, JSON-path ordering) run a bounded number at once;
a cheap read never waits for them; one that waits past the statement deadline is 503."""

from __future__ import annotations

import asyncio

import pytest
from starlette.datastructures import QueryParams

from step_platform.registry.db import DatabaseBusy, Deadlines, Store
from step_platform.registry.filters import compile_list
from step_platform.registry.kinds import CONFIGS

pytestmark = pytest.mark.anyio


def store() -> Store:
    return Store("postgresql://nowhere/db", costly_slots=1, deadlines=Deadlines(statement=0.2))


async def test_a_second_costly_read_waits_then_is_503_database_busy() -> None:
    s = store()
    async with s.costly():
        with pytest.raises(DatabaseBusy) as raised:
            async with s.costly():
                pass
    assert raised.value.status == 503
    assert raised.value.extra["upstream"] == "database"
    assert raised.value.headers["Retry-After"] == "1"


async def test_a_cheap_read_does_not_wait_for_costly_ones() -> None:
    s = store()
    async with s.costly(), asyncio.timeout(0.05), s.costly(False):
        pass


async def test_the_slot_is_free_again_after_a_costly_read() -> None:
    s = store()
    async with s.costly():
        pass
    async with asyncio.timeout(0.05), s.costly():
        pass


@pytest.mark.parametrize(
    ("query", "costly"),
    [
        ("project_id=e3eb60a2-3bb7-4983-8e2f-47490b979eb9&meta_status=active", False),
        ("ordering=-name", False),
        ("search=x", True),
        ("data=a__exact=1", True),
        ("ordering=data__a", True),
    ],
)
def test_which_queries_are_costly(query: str, costly: bool) -> None:
    assert compile_list(CONFIGS, QueryParams(query)).costly is costly
