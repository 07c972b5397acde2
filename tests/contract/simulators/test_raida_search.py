"""raida-mock: RQL search over HTTP (Raida §2.5, §4) with the step service's queries."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raida_mock.fixtures import DEMO_USER_ID, SUPER_CONTEST_ID

from .conftest import CONTEST_PROCESS, CS, NODE, TASK_PROCESS, TS, UNKNOWN

pytestmark = pytest.mark.anyio


async def search(client, auth, rql, fields=(), *, with_fields=True, node=NODE):
    body = {"rql": rql, "fields": list(fields)} if with_fields else {"rql": rql}
    return await client.post(f"/api/tasks/rql/{node}", json=body, headers=auth)


async def all_tasks(admin):
    """Every task of the node, in creation order, from the admin state (the oracle)."""
    return (await admin.state())["nodes"][0]["tasks"]


def ids(response):
    assert response.status_code == 200, response.text
    return [t["id"] for t in response.json()["data"]]


async def test_q1_returns_the_contests_accepting_works_in_creation_order(
    raida_client, raida_admin, auth
):
    expected = [
        t["id"]
        for t in await all_tasks(raida_admin)
        if t["process_id"] == CONTEST_PROCESS and t["status_id"] == CS["acceptance_works"]
    ]
    response = await search(
        raida_client,
        auth,
        f"process.id = '{CONTEST_PROCESS}' AND status.id = '{CS['acceptance_works']}'",
    )
    assert ids(response) == expected
    assert SUPER_CONTEST_ID in expected


async def test_q2_archive_with_a_tuple(raida_client, raida_admin, auth):
    wanted = {CS["done"], CS["no_winner"]}
    expected = [
        t["id"]
        for t in await all_tasks(raida_admin)
        if t["process_id"] == CONTEST_PROCESS and t["status_id"] in wanted
    ]
    rql = f"process.id = '{CONTEST_PROCESS}' AND status.id IN ('{CS['done']}', '{CS['no_winner']}')"
    assert ids(await search(raida_client, auth, rql)) == expected
    assert len(expected) >= 2


async def test_q5_finds_the_users_applications_to_a_contest(raida_client, raida_admin, auth):
    expected = [
        t["id"]
        for t in await all_tasks(raida_admin)
        if t["process_id"] == TASK_PROCESS
        and t["custom_fields"].get("cf_konkurs_id") == SUPER_CONTEST_ID
        and t["custom_fields"].get("cf_userid") == DEMO_USER_ID
    ]
    rql = (
        f"process.id = '{TASK_PROCESS}' AND cf_konkurs_id = '{SUPER_CONTEST_ID}'"
        f" AND cf_userid = '{DEMO_USER_ID}'"
    )
    assert ids(await search(raida_client, auth, rql)) == expected
    assert len(expected) == 1


async def test_q6_without_fields_excludes_rejected_applications(raida_client, raida_admin, auth):
    tasks = await all_tasks(raida_admin)
    mine = [
        t
        for t in tasks
        if t["process_id"] == TASK_PROCESS and t["custom_fields"].get("cf_userid") == DEMO_USER_ID
    ]
    rejected = next(t for t in mine if t["status_id"] == TS["rejection"])
    contest = rejected["custom_fields"]["cf_konkurs_id"]
    rql = (
        f"process.id = '{TASK_PROCESS}' AND cf_konkurs_id = '{contest}' AND cf_userid = "
        f"'{DEMO_USER_ID}' AND status.id != '{TS['rejection']}'"
    )
    assert ids(await search(raida_client, auth, rql, with_fields=False)) == []


async def test_q7_matches_the_completed_status_by_name(raida_client, raida_admin, auth):
    expected = [
        t["id"]
        for t in await all_tasks(raida_admin)
        if t["process_id"] == TASK_PROCESS
        and t["custom_fields"].get("cf_konkurs_id") == SUPER_CONTEST_ID
        and t["status_id"] == TS["completed"]
    ]
    rql = (
        f"process.id = '{TASK_PROCESS}' AND cf_konkurs_id = '{SUPER_CONTEST_ID}' AND "
        f"status.name = 'Задание выполнено'"
    )
    assert ids(await search(raida_client, auth, rql, with_fields=False)) == expected
    assert expected


async def test_q8_with_one_element_and_double_quoted_tuples(raida_client, raida_admin, auth):
    base = f"process.id = '{TASK_PROCESS}' AND cf_konkurs_id = '{SUPER_CONTEST_ID}'"
    one = await search(raida_client, auth, f"{base} AND status.id IN ('{TS['new']}',)")
    odd = await search(
        raida_client, auth, f"""{base} AND status.id IN ("{TS["new"]}", "x'y", None)"""
    )
    same = await search(raida_client, auth, f"{base} AND status.id = '{TS['new']}'")
    assert ids(one) == ids(odd) == ids(same)
    assert ids(same)


async def test_without_fields_results_are_whole_tasks_like_a_read(raida_client, auth):
    response = await search(raida_client, auth, f"id = '{SUPER_CONTEST_ID}'", with_fields=False)
    read = await raida_client.get(f"/api/tasks/{NODE}/{SUPER_CONTEST_ID}", headers=auth)
    assert response.json()["data"] == [read.json()["data"]]


async def test_results_include_attachments(raida_client, auth):
    response = await search(raida_client, auth, f"id = '{SUPER_CONTEST_ID}'")
    assert response.json()["data"][0]["attachments"][0]["url"].startswith(f"media/{NODE}/")


async def test_fields_give_a_nested_projection(raida_client, auth):
    fields = ["id", "status.name", "custom_fields.cf_deadline", "custom_fields.cf_award"]
    response = await search(raida_client, auth, f"id = '{SUPER_CONTEST_ID}'", fields)
    (task,) = response.json()["data"]
    assert set(task) == {"id", "status", "custom_fields"}
    assert task["status"] == {"name": "Прием работ"}
    assert set(task["custom_fields"]) == {"cf_deadline", "cf_award"}


async def test_an_unknown_projection_path_is_400(raida_client, auth):
    response = await search(raida_client, auth, f"id = '{SUPER_CONTEST_ID}'", ["status.colour"])
    assert response.status_code == 400
    assert "status.colour" in response.json()["detail"]


async def test_lowercase_keywords_and_odd_spacing_are_tolerated(raida_client, auth):
    sloppy = f"  process.id='{CONTEST_PROCESS}'and status.id  in ( '{CS['acceptance_works']}' , )"
    strict = f"process.id = '{CONTEST_PROCESS}' AND status.id = '{CS['acceptance_works']}'"
    assert ids(await search(raida_client, auth, sloppy)) == ids(
        await search(raida_client, auth, strict)
    )


@pytest.mark.parametrize(
    "rql",
    ["process.id = ", "process.id = 'x' OR status.id = 'y'", "status.id IN ()", "'", ""],
)
async def test_a_syntax_error_is_400_with_a_message(raida_client, auth, rql):
    response = await search(raida_client, auth, rql)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Invalid RQL:")


async def test_an_unknown_field_is_400(raida_client, auth):
    response = await search(raida_client, auth, "owner.id = 'x'")
    assert response.status_code == 400
    assert "owner.id" in response.json()["detail"]


@pytest.mark.parametrize("body", [{}, {"rql": 5}, {"rql": None}], ids=["missing", "int", "null"])
async def test_a_missing_rql_is_400(raida_client, auth, body):
    response = await raida_client.post(f"/api/tasks/rql/{NODE}", json=body, headers=auth)
    assert response.status_code == 400


async def test_malformed_json_is_400(raida_client, auth):
    response = await raida_client.post(
        f"/api/tasks/rql/{NODE}",
        content=b"{'rql': 1}",
        headers={**auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 400


async def test_searching_an_unknown_node_is_404(raida_client, auth):
    response = await search(raida_client, auth, f"id = '{SUPER_CONTEST_ID}'", node=UNKNOWN)
    assert response.status_code == 404


async def test_search_requires_a_token(raida_client):
    response = await search(raida_client, {}, f"id = '{SUPER_CONTEST_ID}'")
    assert response.status_code == 401


async def test_a_created_task_is_found_last(raida_client, auth):
    body = {"status_id": TS["new"], "custom_fields": {"cf_konkurs_id": SUPER_CONTEST_ID}}
    created = await raida_client.post(f"/api/tasks/{NODE}/{TASK_PROCESS}", json=body, headers=auth)
    found = await search(raida_client, auth, f"cf_konkurs_id = '{SUPER_CONTEST_ID}'")
    assert ids(found)[-1] == created.json()["data"]["id"]


@settings(max_examples=50)
@given(text=st.text(max_size=60))
async def test_garbage_rql_is_answered_with_400_or_200_never_500(raida_client, auth, text):
    response = await search(raida_client, auth, text)
    assert response.status_code in (200, 400)
    assert "detail" in response.json() or "data" in response.json()


async def test_a_search_sees_a_status_changed_after_an_earlier_search(raida_client, auth):
    body = {"status_id": TS["new"], "custom_fields": {"cf_konkurs_id": SUPER_CONTEST_ID}}
    created = await raida_client.post(f"/api/tasks/{NODE}/{TASK_PROCESS}", json=body, headers=auth)
    task_id = created.json()["data"]["id"]
    new, approved = f"status.id = '{TS['new']}'", f"status.id = '{TS['approved']}'"
    assert task_id in ids(await search(raida_client, auth, new))
    patch = {"status_id": TS["approved"]}
    await raida_client.patch(f"/api/tasks/{NODE}/{task_id}", json=patch, headers=auth)
    assert task_id not in ids(await search(raida_client, auth, new))
    assert task_id in ids(await search(raida_client, auth, approved))


async def test_a_search_sees_custom_fields_changed_after_an_earlier_search(raida_client, auth):
    body = {"status_id": TS["new"], "custom_fields": {"cf_userid": DEMO_USER_ID}}
    created = await raida_client.post(f"/api/tasks/{NODE}/{TASK_PROCESS}", json=body, headers=auth)
    task_id = created.json()["data"]["id"]
    by_contest = f"cf_konkurs_id = '{SUPER_CONTEST_ID}' AND cf_userid = '{DEMO_USER_ID}'"
    assert task_id not in ids(await search(raida_client, auth, by_contest))
    patch = {"custom_fields": {"cf_konkurs_id": SUPER_CONTEST_ID}}
    await raida_client.patch(f"/api/tasks/{NODE}/{task_id}", json=patch, headers=auth)
    assert ids(await search(raida_client, auth, by_contest))[-1] == task_id


async def test_a_search_after_a_reset_finds_only_the_seed(raida_client, raida_admin, auth):
    body = {"status_id": TS["new"], "custom_fields": {"cf_konkurs_id": SUPER_CONTEST_ID}}
    created = await raida_client.post(f"/api/tasks/{NODE}/{TASK_PROCESS}", json=body, headers=auth)
    by_contest = f"cf_konkurs_id = '{SUPER_CONTEST_ID}'"
    assert created.json()["data"]["id"] in ids(await search(raida_client, auth, by_contest))
    await raida_admin.reset()
    expected = [
        t["id"]
        for t in await all_tasks(raida_admin)
        if t["custom_fields"].get("cf_konkurs_id") == SUPER_CONTEST_ID
    ]
    assert ids(await search(raida_client, auth, by_contest)) == expected


# Answers are kept rendered until the next write (raida_mock.store.Store.answer): the same
# search before and after each kind of write sees the write.


async def test_the_same_search_sees_a_task_created_after_it(raida_client, auth):
    by_contest = f"cf_konkurs_id = '{SUPER_CONTEST_ID}'"
    before = ids(await search(raida_client, auth, by_contest))
    body = {"status_id": TS["new"], "custom_fields": {"cf_konkurs_id": SUPER_CONTEST_ID}}
    created = await raida_client.post(f"/api/tasks/{NODE}/{TASK_PROCESS}", json=body, headers=auth)
    after = ids(await search(raida_client, auth, by_contest))
    assert after == [*before, created.json()["data"]["id"]]


async def test_the_same_search_sees_an_attachment_uploaded_after_it(raida_client, auth):
    body = {"status_id": TS["new"], "custom_fields": {"cf_konkurs_id": SUPER_CONTEST_ID}}
    created = await raida_client.post(f"/api/tasks/{NODE}/{TASK_PROCESS}", json=body, headers=auth)
    task_id = created.json()["data"]["id"]
    by_id = f"id = '{task_id}'"
    assert (await search(raida_client, auth, by_id)).json()["data"][0]["attachments"] == []
    boundary = "b0undary"
    upload = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachment"; '
            f'filename="cat.png"\r\n\r\n'
        ).encode()
        + b"\x89PNG"
        + f"\r\n--{boundary}--\r\n".encode()
    )
    uploaded = await raida_client.post(
        f"/api/attachments/{NODE}/{task_id}?type=task",
        content=upload,
        headers={**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert uploaded.status_code == 201
    attachments = (await search(raida_client, auth, by_id)).json()["data"][0]["attachments"]
    assert [a["id"] for a in attachments] == [uploaded.json()["data"]["id"]]


async def test_the_same_search_with_another_projection_is_answered_apart(raida_client, auth):
    by_id = f"id = '{SUPER_CONTEST_ID}'"
    whole = (await search(raida_client, auth, by_id)).json()["data"]
    projected = (await search(raida_client, auth, by_id, ["id"])).json()["data"]
    assert projected == [{"id": SUPER_CONTEST_ID}]
    assert set(whole[0]) > {"id"}


async def test_a_repeated_search_is_journaled_and_faulted_like_the_first(raida_client, auth):
    await raida_client.post("/__admin/faults", json={"latency_ms": 1})
    by_id = f"id = '{SUPER_CONTEST_ID}'"
    first = await search(raida_client, auth, by_id)
    second = await search(raida_client, auth, by_id)
    assert second.content == first.content
    entries = (await raida_client.get("/__admin/journal")).json()["entries"]
    searches = [e for e in entries if e["path"].startswith("/api/tasks/rql/")]
    assert [(e["rql"], e["latency_ms"]) for e in searches] == [(by_id, 1.0), (by_id, 1.0)]
