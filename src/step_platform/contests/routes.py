"""The ten routes of the step API, one handler each (their envelopes: envelopes.py; the
arbitration of racing joins: joining.py).

Every handler runs the same pipeline: the caller's token, the context headers and the body
are validated first (no upstream call for a bad request), then the route's config values are
read (configs service, cached briefly per user), then Raida. Raida calls per request are
constant: lists are one search, "my tasks" and "history" are two searches joined in memory
(run concurrently), contest details one read and one search; a solution is sent with a read,
a claim, a check, the link/comment and the upload (submission.py says why, and what failures
cost).

Writes wait for as few sequential Raida round trips as their guarantees allow (independent
calls run concurrently): join 3 (the contest read and the live-application check together,
the create, the re-check that settles races between instances), quit 2 (the ownership and
status read, then the PATCH: Raida has no conditional write), send_solution 4 (read, claim,
check, upload), 5 with a link or comment.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta, tzinfo
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.auth import Principal, TokenVerifier
from ..core.errors import ApiError
from ..core.headers import Context, context_headers
from ..core.locks import KeyedLock
from ..core.state import resource
from ..core.tasks import gather
from . import config_format as need
from . import forms, messages, rql
from .config_format import ConfigSet, Need
from .configs_client import ConfigsClient
from .envelopes import (
    bad_status_filter,
    contest_not_found,
    entity_exists,
    ok,
    ok_data,
    ok_list,
    task_completed,
)
from .joining import settle_join_race
from .presenters import (
    contest_details,
    contest_item,
    contest_task_item,
    custom_fields,
    history_item,
    my_task_item,
    process_id,
    same_id,
    status_id,
    with_application,
)
from .raida_client import RaidaClient
from .submission import MIN_CLAIM_LEASE, ClaimLost, Submission

log = logging.getLogger("step_platform.contests")

ATTACHMENT_FETCH_LIMIT = 8

MSG_ACTIVE = "Получение списка всех конкурсов со статусом Прием работ. Активные конкурсы."
MSG_ARCHIVE = (
    "Получение списка всех конкурсов со статусом Завершен и Победитель не выбран. Архив конкурсов."
)
MSG_DETAILS = "Данные конкурса"
MSG_CONTEST_TASKS = "Получение списка задач конкурса по статусам"
MSG_MY_TASKS = (
    "Получение списка всех конкурсов со статусом Прием работ, Прием работ окончен, Голосование, "
    "Подведение итогов, Завершен. Для раздела мои задания."
)
MSG_HISTORY = "Получение списка всех конкурсов со статусом Завершен. Для раздела история участия."
MSG_JOINED = "Заявка на конкурс создана"
MSG_QUIT = 'Статус заявки изменен на "Отказ"'
MSG_SENT = "Решение успешно отправлено"

NEW_TASK_STATUS_NAME = "Новая"

T = TypeVar("T")


# the contest statuses "my tasks" lists (every one after the application window opened)
RUNNING = ("acceptance_works", "acceptance_works_done", "voting", "sum_results", "done")


def my_tasks_searches(cfg: ConfigSet, user_id: str) -> tuple[str, str]:
    """ "My tasks" asks Raida for the running contests and the user's applications not
    withdrawn, at once."""
    running = [cfg[f"contest_status_id.{s}"] for s in RUNNING]
    return (
        rql.contests(cfg["contest_process_id.value"], running),
        rql.user_tasks(
            cfg["task_process_id.value"], user_id, not_status=cfg["task_status_id.rejection"]
        ),
    )


def history_searches(cfg: ConfigSet, user_id: str) -> tuple[str, str]:
    """A history asks Raida for the finished contests and the user's completed applications."""
    return (
        rql.contests(cfg["contest_process_id.value"], [cfg["contest_status_id.done"]]),
        rql.user_tasks(
            cfg["task_process_id.value"], user_id, statuses=[cfg["task_status_id.completed"]]
        ),
    )


