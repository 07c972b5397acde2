"""Revisions are announced on Postgres's channel once per writing statement, not once per row
(migration 0004): "<last index> <kind> <projects|-|*>"; a bulk write of many rows is one
notification, so no registry instance's listener is flooded by it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from step_platform.registry.db import connect_once
from step_platform.registry.listener import CHANNEL
from tests.fixtures.registry import reset_registry

from .helpers import P1, P2

pytestmark = pytest.mark.anyio

END = "end of test"
UUID_P2 = uuid.UUID(P2)
INSERT = """
INSERT INTO configs_config (id, project_id, object_type, meta, data)
SELECT gen_random_uuid(), p, 'theme', '{"status": "active"}', '{}'
  FROM unnest($1::uuid[]) AS p
"""


class Heard:
    """Everything a LISTEN connection hears until the `END` sentinel, which the writer sends
    after its writes: notifications come in commit order, so nothing is still on its way."""

    def __init__(self) -> None:
        self.payloads: list[str] = []
        self.done = asyncio.Event()

    def on(self, conn: object, pid: int, channel: str, payload: str) -> None:
        if payload == END:
            self.done.set()
        else:
            self.payloads.append(payload)

    async def after(self, writer: asyncpg.Connection) -> list[str]:
        await writer.execute(f"NOTIFY {CHANNEL}, '{END}'")
        await asyncio.wait_for(self.done.wait(), 10)
        return self.payloads


@pytest.fixture
async def listen(registry_database_url: str) -> AsyncIterator[Heard]:
    await reset_registry(registry_database_url)
    heard = Heard()
    conn = await connect_once(registry_database_url)
    await conn.add_listener(CHANNEL, heard.on)
    try:
        yield heard
    finally:
        await conn.close()


@pytest.fixture
async def writer(registry_database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect_once(registry_database_url)
    try:
        yield conn
    finally:
        await conn.close()


async def last_index(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT max(index) FROM registry_revisions")


async def test_a_statement_writing_many_rows_is_one_notification(listen, writer):
    projects = [P2, P1, P1, P2, P1]
    await writer.execute(INSERT, projects)
    assert await listen.after(writer) == [f"5 config {P1},{P2}"]
    assert await writer.fetchval("SELECT count(*) FROM registry_revisions") == 5


async def test_each_statement_of_a_transaction_is_announced(listen, writer):
    async with writer.transaction():
        await writer.execute(INSERT, [P1])
        await writer.execute(INSERT, [P2, P2])
    assert await listen.after(writer) == [f"1 config {P1}", f"3 config {P2}"]


async def test_an_update_names_the_projects_before_and_after(listen, writer):
    await writer.execute(INSERT, [P1])
    await writer.execute("UPDATE configs_config SET project_id = $1", UUID_P2)
    assert await listen.after(writer) == [f"1 config {P1}", f"2 config {P1},{P2}"]


async def test_a_statement_writing_no_row_announces_nothing(listen, writer):
    await writer.execute(INSERT, [P1])
    await writer.execute("UPDATE configs_config SET name = 'x' WHERE project_id = $1", UUID_P2)
    await writer.execute(INSERT, [])
    assert await listen.after(writer) == [f"1 config {P1}"]


async def test_rows_without_a_project_are_announced_with_a_dash(listen, writer):
    await writer.execute(
        "INSERT INTO configs_config (id, object_type) VALUES (gen_random_uuid(), 'global')"
    )
    assert await listen.after(writer) == ["1 config -"]


async def test_links_are_announced_as_their_kind(listen, writer):
    await writer.execute(
        "INSERT INTO links_link (id, link_type, object1, object2, project_id) "
        "SELECT gen_random_uuid(), 'L', gen_random_uuid(), gen_random_uuid(), p "
        "FROM unnest($1::uuid[]) AS p",
        [P1, P1],
    )
    assert await listen.after(writer) == [f"2 link {P1}"]


async def test_more_projects_than_a_notification_holds_is_a_star(listen, writer):
    await writer.execute(INSERT, [uuid.uuid4() for _ in range(200)])
    await writer.execute(INSERT, [uuid.uuid4() for _ in range(201)])
    payloads = await listen.after(writer)
    assert len(payloads) == 2
    assert payloads[0].startswith("200 config ") and payloads[0].count(",") == 199
    assert payloads[1] == "401 config *"
    assert await last_index(writer) == 401


async def test_a_load_in_one_statement_is_one_notification(listen, writer):
    """The bench's load has this shape (a million rows there, twenty thousand here)."""
    await writer.execute(INSERT, [uuid.uuid4() for _ in range(20_000)])
    assert await listen.after(writer) == ["20000 config *"]
