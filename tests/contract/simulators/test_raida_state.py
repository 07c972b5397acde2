"""raida-mock: `--seed FILE`, `--state FILE` (state survives a restart) and settings."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager

import httpx
import pytest
from asgi_lifespan import LifespanManager

from raida_mock.app import Settings, create_app
from raida_mock.fixtures import SUPER_CONTEST_ID, build_fixture
from step_platform.core.settings import ConfigError

from .conftest import NODE, TASK_PROCESS, TS

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def running(settings):
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://raida.test") as client:
            yield client


async def token_header(client):
    response = await client.post(
        "/api/users/token/", data={"username": "raida@raida.com", "password": "raida"}
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_a_seed_file_replaces_the_packaged_seed(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(build_fixture(contests=3, application_status=None)))
    settings = Settings.from_env({"RAIDA_SEED_FILE": str(seed)})
    async with running(settings) as client:
        first = (await client.get("/__admin/state")).json()
        await client.post("/__admin/reset")
        again = (await client.get("/__admin/state")).json()
    assert len(first["nodes"][0]["tasks"]) == 3
    assert [t["id"] for t in again["nodes"][0]["tasks"]] == [
        t["id"] for t in first["nodes"][0]["tasks"]
    ]


def test_a_missing_seed_file_stops_start_up(tmp_path):
    with pytest.raises(ConfigError, match="RAIDA_SEED_FILE"):
        Settings.from_env({"RAIDA_SEED_FILE": str(tmp_path / "nope.json")})


@pytest.mark.parametrize("content", ["{not json", '{"nodes": "x"}', "[]"])
def test_a_bad_seed_file_stops_start_up_with_one_line(tmp_path, content):
    seed = tmp_path / "seed.json"
    seed.write_text(content)
    with pytest.raises(ConfigError) as info:
        create_app(Settings(seed_file=seed))
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("raida-mock:")


async def test_state_survives_a_restart(tmp_path):
    settings = Settings.from_env({"RAIDA_STATE_FILE": str(tmp_path / "raida.json")})
    async with running(settings) as client:
        auth = await token_header(client)
        created = await client.post(
            f"/api/tasks/{NODE}/{TASK_PROCESS}",
            json={"status_id": TS["new"], "custom_fields": {"cf_konkurs_id": SUPER_CONTEST_ID}},
            headers=auth,
        )
        task_id = created.json()["data"]["id"]
        await client.patch(
            f"/api/tasks/{NODE}/{task_id}", json={"status_id": TS["approved"]}, headers=auth
        )
        uploaded = await client.post(
            f"/api/attachments/{NODE}/{task_id}?type=task",
            files={"attachment": ("s.txt", b"solution")},
            headers=auth,
        )
        before = (await client.get("/__admin/state")).json()
    async with running(settings) as client:
        task = await client.get(f"/api/tasks/{NODE}/{task_id}", headers=auth)
        served = await client.get("/" + uploaded.json()["data"]["url"])
        after = (await client.get("/__admin/state")).json()
    assert task.status_code == 200  # the token issued before the restart still works
    assert task.json()["data"]["status"]["name"] == "Одобрена"
    assert served.content == b"solution"
    assert after == before


async def test_reset_with_a_state_file_rewrites_it(tmp_path):
    state_file = tmp_path / "raida.json"
    settings = Settings(state_file=state_file)
    async with running(settings) as client:
        auth = await token_header(client)
        await client.post(f"/api/tasks/{NODE}/{TASK_PROCESS}", json={}, headers=auth)
        grown = len(json.loads(state_file.read_text())["nodes"][0]["tasks"])
        await client.post("/__admin/reset")
        reset = len(json.loads(state_file.read_text())["nodes"][0]["tasks"])
    assert grown == reset + 1


def test_a_corrupt_state_file_stops_start_up(tmp_path):
    state_file = tmp_path / "raida.json"
    state_file.write_text("{")
    with pytest.raises(ConfigError, match=r"raida\.json"):
        create_app(Settings(state_file=state_file))


def test_settings_defaults():
    settings = Settings.from_env({})
    assert (settings.username, settings.password) == ("raida@raida.com", "raida")
    assert settings.token_ttl == 3600
    assert settings.seed_file is None and settings.state_file is None
    assert settings.common.allowed_hosts == ("*",)


def test_an_unknown_missing_task_style_stops_start_up():
    with pytest.raises(ConfigError, match="RAIDA_MISSING_TASK"):
        Settings.from_env({"RAIDA_MISSING_TASK": "410"})
