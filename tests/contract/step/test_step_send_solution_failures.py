"""Route 10 when Raida fails part-way: a send is all or nothing, as far as Raida allows.

The order is: read the application, claim it (status completed + `solution_claim_<id>`), write
the link/comment, upload the file. A failure before the upload is undone with one PATCH (status,
fields and claim back); the upload itself is the commit point. Faults come from raida-mock's
fault API; where a fault must hit the second of two calls to one route (the fault API counts
from the next call), a `Tap` on step's transport to raida-mock adds it once the first call has
answered, or replaces an answer Raida did send (a stored file whose answer was lost).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from step_platform.contests.app import create_app
from tests.fixtures.step import STEP_BASE_URL, step_settings

from .conftest import NODE, T_APPROVED, T_NEW, TS, World, detail, raida_calls, raida_task

pytestmark = pytest.mark.anyio

PATH = "/contests/user/my/task/send_solution"
CLAIM_PREFIX = "solution_claim_"
SENT = {"detail": {"code": "OK", "message": "Решение успешно отправлено"}}
PRIOR = {T_NEW: "new", T_APPROVED: "approved"}

Hook = Callable[[httpx.Response], Awaitable[httpx.Response | None]]


class Tap(httpx.AsyncBaseTransport):
    """Step's transport to raida-mock; `after(method, path, hook)` runs `hook` once on the
    answer to the next such call (to arm a fault for a later call, or to replace the answer)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.hooks: list[tuple[str, str, Hook]] = []

    def after(self, method: str, path: str, hook: Hook) -> None:
        self.hooks.append((method, path, hook))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        for i, (method, path, hook) in enumerate(self.hooks):
            if request.method == method and request.url.path == path:
                del self.hooks[i]
                return await hook(response) or response
        return response


@pytest.fixture
async def tap(raida_app: Any) -> Tap:
    return Tap(httpx.ASGITransport(app=raida_app))


@pytest.fixture
async def client(configs_app: Any, tap: Tap, user_center: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        step_settings(user_center.public_key_pem),
        transports={"configs": httpx.ASGITransport(app=configs_app), "raida": tap},
    )
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=STEP_BASE_URL) as c:
            yield c


def task_path(task_id: str) -> str:
    return f"/api/tasks/{NODE}/{task_id}"


def upload_path(task_id: str) -> str:
    return f"/api/attachments/{NODE}/{task_id}"


def claims(task: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in task["custom_fields"].items() if k.startswith(CLAIM_PREFIX)}


async def send(
    client: httpx.AsyncClient, world: World, task_id: str, content: bytes = b"my solution"
) -> httpx.Response:
    return await client.post(
        PATH,
        data={"task_id": task_id, "solution_link": "https://example.org/s", "comments": "Готово"},
        files={"solution_file": ("essay.txt", content, "text/plain")},
        headers=world.headers(),
    )


def arm(raida_admin: Any, **rule: Any) -> Hook:
    """A hook that adds a raida-mock fault rule (for the calls after this one)."""

    async def hook(response: httpx.Response) -> None:
        await raida_admin.faults(**rule)

    return hook


async def assert_back_as_before(raida_admin: Any, task_id: str) -> None:
    task = await raida_task(raida_admin, task_id)
    assert task["status"]["id"] == TS[PRIOR[task_id]]
    assert task["attachments"] == []
    # Raida merges custom fields, so fields that were absent come back as null.
    assert task["custom_fields"].get("solution_link") is None
    assert task["custom_fields"].get("comments") is None
    assert [v for v in claims(task).values() if v is not None] == []


@pytest.mark.parametrize("task_id", [T_NEW, T_APPROVED])
@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"fail_next": 1, "error_status": 500}, 502, "UPSTREAM_ERROR"),
        ({"drop_next": 1}, 503, "UPSTREAM_UNAVAILABLE"),
    ],
)
async def test_a_failed_upload_answers_the_upstream_error_and_reopens_the_application(
    client: httpx.AsyncClient,
    world: World,
    raida_admin: Any,
    task_id: str,
    fault: dict[str, Any],
    status: int,
    code: str,
) -> None:
    await raida_admin.faults(route=upload_path(task_id), method="POST", **fault)
    response = await send(client, world, task_id)
    assert response.status_code == status
    assert detail(response)["code"] == code
    assert detail(response)["upstream"] == "raida"
    assert await raida_calls(raida_admin) == [
        ("GET", task_path(task_id)),
        ("PATCH", task_path(task_id)),  # claim
        ("GET", task_path(task_id)),  # still ours
        ("PATCH", task_path(task_id)),  # link and comment
        ("POST", upload_path(task_id)),  # fails
        ("GET", task_path(task_id)),  # was the file stored anyway? no
        ("PATCH", task_path(task_id)),  # undo
    ]
    await assert_back_as_before(raida_admin, task_id)


