"""raida-mock: attachment list, upload and the served files (Raida §2.6–2.7, §3.2)."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest
from asgi_lifespan import LifespanManager

from raida_mock.app import Settings, create_app
from raida_mock.fixtures import SUPER_CONTEST_ID

from .conftest import NODE, TASK_PROCESS, TS, UNKNOWN

pytestmark = pytest.mark.anyio

README_ATTACHMENT = "ce063f59-e352-4da9-939f-253644619eb4"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


async def new_application(client, auth):
    body = {"status_id": TS["new"], "custom_fields": {"cf_konkurs_id": SUPER_CONTEST_ID}}
    response = await client.post(f"/api/tasks/{NODE}/{TASK_PROCESS}", json=body, headers=auth)
    return response.json()["data"]["id"]


def multipart(name, data, field="attachment", content_type=None):
    """A body like the original client's: one part, no part Content-Type unless given."""
    boundary = "b0undary"
    headers = f'Content-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
    if content_type:
        headers += f"Content-Type: {content_type}\r\n"
    body = f"--{boundary}\r\n{headers}\r\n".encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


async def upload(client, auth, task_id, name="cat.png", data=b"\x89PNG-bytes", **kw):
    body, headers = multipart(name, data, **kw)
    return await client.post(
        f"/api/attachments/{NODE}/{task_id}?type=task", content=body, headers={**auth, **headers}
    )


async def readme_task(admin):
    state = await admin.state()
    return next(
        t
        for t in state["nodes"][0]["tasks"]
        if any(a["id"] == README_ATTACHMENT for a in t["attachments"])
    )


async def test_the_readme_example_attachment_is_listed(raida_client, raida_admin, auth):
    task = await readme_task(raida_admin)
    response = await raida_client.get(f"/api/attachments/{NODE}/{task['id']}", headers=auth)
    assert response.status_code == 200
    (item,) = response.json()["data"]
    name = "f6e3f9a9-79ea-4859-82ea-b1721bff0c70-cat.jpg"
    assert item == {
        "id": README_ATTACHMENT,
        "name": name,
        "url": f"media/{NODE}/{README_ATTACHMENT}/{name}",
        "content_type": "image/jpeg",
    }


async def test_an_upload_without_a_part_content_type_is_stored_and_guessed(raida_client, auth):
    task_id = await new_application(raida_client, auth)
    response = await upload(raida_client, auth, task_id, "cat.png")
    assert response.status_code == 201
    item = response.json()["data"]
    assert re.fullmatch(f"{UUID}-cat.png", item["name"])
    assert item["url"] == f"media/{NODE}/{item['id']}/{item['name']}"
    assert item["content_type"] == "image/png"


async def test_a_declared_part_content_type_is_kept(raida_client, auth):
    task_id = await new_application(raida_client, auth)
    response = await upload(raida_client, auth, task_id, "notes", content_type="text/markdown")
    assert response.json()["data"]["content_type"] == "text/markdown"


async def test_the_uploaded_file_is_served_back_at_its_url(raida_client, auth):
    task_id = await new_application(raida_client, auth)
    data = bytes(range(256)) * 10
    item = (await upload(raida_client, auth, task_id, "blob.bin", data)).json()["data"]
    served = await raida_client.get("/" + item["url"])
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"] == "application/octet-stream"


async def test_a_non_ascii_file_name_is_served_at_its_quoted_url(raida_client, auth):
    task_id = await new_application(raida_client, auth)
    item = (await upload(raida_client, auth, task_id, "решение.txt", b"ok")).json()["data"]
    assert item["name"].endswith("-решение.txt")
    assert item["url"].endswith(quote(item["name"]))
    assert (await raida_client.get("/" + item["url"])).content == b"ok"


async def test_a_client_path_in_the_file_name_is_dropped(raida_client, auth):
    task_id = await new_application(raida_client, auth)
    item = (await upload(raida_client, auth, task_id, "C:\\temp\\x/../cat.jpg")).json()["data"]
    assert re.fullmatch(f"{UUID}-cat.jpg", item["name"])


async def test_uploads_are_listed_oldest_first_and_appear_in_the_task(raida_client, auth):
    task_id = await new_application(raida_client, auth)
    first = (await upload(raida_client, auth, task_id, "a.txt")).json()["data"]
    second = (await upload(raida_client, auth, task_id, "b.txt")).json()["data"]
    listed = (await raida_client.get(f"/api/attachments/{NODE}/{task_id}", headers=auth)).json()
    task = (await raida_client.get(f"/api/tasks/{NODE}/{task_id}", headers=auth)).json()
    assert listed["data"] == [first, second]
    assert task["data"]["attachments"] == [first, second]


async def test_an_upload_without_the_attachment_part_is_400(raida_client, auth):
    task_id = await new_application(raida_client, auth)
    response = await upload(raida_client, auth, task_id, field="file")
    assert response.status_code == 400
    assert "attachment" in response.json()["detail"]


async def test_a_non_multipart_upload_is_400(raida_client, auth):
    task_id = await new_application(raida_client, auth)
    response = await raida_client.post(
        f"/api/attachments/{NODE}/{task_id}?type=task", json={"attachment": "x"}, headers=auth
    )
    assert response.status_code == 400


async def test_a_malformed_multipart_body_is_400(raida_client, auth):
    task_id = await new_application(raida_client, auth)
    response = await raida_client.post(
        f"/api/attachments/{NODE}/{task_id}?type=task",
        content=b'--zz\r\nContent-Disposition: form-data; name="attachment"; filename="a"\r\n',
        headers={**auth, "Content-Type": "multipart/form-data; boundary=zz"},
    )
    assert response.status_code == 400


async def test_another_attachment_type_is_400(raida_client, auth):
    task_id = await new_application(raida_client, auth)
    body, headers = multipart("a.txt", b"x")
    response = await raida_client.post(
        f"/api/attachments/{NODE}/{task_id}?type=process", content=body, headers={**auth, **headers}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("method", ["get", "post"])
async def test_attachments_of_an_unknown_task_are_404(raida_client, auth, method):
    if method == "get":
        response = await raida_client.get(f"/api/attachments/{NODE}/{UNKNOWN}", headers=auth)
    else:
        response = await upload(raida_client, auth, UNKNOWN)
    assert response.status_code == 404


async def test_attachments_of_an_unknown_node_are_404(raida_client, auth):
    response = await raida_client.get(
        f"/api/attachments/{UNKNOWN}/{SUPER_CONTEST_ID}", headers=auth
    )
    assert response.status_code == 404


async def test_uploads_need_a_token(raida_client, auth):
    task_id = await new_application(raida_client, auth)
    response = await upload(raida_client, {}, task_id)
    assert response.status_code == 401


async def test_a_media_url_with_another_name_is_404(raida_client):
    response = await raida_client.get(f"/media/{NODE}/{README_ATTACHMENT}/dog.jpg")
    assert response.status_code == 404


async def test_media_urls_are_absolute_when_a_public_url_is_set():
    app = create_app(Settings.from_env({"RAIDA_PUBLIC_URL": "http://127.0.0.1:8090/"}))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://raida.test") as c:
            token = (await c.post("/__admin/tokens")).json()["access_token"]
            response = await c.get(
                f"/api/tasks/{NODE}/{SUPER_CONTEST_ID}",
                headers={"Authorization": f"Bearer {token}"},
            )
    url = response.json()["data"]["attachments"][0]["url"]
    assert url.startswith(f"http://127.0.0.1:8090/media/{NODE}/")
