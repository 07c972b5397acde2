"""Concurrent writes of one config: no update is lost.

Every write reads the row, computes the new data, and writes it with `If-Match: <the row's
ETag>`; a 412 (someone wrote in between) means read again and retry. Writers in one instance
queue on a per-config lock, writers in other instances are caught by If-Match. The other
writers here are real: more configs instances on the same registry, or a client writing the
registry directly at the worst moment (just before our write reaches it).
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from step_platform.configs.object_code import config_object_code
from step_platform.configs.routes import ATTEMPTS

from .conftest import P

pytestmark = pytest.mark.anyio

CONFLICT = "Конфиг одновременно изменяют другие запросы. Повторите запрос."
URL = "/configs/node_id/"


@pytest.fixture
async def stored(registry_client) -> dict:
    """The project-level `node_id` every test writes to."""
    created = await registry_client.post(
        "/api/config/",
        json={
            "project_id": P,
            "object_type": "node_id",
            "object_code": config_object_code(P, None, "node_id"),
            "data": {"base": 0},
        },
    )
    assert created.status_code == 201, created.text
    return created.json()


async def current(registry_client, row: dict) -> dict:
    response = await registry_client.get(f"/api/config/{row['id']}/")
    assert response.status_code == 200, response.text
    return response.json()


def etag_of(row: dict) -> str:
    return f'"{row["modified_date"]}"'


def calls(registry_calls: list[httpx.Request]) -> list[tuple[str, str]]:
    return [(c.method, c.url.path) for c in registry_calls]


class Interferer:
    """The registry, with another writer that PATCHes the row (adding `other<n>`) just before
    each of our first `times` writes of it reaches the registry."""

    def __init__(self, registry: ASGIApp, client: httpx.AsyncClient, times: int) -> None:
        self.registry = registry
        self.client = client
        self.left = times
        self.done = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        write = scope["type"] == "http" and scope["method"] in ("PUT", "PATCH")
        if write and path.startswith("/api/config/") and self.left:
            self.left -= 1
            self.done += 1
            response = await self.client.patch(path, json={"data": {f"other{self.done}": 1}})
            assert response.status_code == 200, response.text
        await self.registry(scope, receive, send)


# --- many writers ----------------------------------------------------------------------------


async def test_concurrent_patches_in_one_instance_all_land(
    configs_client, writer, stored, registry_client, registry_calls
):
    responses = await asyncio.gather(
        *(configs_client.patch(URL, json={"data": {f"k{i}": i}}, headers=writer) for i in range(10))
    )
    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
    expected = {"base": 0, **{f"k{i}": i for i in range(10)}}
    assert (await current(registry_client, stored))["data"] == expected
    # this instance's writers queue: none of them needed a second try
    assert (
        calls(registry_calls)
        == [("GET", "/api/configs/"), ("PUT", f"/api/config/{stored['id']}/")] * 10
    )
    assert all("if-match" in c.headers for c in registry_calls if c.method == "PUT")


async def test_concurrent_patches_through_two_instances_all_land(
    start_configs, registry_app, writer, stored, registry_client, registry_calls
):
    # each write can be outpaced at most by the other instance's 4: within ATTEMPTS tries
    per_instance = ATTEMPTS - 1
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(start_configs(registry=registry_app))
        second = await stack.enter_async_context(start_configs(registry=registry_app))
        responses = await asyncio.gather(
            *(
                client.patch(URL, json={"data": {f"{name}{i}": i}}, headers=writer)
                for i in range(per_instance)
                for name, client in (("a", first), ("b", second))
            )
        )
    assert [r.status_code for r in responses] == [200] * 2 * per_instance
    expected = {"base": 0}
    expected.update({f"{name}{i}": i for i in range(per_instance) for name in "ab"})
    assert (await current(registry_client, stored))["data"] == expected
    reads = [c for c in registry_calls if c.method == "GET"]
    writes = [c for c in registry_calls if c.method == "PUT"]
    assert len(reads) == len(writes) >= 2 * per_instance
    assert all(c.headers["if-match"].startswith('"') for c in writes)


class Gate:
    """The registry as two configs instances see it, forced into the worst interleaving: both
    read the row before either writes, then their first writes land in `order`."""

    def __init__(self, registry: ASGIApp, order: tuple[str, str]) -> None:
        self.registry = registry
        self.order = order
        self.reads: set[str] = set()
        self.writes: set[str] = set()
        self.both_read = asyncio.Event()
        self.first_written = asyncio.Event()

    def side(self, name: str) -> ASGIApp:
        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            method = scope.get("method")
            if method == "GET" and name not in self.reads:
                await self.registry(scope, receive, send)
                self.reads.add(name)
                if len(self.reads) == 2:
                    self.both_read.set()
            elif method in ("PUT", "PATCH") and name not in self.writes:
                self.writes.add(name)
                await self.both_read.wait()
                if name == self.order[1]:
                    await self.first_written.wait()
                await self.registry(scope, receive, send)
                if name == self.order[0]:
                    self.first_written.set()
            else:
                await self.registry(scope, receive, send)

        return app


@pytest.mark.parametrize("order", [("put", "patch"), ("patch", "put")])
async def test_a_put_racing_a_patch_ends_as_one_of_the_serial_orders(
    start_configs, registry_app, writer, stored, registry_client, registry_calls, order
):
    put, patch = {"put": 1}, {"patch": 1, "base": None}
    gate = Gate(registry_app, order)
    async with AsyncExitStack() as stack:
        putter = await stack.enter_async_context(start_configs(registry=gate.side("put")))
        patcher = await stack.enter_async_context(start_configs(registry=gate.side("patch")))
        responses = await asyncio.gather(
            putter.put(URL, json={"data": put}, headers=writer),
            patcher.patch(URL, json={"data": patch}, headers=writer),
        )
    assert [r.status_code for r in responses] == [200, 200]
    serial = {("put", "patch"): {"put": 1, "patch": 1}, ("patch", "put"): {"put": 1}}
    assert (await current(registry_client, stored))["data"] == serial[order]
    # the second writer's first write was refused (412): it read again and wrote again
    assert [c.method for c in registry_calls].count("GET") == 3


async def test_concurrent_reactivations_leave_one_winner(
    start_configs, registry_app, writer, stored, registry_client
):
    await registry_client.delete(f"/api/config/{stored['id']}/")
    body = {"project_id": P, "object_type": "node_id"}
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(start_configs(registry=registry_app))
        second = await stack.enter_async_context(start_configs(registry=registry_app))
        responses = await asyncio.gather(
            first.post("/configs/", json={**body, "data": {"by": "a"}}, headers=writer),
            second.post("/configs/", json={**body, "data": {"by": "b"}}, headers=writer),
        )
    assert sorted(r.status_code for r in responses) == [201, 409]
    (winner,) = [r for r in responses if r.status_code == 201]
    (loser,) = [r for r in responses if r.status_code == 409]
    assert loser.json()["detail"]["code"] == "ENTITY_EXISTS"
    assert (await current(registry_client, stored))["data"] == winner.json()["data"]["data"]


# --- a writer in between: retry on a fresh read ------------------------------------------------


@pytest.mark.parametrize(
    ("method", "body", "registry_method"),
    [
        ("PATCH", {"data": {"mine": 1}}, "PUT"),
        ("PUT", {"data": {"mine": 1}}, "PUT"),
        ("DELETE", None, "PATCH"),
    ],
)
async def test_a_write_outpaced_once_is_retried_on_a_fresh_read(
    start_configs,
    registry_app,
    writer,
    stored,
    registry_client,
    registry_calls,
    method,
    body,
    registry_method,
):
    interferer = Interferer(registry_app, registry_client, times=1)
    async with start_configs(registry=interferer) as client:
        response = await client.request(method, URL, json=body, headers=writer)
    assert response.status_code == 200, response.text
    one = f"/api/config/{stored['id']}/"
    assert calls(registry_calls) == [
        ("GET", "/api/configs/"),
        (registry_method, one),
        ("GET", "/api/configs/"),
        (registry_method, one),
    ]
    first_try, second_try = registry_calls[1], registry_calls[3]
    assert first_try.headers["if-match"] == etag_of(stored)
    assert second_try.headers["if-match"] != etag_of(stored)
    final = await current(registry_client, stored)
    assert response.json()["data"] == final
    expected = {
        "PATCH": {"base": 0, "other1": 1, "mine": 1},  # the other writer's key is kept
        "PUT": {"mine": 1},
        "DELETE": {"base": 0, "other1": 1},
    }
    assert final["data"] == expected[method]
    if method == "DELETE":
        assert final["meta"]["status"] == "inactive"


async def test_a_write_outpaced_on_every_try_is_409_conflict_and_writes_nothing(
    start_configs, registry_app, writer, stored, registry_client, registry_calls
):
    interferer = Interferer(registry_app, registry_client, times=ATTEMPTS)
    async with start_configs(registry=interferer) as client:
        response = await client.patch(URL, json={"data": {"mine": 1}}, headers=writer)
    assert response.status_code == 409, response.text
    assert response.json() == {"detail": {"code": "CONFLICT", "message": CONFLICT}}
    assert len(registry_calls) == 2 * ATTEMPTS
    final = await current(registry_client, stored)
    assert final["data"] == {"base": 0, **{f"other{n}": 1 for n in range(1, ATTEMPTS + 1)}}
    assert final["user_id"] is None  # our writer never wrote


async def test_one_more_try_after_a_conflict_succeeds(
    start_configs, registry_app, writer, stored, registry_client
):
    interferer = Interferer(registry_app, registry_client, times=ATTEMPTS)
    async with start_configs(registry=interferer) as client:
        assert (await client.patch(URL, json={"data": {"x": 1}}, headers=writer)).status_code == 409
        response = await client.patch(URL, json={"data": {"mine": 1}}, headers=writer)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["data"]["mine"] == 1


async def test_a_row_without_modified_date_is_502_and_nothing_is_written(
    start_configs, tiny_server, writer
):
    row = {
        "id": "4fc9986b-d03b-4801-a672-a191c941e17c",
        "project_id": P,
        "account_id": None,
        "object_type": "node_id",
        "meta": {"status": "active", "internal_id": 1},
        "data": {},
    }
    tiny_server.body = json.dumps([row]).encode()
    async with start_configs(registry_url=tiny_server.url) as client:
        response = await client.patch(URL, json={"data": {"x": 1}}, headers=writer)
    assert response.status_code == 502, response.text
    assert response.json()["detail"]["code"] == "UPSTREAM_ERROR"
    assert [r.split()[0] for r in tiny_server.requests] == ["GET"]
