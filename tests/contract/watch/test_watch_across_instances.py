"""Blocking queries across instances: a watcher on one registry (or configs) instance is woken
by a write through the other one, through Postgres LISTEN/NOTIFY, within a second."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest

from .conftest import Instances

pytestmark = pytest.mark.anyio

WITHIN = 1.0


def project() -> str:
    return str(uuid.uuid4())


async def timed(request: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started


async def settle() -> None:
    """Let a just-sent blocking request reach its wait (it must not see the write early)."""
    await asyncio.sleep(0.5)


async def test_a_registry_list_watch_wakes_on_a_write_through_the_other_instance(
    instances: Instances,
):
    p = project()
    async with httpx.AsyncClient(timeout=30) as http:
        first, second = instances.registry
        other = await http.post(f"{second}/api/config/", json={"project_id": p, "name": "o"})
        before = await http.get(f"{first}/api/configs/", params={"project_id": p})
        index = int(before.headers["X-Config-Index"])  # not 0: index 0 never waits
        assert [r["id"] for r in before.json()] == [other.json()["id"]]
        watch = asyncio.create_task(
            timed(http.get(f"{first}/api/configs/",
                           params={"project_id": p, "index": index, "wait": "20s"}))
        )  # fmt: skip
        await settle()
        assert not watch.done()
        written = await http.post(f"{second}/api/config/", json={"project_id": p, "name": "n"})
        wrote_at = time.monotonic()
        response, _ = await watch
        assert time.monotonic() - wrote_at < WITHIN
    assert response.status_code == 200
    assert written.json()["id"] in [r["id"] for r in response.json()]
    assert int(response.headers["X-Config-Index"]) > index
    assert response.headers["X-Served-By"] == "registry/r1"


async def test_a_registry_watch_is_not_woken_by_another_projects_write(instances: Instances):
    mine, other = project(), project()
    first, second = instances.registry
    async with httpx.AsyncClient(timeout=30) as http:
        await http.post(f"{second}/api/config/", json={"project_id": mine})  # index 0 never waits
        index = (await http.get(f"{first}/api/configs/", params={"project_id": mine})).headers[
            "X-Config-Index"
        ]
        watch = asyncio.create_task(
            timed(http.get(f"{first}/api/configs/",
                           params={"project_id": mine, "index": index, "wait": "2s"}))
        )  # fmt: skip
        await settle()
        await http.post(f"{second}/api/config/", json={"project_id": other})
        response, took = await watch
    assert response.status_code == 200 and len(response.json()) == 1
    assert response.headers["X-Config-Index"] == index
    assert took >= 2.0


async def configs_headers(instances: Instances, user_center: Any, p: str) -> dict[str, str]:
    token = await user_center.token(roles=("configs:write",))
    return {"Authorization": f"Bearer {token}", "Project-ID": p}


async def test_a_configs_watch_wakes_on_a_write_through_the_other_configs_instance(
    instances: Instances, user_center
):
    p = project()
    headers = await configs_headers(instances, user_center, p)
    first, second = instances.configs
    async with httpx.AsyncClient(timeout=30, headers=headers) as http:
        created = await http.post(
            f"{second}/configs/", json={"project_id": p, "object_type": "theme", "data": {"v": 1}}
        )
        assert created.status_code == 201, created.text
        read = await http.get(f"{first}/configs/theme/")
        index = int(read.headers["X-Config-Index"])
        assert read.json()["data"] == {"theme": {"v": 1}}
        watch = asyncio.create_task(
            timed(http.get(f"{first}/configs/theme/", params={"index": index, "wait": "20s"}))
        )
        await settle()
        assert not watch.done()
        assert (await http.put(f"{second}/configs/theme/", json={"data": {"v": 2}})).is_success
        wrote_at = time.monotonic()
        response, _ = await watch
        assert time.monotonic() - wrote_at < WITHIN
    assert response.status_code == 200
    assert response.json()["data"] == {"theme": {"v": 2}}
    assert int(response.headers["X-Config-Index"]) > index
    assert response.headers["X-Served-By"] == "configs/c1"


async def test_a_configs_watch_of_one_type_sleeps_through_a_write_of_another(
    instances: Instances, user_center
):
    p = project()
    headers = await configs_headers(instances, user_center, p)
    first, second = instances.configs
    async with httpx.AsyncClient(timeout=30, headers=headers) as http:
        for name in ("theme", "other"):
            body = {"project_id": p, "object_type": name, "data": {"v": 1}}
            assert (await http.post(f"{second}/configs/", json=body)).status_code == 201
        read = await http.get(f"{first}/configs/theme/")
        index = read.headers["X-Config-Index"]
        watch = asyncio.create_task(
            timed(http.get(f"{first}/configs/theme/", params={"index": index, "wait": "2s"}))
        )
        await settle()
        assert (await http.put(f"{second}/configs/other/", json={"data": {"v": 2}})).is_success
        response, took = await watch
    assert took >= 2.0
    assert response.status_code == 200
    assert response.headers["X-Config-Index"] == index
    assert response.json() == read.json()


async def test_a_watch_that_times_out_answers_200_with_the_same_body_and_index(
    instances: Instances, user_center
):
    p = project()
    headers = await configs_headers(instances, user_center, p)
    first = instances.configs[0]
    async with httpx.AsyncClient(timeout=30, headers=headers) as http:
        body = {"project_id": p, "object_type": "theme", "data": {"v": 1}}
        assert (await http.post(f"{first}/configs/", json=body)).status_code == 201
        read = await http.get(f"{first}/configs/theme/")
        response, took = await timed(
            http.get(
                f"{first}/configs/theme/",
                params={"index": read.headers["X-Config-Index"], "wait": "1s"},
            )
        )
    assert 1.0 <= took < 5.0
    assert response.status_code == 200
    assert response.json() == read.json()
    assert response.headers["X-Config-Index"] == read.headers["X-Config-Index"]


async def test_a_stale_or_future_index_answers_at_once(instances: Instances, user_center):
    p = project()
    headers = await configs_headers(instances, user_center, p)
    first = instances.configs[0]
    async with httpx.AsyncClient(timeout=30, headers=headers) as http:
        body = {"project_id": p, "object_type": "theme", "data": {"v": 1}}
        assert (await http.post(f"{first}/configs/", json=body)).status_code == 201
        index = int((await http.get(f"{first}/configs/theme/")).headers["X-Config-Index"])
        for asked in (0, index - 1, 2**62):
            response, took = await timed(
                http.get(f"{first}/configs/theme/", params={"index": asked, "wait": "20s"})
            )
            assert response.status_code == 200
            assert response.headers["X-Config-Index"] == str(index)
            assert took < WITHIN


async def test_a_watch_of_a_type_not_there_yet_wakes_when_it_is_created(
    instances: Instances, user_center
):
    p = project()
    headers = await configs_headers(instances, user_center, p)
    first, second = instances.configs
    async with httpx.AsyncClient(timeout=30, headers=headers) as http:
        missing = await http.get(f"{first}/configs/theme/")
        assert missing.status_code == 404
        index = missing.headers["X-Config-Index"]
        watch = asyncio.create_task(
            http.get(f"{first}/configs/theme/", params={"index": index, "wait": "20s"})
        )
        await settle()
        body = {"project_id": p, "object_type": "theme", "data": {"v": 1}}
        assert (await http.post(f"{second}/configs/", json=body)).status_code == 201
        response = await watch
    assert response.status_code == 200
    assert response.json()["data"] == {"theme": {"v": 1}}


async def test_the_change_feed_names_the_changed_projects(instances: Instances, user_center):
    p = project()
    headers = await configs_headers(instances, user_center, p)
    first, second = instances.configs
    async with httpx.AsyncClient(timeout=30, headers=headers) as http:
        start = (await http.get(f"{first}/configs/_changes/")).json()
        watch = asyncio.create_task(
            http.get(f"{first}/configs/_changes/", params={"index": start["index"], "wait": "20s"})
        )
        await settle()
        body = {"project_id": p, "object_type": "theme", "data": {"v": 1}}
        assert (await http.post(f"{second}/configs/", json=body)).status_code == 201
        response = await watch
    feed = response.json()
    assert feed["index"] > start["index"] and feed["reset"] is False
    assert p in {project for change in feed["changes"] for project in change["projects"]}