async def test_a_retry_after_a_failed_upload_succeeds_with_one_attachment(
    client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    await raida_admin.faults(route=upload_path(T_NEW), method="POST", fail_next=1)
    assert (await send(client, world, T_NEW, b"first try")).status_code == 502
    retry = await send(client, world, T_NEW, b"second try")
    assert retry.status_code == 200
    assert retry.json() == SENT
    task = await raida_task(raida_admin, T_NEW)
    assert task["status"]["id"] == TS["completed"]
    assert task["custom_fields"]["solution_link"] == "https://example.org/s"
    [attachment] = task["attachments"]
    assert (await raida_admin.client.get("/" + attachment["url"])).content == b"second try"
    assert [v is None for v in claims(task).values()].count(False) == 1


async def test_a_failed_claim_uploads_nothing(
    client: httpx.AsyncClient, world: World, raida_admin: Any
) -> None:
    before = await raida_task(raida_admin, T_NEW)
    await raida_admin.clear_journal()
    await raida_admin.faults(route=task_path(T_NEW), method="PATCH", fail_next=1)
    response = await send(client, world, T_NEW)
    assert response.status_code == 502
    assert detail(response)["code"] == "UPSTREAM_ERROR"
    assert await raida_calls(raida_admin) == [
        ("GET", task_path(T_NEW)),
        ("PATCH", task_path(T_NEW)),  # the claim fails
        ("GET", task_path(T_NEW)),  # was it applied anyway? no: nothing to undo
    ]
    assert await raida_task(raida_admin, T_NEW) == before
    assert (await send(client, world, T_NEW)).status_code == 200


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500, json={"detail": "answer lost"}),
        httpx.Response(200, json={"data": None}),  # an answer that does not show the task
    ],
    ids=["error", "no-task"],
)
async def test_a_claim_applied_without_a_usable_answer_is_undone(
    client: httpx.AsyncClient, world: World, raida_admin: Any, tap: Tap, answer: httpx.Response
) -> None:
    async def replace(response: httpx.Response) -> httpx.Response:
        await response.aread()
        return answer

    tap.after("PATCH", task_path(T_NEW), replace)
    response = await send(client, world, T_NEW)
    assert response.status_code == 502
    assert detail(response)["code"] == "UPSTREAM_ERROR"
    assert await raida_calls(raida_admin) == [
        ("GET", task_path(T_NEW)),
        ("PATCH", task_path(T_NEW)),  # the claim, applied; step cannot tell from the answer
        ("GET", task_path(T_NEW)),  # read back: ours is the only claim
        ("PATCH", task_path(T_NEW)),  # undo
    ]
    await assert_back_as_before(raida_admin, T_NEW)
    assert (await send(client, world, T_NEW)).status_code == 200


async def test_a_claim_overwritten_by_a_concurrent_update_stops_the_send(
    client: httpx.AsyncClient, world: World, raida_admin: Any, tap: Tap
) -> None:
    # What a Raida that merges custom fields without a lock could show after two claims:
    # only the other one's.
    async def overwritten(response: httpx.Response) -> httpx.Response:
        await response.aread()
        task = response.json()["data"]
        task["custom_fields"] = {
            **{k: v for k, v in task["custom_fields"].items() if not k.startswith(CLAIM_PREFIX)},
            CLAIM_PREFIX + "0" * 32: datetime.now(UTC).isoformat(),
        }
        return httpx.Response(200, json={"data": task})

    async def then_overwrite(response: httpx.Response) -> None:
        tap.after("GET", task_path(T_NEW), overwritten)

    tap.after("PATCH", task_path(T_NEW), then_overwrite)
    response = await send(client, world, T_NEW)
    assert response.status_code == 400
    assert detail(response) == {"code": "TASK_COMPLETED", "message": "Решение уже отправлено"}
    assert await raida_calls(raida_admin) == [
        ("GET", task_path(T_NEW)),
        ("PATCH", task_path(T_NEW)),  # claim
        ("GET", task_path(T_NEW)),  # ours is gone: the other sender goes on, we stop
    ]
    assert (await raida_task(raida_admin, T_NEW))["attachments"] == []


