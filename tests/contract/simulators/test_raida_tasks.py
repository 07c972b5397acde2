"""raida-mock: read, create and update tasks (Raida §2.2–2.4, §3.1)."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from asgi_lifespan import LifespanManager

from raida_mock.app import Settings, create_app
from raida_mock.fixtures import DEMO_USER_ID, SUPER_CONTEST_ID, build_fixture

from .conftest import CONTEST_PROCESS, CREDENTIALS, CS, NODE, TASK_PROCESS, TS, UNKNOWN

pytestmark = pytest.mark.anyio

# The body the original step service sends to create an application (Raida §2.3).
APPLY = {
    "title": "",
    "description": "",
    "author": None,
    "assignee": None,
    "status_id": TS["new"],
    "custom_fields": {
        "cf_konkurs_link": "",
        "cf_award": "",
        "cf_brief": "",
        "cf_startdate": "",
        "cf_konkurs_category": "",
        "cf_konkurs_id": SUPER_CONTEST_ID,
        "cf_userid": DEMO_USER_ID,
    },
}


async def create(client, auth, body=None, process=TASK_PROCESS):
    return await client.post(f"/api/tasks/{NODE}/{process}", json=body or APPLY, headers=auth)


async def test_a_seed_contest_reads_with_every_field_the_client_uses(raida_client, auth):
    response = await raida_client.get(f"/api/tasks/{NODE}/{SUPER_CONTEST_ID}", headers=auth)
    assert response.status_code == 200
    task = response.json()["data"]
    assert task["id"] == SUPER_CONTEST_ID
    assert task["title"] == "Супер-конкурс"
    assert task["process"] == {"id": CONTEST_PROCESS}
    assert task["status"] == {"id": CS["acceptance_works"], "name": "Прием работ"}
    assert task["description"]
    datetime.fromisoformat(task["created_at"].rstrip("Z") + "+00:00")
    for key in ("cf_deadline", "cf_award", "cf_brief", "cf_profession", "cf_konkurs_category"):
        assert isinstance(task["custom_fields"][key], str)
    assert task["author"] is None and task["assignee"] is None
    assert isinstance(task["attachments"], list) and task["attachments"]


async def test_an_unknown_task_is_404_with_a_raida_style_body(raida_client, auth):
    response = await raida_client.get(f"/api/tasks/{NODE}/{UNKNOWN}", headers=auth)
    assert response.status_code == 404
    assert isinstance(response.json()["detail"], str)


async def test_a_task_id_that_is_not_a_uuid_is_404(raida_client, auth):
    response = await raida_client.get(f"/api/tasks/{NODE}/not-a-uuid", headers=auth)
    assert response.status_code == 404


async def test_an_unknown_node_is_404(raida_client, auth):
    response = await raida_client.get(f"/api/tasks/{UNKNOWN}/{SUPER_CONTEST_ID}", headers=auth)
    assert response.status_code == 404
    assert "Node" in response.json()["detail"]


async def test_a_task_of_another_node_is_404(raida_client, raida_admin, auth):
    fixture = build_fixture(contests=1, application_status=None, attachments=False)
    other = {**fixture["nodes"][0], "id": UNKNOWN, "tasks": []}
    fixture["nodes"].append(other)
    await raida_admin.seed(fixture)
    contest_id = fixture["nodes"][0]["tasks"][0]["id"]
    here = await raida_client.get(f"/api/tasks/{NODE}/{contest_id}", headers=auth)
    there = await raida_client.get(f"/api/tasks/{UNKNOWN}/{contest_id}", headers=auth)
    assert (here.status_code, there.status_code) == (200, 404)


async def test_the_null_style_answers_200_with_null_data():
    app = create_app(Settings.from_env({"RAIDA_MISSING_TASK": "null"}))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://raida.test") as c:
            token = (await c.post("/api/users/token/", data=CREDENTIALS)).json()["access_token"]
            response = await c.get(
                f"/api/tasks/{NODE}/{UNKNOWN}", headers={"Authorization": f"Bearer {token}"}
            )
    assert response.status_code == 200
    assert response.json() == {"data": None}


async def test_creating_with_the_original_clients_body_gives_the_full_task(raida_client, auth):
    response = await create(raida_client, auth)
    assert response.status_code == 201
    task = response.json()["data"]
    assert task["process"] == {"id": TASK_PROCESS}
    assert task["status"] == {"id": TS["new"], "name": "Новая"}
    assert task["custom_fields"] == APPLY["custom_fields"]
    assert task["title"] == "" and task["description"] == ""
    assert task["attachments"] == []
    assert task["created_at"].endswith("Z")
    datetime.fromisoformat(task["created_at"].rstrip("Z") + "+00:00")


async def test_a_created_task_can_be_read_back(raida_client, auth):
    created = (await create(raida_client, auth)).json()["data"]
    response = await raida_client.get(f"/api/tasks/{NODE}/{created['id']}", headers=auth)
    assert response.json()["data"] == created


async def test_creating_without_a_status_uses_the_processs_first_status(raida_client, auth):
    body = {k: v for k, v in APPLY.items() if k != "status_id"}
    response = await create(raida_client, auth, body)
    assert response.json()["data"]["status"]["id"] == TS["new"]


async def test_creating_in_an_unknown_process_is_404(raida_client, auth):
    response = await create(raida_client, auth, process=UNKNOWN)
    assert response.status_code == 404


async def test_creating_in_an_unknown_node_is_404(raida_client, auth):
    response = await raida_client.post(
        f"/api/tasks/{UNKNOWN}/{TASK_PROCESS}", json=APPLY, headers=auth
    )
    assert response.status_code == 404


async def test_a_status_of_the_other_process_is_400(raida_client, auth):
    response = await create(raida_client, auth, {**APPLY, "status_id": CS["acceptance_works"]})
    assert response.status_code == 400
    assert "does not belong" in response.json()["detail"]


@pytest.mark.parametrize("process", [TASK_PROCESS, CONTEST_PROCESS])
async def test_the_shared_rejection_status_is_valid_in_both_processes(raida_client, auth, process):
    response = await create(raida_client, auth, {**APPLY, "status_id": TS["rejection"]}, process)
    assert response.status_code == 201
    assert response.json()["data"]["status"]["name"] == "Отказ"


@pytest.mark.parametrize(
    "content", [b"{", b"[1, 2]", b'"text"', b"\xff\xfe"], ids=["broken", "array", "string", "bytes"]
)
async def test_a_malformed_or_non_object_body_is_400(raida_client, auth, content):
    response = await raida_client.post(
        f"/api/tasks/{NODE}/{TASK_PROCESS}",
        content=content,
        headers={**auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize(
    "patch",
    [{"title": 5}, {"custom_fields": "x"}, {"status_id": 7}, {"description": []}],
    ids=["title", "custom_fields", "status_id", "description"],
)
async def test_fields_of_the_wrong_type_are_400(raida_client, auth, patch):
    response = await create(raida_client, auth, {**APPLY, **patch})
    assert response.status_code == 400


async def test_patching_the_status_updates_its_name(raida_client, auth):
    task = (await create(raida_client, auth)).json()["data"]
    response = await raida_client.patch(
        f"/api/tasks/{NODE}/{task['id']}", json={"status_id": TS["completed"]}, headers=auth
    )
    assert response.status_code == 200
    assert response.json()["data"]["status"] == {"id": TS["completed"], "name": "Задание выполнено"}


async def test_patching_custom_fields_merges_them_key_by_key(raida_client, auth):
    task = (await create(raida_client, auth)).json()["data"]
    body = {
        "status_id": TS["completed"],
        "custom_fields": {"solution_link": "https://x", "comments": "c"},
    }
    await raida_client.patch(f"/api/tasks/{NODE}/{task['id']}", json=body, headers=auth)
    stored = (await raida_client.get(f"/api/tasks/{NODE}/{task['id']}", headers=auth)).json()[
        "data"
    ]
    assert stored["custom_fields"] == {
        **APPLY["custom_fields"],
        "solution_link": "https://x",
        "comments": "c",
    }


async def test_patching_title_and_description_replaces_them(raida_client, auth):
    task = (await create(raida_client, auth)).json()["data"]
    response = await raida_client.patch(
        f"/api/tasks/{NODE}/{task['id']}", json={"title": "T", "description": None}, headers=auth
    )
    data = response.json()["data"]
    assert (data["title"], data["description"]) == ("T", None)


async def test_patching_an_unknown_task_is_404(raida_client, auth):
    response = await raida_client.patch(
        f"/api/tasks/{NODE}/{UNKNOWN}", json={"status_id": TS["rejection"]}, headers=auth
    )
    assert response.status_code == 404


async def test_patching_a_status_of_the_other_process_is_400_and_changes_nothing(
    raida_client, auth
):
    task = (await create(raida_client, auth)).json()["data"]
    response = await raida_client.patch(
        f"/api/tasks/{NODE}/{task['id']}",
        json={"status_id": CS["done"], "custom_fields": {"comments": "x"}},
        headers=auth,
    )
    stored = (await raida_client.get(f"/api/tasks/{NODE}/{task['id']}", headers=auth)).json()[
        "data"
    ]
    assert response.status_code == 400
    assert stored == task


async def test_patching_with_malformed_json_is_400(raida_client, auth):
    response = await raida_client.patch(
        f"/api/tasks/{NODE}/{SUPER_CONTEST_ID}",
        content=b"{status_id:",
        headers={**auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 400


async def test_an_unknown_route_is_a_raida_style_404(raida_client, auth):
    response = await raida_client.get("/api/nothing/here", headers=auth)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


async def test_a_wrong_method_is_405(raida_client, auth):
    response = await raida_client.delete(f"/api/tasks/{NODE}/{SUPER_CONTEST_ID}", headers=auth)
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (f"/api/tasks/{NODE}/{SUPER_CONTEST_ID}", {"GET", "HEAD", "PATCH", "POST"}),
        (f"/api/attachments/{NODE}/{SUPER_CONTEST_ID}", {"GET", "HEAD", "POST"}),
    ],
)
async def test_a_wrong_method_is_405_allowing_every_method_of_the_path(
    raida_client, auth, path, allowed
):
    response = await raida_client.request("PUT", path, headers=auth)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed


async def test_tasks_and_their_process_share_one_documented_path(raida_client):
    doc = (await raida_client.get("/docs/schema?format=json")).json()
    item = doc["paths"]["/api/tasks/{node}/{id}"]
    assert set(item) == {"get", "patch", "post"}
    assert not {"/api/tasks/{node}/{task}", "/api/tasks/{node}/{process}"} & set(doc["paths"])