def raida_of(request: Request) -> RaidaClient:
    """The Raida client the app's lifespan opened (its `State`, copied into each request)."""
    return resource(request, "raida", RaidaClient)


def configs_of(request: Request) -> ConfigsClient:
    """The configs client the app's lifespan opened."""
    return resource(request, "configs", ConfigsClient)


@dataclass(frozen=True)
class Caller:
    principal: Principal
    context: Context
    authorization: str

    @property
    def user_id(self) -> str:
        return self.principal.user_id


# --- the API -----------------------------------------------------------------------------------


class StepApi:
    """The handlers; the upstream clients come from the lifespan state of each request."""

    def __init__(
        self,
        *,
        verifier: TokenVerifier,
        tz: tzinfo,
        max_upload_bytes: int,
        claim_lease: timedelta = MIN_CLAIM_LEASE,
    ) -> None:
        self.verifier = verifier
        self.tz = tz
        self.max_upload_bytes = max_upload_bytes
        self.claim_lease = claim_lease
        self.join_locks = KeyedLock()
        self.task_locks = KeyedLock()

    # collaborators ------------------------------------------------------------------------

    def caller(self, request: Request) -> Caller:
        authorization = request.headers.get("authorization")
        principal = self.verifier.verify(authorization)
        assert authorization is not None
        return Caller(principal, context_headers(request), authorization)

    async def config(self, request: Request, caller: Caller, route_need: Need) -> ConfigSet:
        return await configs_of(request).config_set(
            user_id=caller.user_id,
            context=caller.context,
            authorization=caller.authorization,
            need=route_need,
        )

    # 1, 2 -----------------------------------------------------------------------------------

    async def active(self, request: Request) -> Response:
        raida = raida_of(request)
        cfg = await self.config(request, self.caller(request), need.ACTIVE)
        query = rql.contests(
            cfg["contest_process_id.value"], [cfg["contest_status_id.acceptance_works"]]
        )
        contests = await raida.search(cfg["node_id.value"], query)
        return ok_list(MSG_ACTIVE, [contest_item(c, self.tz) for c in contests])

    async def archive(self, request: Request) -> Response:
        raida = raida_of(request)
        cfg = await self.config(request, self.caller(request), need.ARCHIVE)
        query = rql.contests(
            cfg["contest_process_id.value"],
            [cfg["contest_status_id.done"], cfg["contest_status_id.no_winner"]],
        )
        contests = await raida.search(cfg["node_id.value"], query)
        return ok_list(MSG_ARCHIVE, [contest_item(c, self.tz) for c in contests])

    # 3 --------------------------------------------------------------------------------------

    async def details(self, request: Request) -> Response:
        raida = raida_of(request)
        contest_id = str(request.path_params["contest_id"])
        caller = self.caller(request)
        cfg = await self.config(request, caller, need.DETAILS)
        node = cfg["node_id.value"]
        live = [
            cfg["task_status_id.new"],
            cfg["task_status_id.approved"],
            cfg["task_status_id.completed"],
        ]
        contest, tasks = await gather(
            raida.get_task(node, contest_id),
            raida.search(
                node,
                rql.user_tasks(
                    cfg["task_process_id.value"],
                    caller.user_id,
                    contest_id=contest_id,
                    statuses=live,
                ),
            ),
        )
        if contest is None or process_id(contest) != cfg["contest_process_id.value"]:
            raise contest_not_found()
        user_task = next((t for t in tasks if status_id(t) in live), None)
        data = contest_details(contest, user_task, cfg["task_status_id.completed"], self.tz)
        return ok_data(MSG_DETAILS, data)

    # 4 --------------------------------------------------------------------------------------

    async def contest_tasks(self, request: Request) -> Response:
        raida = raida_of(request)
        contest_id = str(request.path_params["contest_id"])
        caller = self.caller(request)
        try:
            wanted = [rql.uuid_value(s.strip()) for s in request.query_params.getlist("status")]
        except rql.RqlValueError:
            raise bad_status_filter() from None
        cfg = await self.config(request, caller, need.CONTEST_TASKS)
        statuses = wanted or [cfg["task_status_id.approved"], cfg["task_status_id.completed"]]
        query = rql.contest_tasks(cfg["task_process_id.value"], contest_id, statuses)
        tasks = await raida.search(cfg["node_id.value"], query)
        return ok_list(MSG_CONTEST_TASKS, [contest_task_item(t, self.tz) for t in tasks])

    # 5 --------------------------------------------------------------------------------------

    async def my_tasks(self, request: Request) -> Response:
        raida = raida_of(request)
        caller = self.caller(request)
        cfg = await self.config(request, caller, need.MY_TASKS)
        node = cfg["node_id.value"]
        contests, tasks = await gather(
            *(raida.search(node, q) for q in my_tasks_searches(cfg, caller.user_id))
        )
        completed = cfg["task_status_id.completed"]
        pairs = with_application(contests, tasks)
        return ok_list(MSG_MY_TASKS, [my_task_item(c, t, completed, self.tz) for c, t in pairs])

    # 6, 7 -----------------------------------------------------------------------------------

    async def my_history(self, request: Request) -> Response:
        caller = self.caller(request)
        return await self._history(request, caller, caller.user_id)

    async def user_history(self, request: Request) -> Response:
        # Open to any authenticated user, as in the original (recorded in compat.md).
        user_id = str(request.path_params["user_id"])
        return await self._history(request, self.caller(request), user_id)

    async def _history(self, request: Request, caller: Caller, user_id: str) -> Response:
        raida = raida_of(request)
        cfg = await self.config(request, caller, need.HISTORY)
        node = cfg["node_id.value"]
        contests, tasks = await gather(
            *(raida.search(node, q) for q in history_searches(cfg, user_id))
        )
        pairs = with_application(contests, tasks)
        await self._fill_attachments(raida, node, [task for _, task in pairs])
        return ok_list(MSG_HISTORY, [history_item(c, t, self.tz) for c, t in pairs])

    async def _fill_attachments(
        self, raida: RaidaClient, node: str, tasks: list[dict[str, Any]]
    ) -> None:
        """Raida-mock (and Raida's task objects) carry attachments; fetch only where absent."""
        missing = [t for t in tasks if "attachments" not in t and isinstance(t.get("id"), str)]
        if not missing:
            return
        limit = asyncio.Semaphore(ATTACHMENT_FETCH_LIMIT)

        async def fetch(task: dict[str, Any]) -> None:
            async with limit:
                task["attachments"] = await raida.attachments(node, task["id"])

        await gather(*(fetch(t) for t in missing))

    # 8 --------------------------------------------------------------------------------------

    async def join(self, request: Request) -> Response:
        raida = raida_of(request)
        caller = self.caller(request)
        contest_id = await forms.join_contest_id(request)
        cfg = await self.config(request, caller, need.JOIN)
        node = cfg["node_id.value"]
        task_process = cfg["task_process_id.value"]
        live = [
            cfg["task_status_id.new"],
            cfg["task_status_id.approved"],
            cfg["task_status_id.completed"],
        ]
        mine = rql.user_tasks(task_process, caller.user_id, contest_id=contest_id, statuses=live)
        # In-process serialisation per (user, contest); the re-check after creating covers
        # several instances racing through the same Raida.
        # The contest read and the check for a live application are independent: they run
        # concurrently, so a join is three sequential Raida round trips (check, create, re-check).
        async with self.join_locks.hold((caller.user_id, contest_id)):
            contest, existing = await gather(
                raida.get_task(node, contest_id), raida.search(node, mine)
            )
            if contest is None or process_id(contest) != cfg["contest_process_id.value"]:
                raise contest_not_found()
            if existing:
                raise entity_exists()
            created = await raida.create_task(
                node,
                task_process,
                {
                    "title": "",
                    "description": "",
                    "author": None,
                    "assignee": None,
                    "status_id": cfg["task_status_id.new"],
                    "custom_fields": {
                        "cf_konkurs_link": "",
                        "cf_award": "",
                        "cf_brief": "",
                        "cf_startdate": "",
                        "cf_konkurs_category": "",
                        "cf_konkurs_id": contest_id,
                        "cf_userid": caller.user_id,
                    },
                },
            )
            task_id = created["id"]
            await settle_join_race(raida, node, mine, task_id, cfg)
        data = {
            "task_id": task_id,
            "status": NEW_TASK_STATUS_NAME,
            "contest_id": contest_id,
            "user_id": caller.user_id,
        }
        return ok_data(MSG_JOINED, data, status=201)

    # 9 --------------------------------------------------------------------------------------

    async def _own_task(
        self, raida: RaidaClient, node: str, task_id: str, caller: Caller, cfg: ConfigSet
    ) -> dict[str, Any] | None:
        """The caller's own application, or None (unknown, another process, another user)."""
        task = await raida.get_task(node, task_id)
        if task is None or process_id(task) != cfg["task_process_id.value"]:
            return None
        owner = custom_fields(task).get("cf_userid")
        if not isinstance(owner, str) or same_id(owner.strip()) != caller.user_id:
            return None
        return task

    async def quit(self, request: Request) -> Response:
        raida = raida_of(request)
        task_id = str(request.path_params["task_id"])
        caller = self.caller(request)
        cfg = await self.config(request, caller, need.QUIT)
        node = cfg["node_id.value"]
        async with self.task_locks.hold(task_id):
            task = await self._own_task(raida, node, task_id, caller, cfg)
            state = status_id(task) if task else None
            if state == cfg["task_status_id.completed"]:
                raise task_completed(409)
            if state not in (cfg["task_status_id.new"], cfg["task_status_id.approved"]):
                raise ApiError(404, *messages.APPLICATION_NOT_FOUND)
            await raida.patch_task(node, task_id, {"status_id": cfg["task_status_id.rejection"]})
        return ok(MSG_QUIT)

    # 10 -------------------------------------------------------------------------------------

    async def send_solution(self, request: Request) -> Response:
        raida = raida_of(request)
        caller = self.caller(request)
        submitted, form = await forms.solution(request, max_upload_bytes=self.max_upload_bytes)
        try:
            cfg = await self.config(request, caller, need.SEND_SOLUTION)
            node = cfg["node_id.value"]
            # The lock serialises sends (and quits) of one application in this instance; the
            # claim in `Submission` settles races between instances (see submission.py).
            async with self.task_locks.hold(submitted.task_id):
                task = await self._own_task(raida, node, submitted.task_id, caller, cfg)
                state = status_id(task) if task else None
                if state == cfg["task_status_id.completed"]:
                    raise task_completed()
                if task is None or state not in (
                    cfg["task_status_id.new"],
                    cfg["task_status_id.approved"],
                ):
                    raise ApiError(404, *messages.TASK_DOES_NOT_EXIST)
                sending = Submission(
                    raida,
                    node,
                    task,
                    submitted,
                    completed=cfg["task_status_id.completed"],
                    lease=self.claim_lease,
                )
                try:
                    await sending.run()
                except ClaimLost:
                    raise task_completed() from None
        finally:
            if form is not None:
                await form.close()
        return ok(MSG_SENT)

    # routing --------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("/contests/active", self.active, methods=["GET"]),
            Route("/contests/archive", self.archive, methods=["GET"]),
            Route("/contests/user/my/tasks", self.my_tasks, methods=["GET"]),
            Route("/contests/user/my/history", self.my_history, methods=["GET"]),
            Route("/contests/user/my/task", self.join, methods=["POST"]),
            Route("/contests/user/my/task/send_solution", self.send_solution, methods=["POST"]),
            Route("/contests/user/my/task/{task_id:uuid}", self.quit, methods=["DELETE"]),
            Route("/contests/user/{user_id:uuid}/history", self.user_history, methods=["GET"]),
            Route("/contests/{contest_id:uuid}/task", self.contest_tasks, methods=["GET"]),
            Route("/contests/{contest_id:uuid}", self.details, methods=["GET"]),
        ]
