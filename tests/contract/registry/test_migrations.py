"""Migrations: idempotent, safe concurrently, adopting the original's database; socket URLs."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from asgi_lifespan import LifespanManager

from step_platform.core.app import CommonSettings
from step_platform.devstack.postgres import PostgresServer
from step_platform.registry.app import Settings, create_app
from step_platform.registry.db import connect_once
from step_platform.registry.migrations import available, migrate
from tests.fixtures.registry import execute_sql

pytestmark = pytest.mark.anyio

ALL = [name for name, _ in available()]

# What the original Django application's migrations create (Django 5.0 DDL, hashes shortened),
# without the internal_id sequences, which it created lazily on the first insert.
ORIGINAL_SCHEMA = """
CREATE TABLE "configs_config" ("id" uuid NOT NULL PRIMARY KEY,
    "created_date" timestamp with time zone NOT NULL, "modified_date" timestamp with time zone NOT NULL,
    "project_id" uuid NULL, "account_id" uuid NULL, "user_id" uuid NULL,
    "object_type" varchar(254) NULL, "object_item" uuid NULL,
    "object_code" varchar(254) NULL UNIQUE, "name" varchar(254) NULL,
    "meta" jsonb NOT NULL, "data" jsonb NULL);
CREATE INDEX "configs_con_data_3f1f7e_gin" ON "configs_config" USING gin ("data");
CREATE INDEX "configs_config_object_item_8e5c1a2b" ON "configs_config" ("object_item");
CREATE INDEX "configs_config_created_date_5b5b1e3e" ON "configs_config" ("created_date");
CREATE INDEX "configs_config_modified_date_0d1a3c4f" ON "configs_config" ("modified_date");
CREATE INDEX "configs_con_project_7a8b9c_idx" ON "configs_config" ("project_id", "account_id", "user_id");
CREATE INDEX "configs_config_object_code_2f3e4d5c_like" ON "configs_config" ("object_code" varchar_pattern_ops);
CREATE TABLE "links_link" ("id" uuid NOT NULL PRIMARY KEY, "link_type" varchar(254) NOT NULL,
    "link_code" varchar(254) NULL, "object1" uuid NOT NULL, "object2" uuid NOT NULL,
    "weight" double precision NOT NULL, "direction" smallint NOT NULL CHECK ("direction" >= 0),
    "created_date" timestamp with time zone NOT NULL, "modified_date" timestamp with time zone NOT NULL,
    "meta" jsonb NOT NULL, "data" jsonb NULL,
    "project_id" uuid NULL, "account_id" uuid NULL, "user_id" uuid NULL,
    CONSTRAINT "weight_range" CHECK ("weight" >= 0.0 AND "weight" <= 1.0),
    CONSTRAINT "direction_range" CHECK ("direction" >= 0 AND "direction" <= 3),
    CONSTRAINT "links_link_link_code_project_id_link_type_uniq" UNIQUE ("link_code", "project_id", "link_type"),
    CONSTRAINT "links_link_link_code_project_id_account_id_link_type_uniq"
        UNIQUE ("link_code", "project_id", "account_id", "link_type"));
CREATE SEQUENCE configs_internal_id_seq;
INSERT INTO configs_config VALUES
  ('00000000-0000-4000-8000-000000000001', now(), now(), NULL, NULL, NULL, 'theme', NULL, 'old-1',
   'Old one', '{"status": "active", "flags": 0, "internal_id": 1}', '{"bg": "#000"}'),
  ('00000000-0000-4000-8000-000000000002', now(), now(), NULL, NULL, NULL, 'theme', NULL, 'old-2',
   'Old two', '{"status": "inactive", "flags": 3, "internal_id": 7}', NULL),
  ('00000000-0000-4000-8000-000000000003', now(), now(), NULL, NULL, NULL, NULL, NULL, NULL,
   'Odd meta', '{"status": "active", "flags": "abc", "internal_id": "x"}', '[]');
SELECT setval('configs_internal_id_seq', 2);
INSERT INTO links_link VALUES
  ('00000000-0000-4000-8000-0000000000aa', 'O2O', 'L-1', '00000000-0000-4000-8000-000000000001',
   '00000000-0000-4000-8000-000000000002', 0.5, 1, now(), now(),
   '{"status": "active", "flags": 0, "internal_id": 1}', '{}', NULL, NULL, NULL);