async def test_a_failed_check_of_the_claim_undoes_it(
    client: httpx.AsyncClient, world: World, raida_admin: Any, tap: Tap
) -> None:
    tap.after("PATCH", task_path(T_NEW), arm(raida_admin, method="GET", fail_next=1))
    response = await send(client, world, T_NEW)
    assert response.status_code == 502
    assert await raida_calls(raida_admin) == [
        ("GET", task_path(T_NEW)),
        ("PATCH", task_path(T_NEW)),  # claim
        ("GET", task_path(T_NEW)),  # fails
        ("PATCH", task_path(T_NEW)),  # undo
    ]
    await assert_back_as_before(raida_admin, T_NEW)


async def test_a_failed_link_write_restores_status_and_fields(
    client: httpx.AsyncClient, world: World, raida_admin: Any, tap: Tap
) -> None:
    update = await raida_admin.client.patch(
        task_path(T_NEW),
        json={"custom_fields": {"solution_link": "https://old.example"}},
        headers=await raida_admin.headers(),
    )
    assert update.status_code == 200
    await raida_admin.clear_journal()
    tap.after("PATCH", task_path(T_NEW), arm(raida_admin, method="PATCH", fail_next=1))
    response = await send(client, world, T_NEW)
    assert response.status_code == 502
    assert await raida_calls(raida_admin) == [
        ("GET", task_path(T_NEW)),
        ("PATCH", task_path(T_NEW)),  # claim
        ("GET", task_path(T_NEW)),  # still ours
        ("PATCH", task_path(T_NEW)),  # link and comment: fails
        ("PATCH", task_path(T_NEW)),  # undo
    ]
    task = await raida_task(raida_admin, T_NEW)
    assert task["status"]["id"] == TS["new"]
    assert task["attachments"] == []
    assert task["custom_fields"]["solution_link"] == "https://old.example"
    assert task["custom_fields"]["comments"] is None
    assert [v for v in claims(task).values() if v is not None] == []


async def test_a_file_raida_stored_despite_an_error_answer_counts_as_sent(
    client: httpx.AsyncClient, world: World, raida_admin: Any, tap: Tap
) -> None:
    async def lose_answer(response: httpx.Response) -> httpx.Response:
        await response.aread()
        return httpx.Response(500, json={"detail": "answer lost"})

    tap.after("POST", upload_path(T_NEW), lose_answer)
    response = await send(client, world, T_NEW)
    assert response.status_code == 200
    assert response.json() == SENT
    assert await raida_calls(raida_admin) == [
        ("GET", task_path(T_NEW)),
        ("PATCH", task_path(T_NEW)),
        ("GET", task_path(T_NEW)),
        ("PATCH", task_path(T_NEW)),
        ("POST", upload_path(T_NEW)),  # stored; step saw a 500
        ("GET", task_path(T_NEW)),  # the new attachment is there: done
    ]
    task = await raida_task(raida_admin, T_NEW)
    assert task["status"]["id"] == TS["completed"]
    assert len(task["attachments"]) == 1


async def test_an_undo_that_fails_twice_is_logged_and_leaves_the_application_completed(
    client: httpx.AsyncClient,
    world: World,
    raida_admin: Any,
    tap: Tap,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await raida_admin.faults(route=upload_path(T_NEW), method="POST", fail_next=1)
    tap.after("POST", upload_path(T_NEW), arm(raida_admin, method="PATCH", fail_next=2))
    with caplog.at_level(logging.WARNING, logger="step_platform.contests.submission"):
        response = await send(client, world, T_NEW)
    assert response.status_code == 502  # the upload's error, not the undo's
    assert await raida_calls(raida_admin) == [
        ("GET", task_path(T_NEW)),
        ("PATCH", task_path(T_NEW)),
        ("GET", task_path(T_NEW)),
        ("PATCH", task_path(T_NEW)),
        ("POST", upload_path(T_NEW)),
        ("GET", task_path(T_NEW)),
        ("PATCH", task_path(T_NEW)),  # undo: fails
        ("PATCH", task_path(T_NEW)),  # undo again: fails
    ]
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.name == "step_platform.contests.submission"
    assert T_NEW in error.getMessage()
    assert "could not be undone" in error.getMessage()
    assert TS["new"] in error.getMessage()  # the status to restore
    # What remains: completed without a file; a further send is refused.
    task = await raida_task(raida_admin, T_NEW)
    assert task["status"]["id"] == TS["completed"]
    assert task["attachments"] == []
    again = await send(client, world, T_NEW)
    assert again.status_code == 400
    assert detail(again)["code"] == "TASK_COMPLETED"