"""  # noqa: E501


@pytest.fixture
async def empty_database(postgres_server: PostgresServer) -> AsyncIterator[str]:
    name = await anyio.to_thread.run_sync(postgres_server.create_database)
    try:
        yield postgres_server.url(name)
    finally:
        await anyio.to_thread.run_sync(postgres_server.drop_database, name)


async def fetch(url: str, sql: str) -> list:
    conn = await connect_once(url)
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


async def client_for(url: str):
    app = create_app(Settings(database_url=url, common=CommonSettings(allowed_hosts=("*",))))
    manager = LifespanManager(app)
    await manager.__aenter__()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://r")
    return manager, client


async def test_the_migrations_are_numbered_sql_files():
    names = [name for name, _ in available()]
    assert names == sorted(names) and names[0] == "0001_initial"


async def test_migrate_is_idempotent(empty_database):
    assert await migrate(empty_database) == ALL
    assert await migrate(empty_database) == []
    rows = await fetch(empty_database, "SELECT name FROM registry_migrations")
    assert [r["name"] for r in rows] == ALL


async def test_concurrent_migrations_apply_once(empty_database):
    results = await asyncio.gather(*(migrate(empty_database) for _ in range(4)))
    assert sorted(results) == [[], [], [], ALL]


async def test_a_fresh_schema_has_the_indexes_the_queries_use(empty_database):
    await migrate(empty_database)
    rows = await fetch(
        empty_database,
        "SELECT indexname FROM pg_indexes WHERE tablename IN ('configs_config', 'links_link')",
    )
    indexes = {r["indexname"] for r in rows}
    assert {
        "configs_config_project_type_idx",
        "configs_config_internal_id_idx",
        "configs_config_object_code_uniq",
        "configs_config_data_gin",
        "links_link_code_project_type_uniq",
        "links_link_internal_id_idx",
    } <= indexes


async def test_migrate_adopts_a_database_the_original_created(empty_database):
    await execute_sql(empty_database, ORIGINAL_SCHEMA)
    assert await migrate(empty_database) == ALL
    manager, client = await client_for(empty_database)
    try:
        rows = (await client.get("/api/configs/")).json()
        assert [r["name"] for r in rows] == ["Old two", "Old one", "Odd meta"]
        created = await client.post("/api/config/", json={"name": "new"})
        assert created.json()["meta"]["internal_id"] == 8  # past the largest stored id
        clash = await client.post("/api/config/", json={"object_code": "old-1"})
        assert clash.status_code == 409
        patched = await client.patch(
            "/api/config/00000000-0000-4000-8000-000000000002/", json={"data": {"a": 1}}
        )
        assert patched.json()["data"] == {"a": 1}
        link = await client.post(
            "/api/link/",
            json={
                "link_type": "O2O",
                "link_code": "L-1",
                "object1": rows[0]["id"],
                "object2": rows[1]["id"],
            },
        )
        assert link.status_code == 409  # NULL project ids are not distinct any more
        first_link = (
            await client.post(
                "/api/link/",
                json={"link_type": "O2O", "object1": rows[0]["id"], "object2": rows[1]["id"]},
            )
        ).json()
        assert first_link["meta"]["internal_id"] == 2
    finally:
        await client.aclose()
        await manager.__aexit__(None, None, None)
    uniques = await fetch(
        empty_database,
        "SELECT indexname FROM pg_indexes WHERE tablename = 'configs_config' "
        "AND indexdef LIKE 'CREATE UNIQUE INDEX%(object_code)'",
    )
    assert len(uniques) == 1  # the original's unique index is reused, not doubled
    gins = await fetch(
        empty_database,
        "SELECT indexname FROM pg_indexes WHERE tablename = 'configs_config' "
        "AND indexdef LIKE '%USING gin%'",
    )
    assert [r["indexname"] for r in gins] == ["configs_con_data_3f1f7e_gin"]
    assert await migrate(empty_database) == []


async def test_an_adopted_database_starts_each_row_with_one_adopted_revision(empty_database):
    await execute_sql(empty_database, ORIGINAL_SCHEMA)
    await migrate(empty_database)
    manager, client = await client_for(empty_database)
    try:
        audit = (await client.get("/api/revisions/", params={"ordering": "index"})).json()
        assert audit["count"] == 4  # three configs, one link
        assert {r["operation"] for r in audit["results"]} == {"adopted"}
        assert [r["index"] for r in audit["results"]] == [1, 2, 3, 4]
        row_id = "00000000-0000-4000-8000-000000000001"
        (adopted,) = (await client.get(f"/api/config/{row_id}/history/")).json()["results"]
        assert adopted["before"] is None
        assert adopted["after"] == (await client.get(f"/api/config/{row_id}/")).json()
        await client.patch(f"/api/config/{row_id}/", json={"data": {"bg": "#fff"}})
        rolled = await client.post(
            f"/api/config/{row_id}/rollback/", json={"index": adopted["index"]}
        )
        assert rolled.json()["data"] == {"bg": "#000"}
    finally:
        await client.aclose()
        await manager.__aexit__(None, None, None)
    await migrate(empty_database)
    again = await fetch(empty_database, "SELECT count(*) FROM registry_revisions")
    assert again[0][0] == 6  # adopted once: a second migrate adds none


async def test_a_unix_socket_url_works_for_migrate_and_the_app(empty_database):
    rows = await fetch(empty_database, "SHOW unix_socket_directories")
    socket_dir = rows[0][0].split(",")[0].strip()
    assert os.path.isdir(socket_dir), socket_dir
    port = (await fetch(empty_database, "SHOW port"))[0][0]
    database = empty_database.rsplit("/", 1)[1].split("?")[0]
    env = {
        "DB_NAME": database,
        "DB_USER": "postgres",
        "DB_HOST": socket_dir,
        "DB_PORT": port,
        "ALLOWED_HOSTS": "*",
    }
    settings = Settings.from_env(env)
    assert settings.database_url.startswith("postgresql://postgres@/")
    assert "host=%2F" in settings.database_url
    assert await migrate(settings.database_url) == ALL
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://r") as client:
            assert (await client.post("/api/config/", json={"name": "s"})).status_code == 201
            ready = await client.get("/readyz")
    assert ready.status_code == 200
    via_socket = await fetch(
        settings.database_url,
        "SELECT inet_server_addr() IS NULL AS unix, count(*) AS n FROM configs_config",
    )
    assert (via_socket[0]["unix"], via_socket[0]["n"]) == (True, 1)
