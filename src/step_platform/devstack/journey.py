"""A user's journey through nginx: what `step-platform demo --check` and the tests run.

A fresh user (new id each run) lists the active contests, joins one, sees it in "my tasks",
sends a solution with a file, quits a second contest, and - once the first contest is moved to
`done` through raida-mock's own Raida API, as Raida's operators would - finds it in "my
history". The two contests are made for the run through that same API and retired (status
`rejection`) at the end, so the demo's seed data stays as it was however often it runs.

Every step goes through nginx with the Host header a browser would send, so host routing,
the request id and the body limit are part of what is checked.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..seed import seed_config_set
from .simulators import RaidaAdmin


class StepFailed(Exception):
    """One step of the journey did not do what a user expects; the message says what."""


@dataclass
class StepResult:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Target:
    """Where the journey runs: nginx's address, the two Host names, and the helpers' URLs."""

    edge_url: str
    step_host: str
    configs_host: str
    project_id: str
    raida: RaidaAdmin
    token_for: Callable[[str], str]  # user id -> access token


@dataclass
class Journey:
    target: Target
    user_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    results: list[StepResult] = field(default_factory=list)
    _made: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ids = seed_config_set()
        self.node = self.ids["node_id"]["value"]

    # --- plumbing ------------------------------------------------------------------------

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        try:
            yield
        except StepFailed as exc:
            self.results.append(StepResult(name, False, str(exc)))
            raise
        except httpx.HTTPError as exc:
            self.results.append(StepResult(name, False, f"{type(exc).__name__}: {exc}"))
            raise StepFailed(name) from None
        except (KeyError, TypeError, AttributeError) as exc:  # an answer of the wrong shape
            self.results.append(StepResult(name, False, f"unexpected answer ({exc!r})"))
            raise StepFailed(name) from None
        self.results.append(StepResult(name, True))

    def _client(self, host: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.target.edge_url,
            headers={
                "Host": host,
                "Authorization": f"Bearer {self.token}",
                "Project-ID": self.target.project_id,
            },
            timeout=30.0,
            trust_env=False,
        )

    @staticmethod
    def _expect(response: httpx.Response, status: int, what: str) -> Any:
        if response.status_code != status:
            raise StepFailed(
                f"{what}: expected {status}, got {response.status_code} {response.text[:300]}"
            )
        try:
            return response.json()
        except ValueError:
            raise StepFailed(f"{what}: the answer is not JSON: {response.text[:200]}") from None

    def _my_tasks(self, step: httpx.Client) -> dict[str, dict[str, Any]]:
        body = self._expect(step.get("/contests/user/my/tasks/"), 200, "my tasks")
        return {item["id"]: item for item in body["data"]}

    # --- raida-mock as the operator ------------------------------------------------------

    def _make_contest(self, title: str) -> str:
        deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(days=14)).strftime("%Y-%m-%dT00:00:00Z")
        contest = self.target.raida.create_task(
            self.node,
            self.ids["contest_process_id"]["value"],
            {
                "title": title,
                "description": "A contest made by `step-platform demo --check`.",
                "author": None,
                "assignee": None,
                "status_id": self.ids["contest_status_id"]["acceptance_works"],
                "custom_fields": {
                    "cf_deadline": deadline,
                    "cf_award": "check",
                    "cf_brief": "check",
                    "cf_profession": "check",
                    "cf_projects": "check",
                    "cf_konkurs_category": "check",
                },
            },
        )
        self._made.append(contest["id"])
        return str(contest["id"])

    def _set_contest_status(self, contest_id: str, status: str) -> None:
        self.target.raida.patch_task(
            self.node, contest_id, {"status_id": self.ids["contest_status_id"][status]}
        )

    # --- the journey -----------------------------------------------------------------------

    def run(self) -> list[StepResult]:
        try:
            self._run()
        except StepFailed:
            pass
        finally:
            for contest_id in self._made:  # retire the run's contests whatever happened
                try:
                    self._set_contest_status(contest_id, "rejection")
                except httpx.HTTPError:
                    self.results.append(
                        StepResult("retire the check's contests", False, contest_id)
                    )
        return self.results

    def _run(self) -> None:
        short = self.user_id[:8]
        with self.step("prepare two contests in raida-mock"):
            first = self._make_contest(f"Check {short}: solution")
            second = self._make_contest(f"Check {short}: quit")
        with self.step(f"token for a fresh user {self.user_id}"):
            self.token = self.target.token_for(self.user_id)
        step = self._client(self.target.step_host)
        configs = self._client(self.target.configs_host)
        with step, configs:
            with self.step("read the project's configs (cfg host -> configs)"):
                body = self._expect(configs.get("/configs/node_id/"), 200, "configs")
                if body.get("data", {}).get("node_id") != self.ids["node_id"]:
                    raise StepFailed(f"configs: unexpected data {body.get('data')}")
            with self.step("list active contests"):
                body = self._expect(step.get("/contests/active/"), 200, "active contests")
                listed = {item["id"] for item in body["data"]}
                if not {first, second} <= listed:
                    raise StepFailed("active contests: the new contests are not listed")
            tasks: dict[str, str] = {}
            with self.step("join two contests"):
                for contest_id in (first, second):
                    body = self._expect(
                        step.post("/contests/user/my/task/", json={"contest_id": contest_id}),
                        201,
                        "join",
                    )
                    tasks[contest_id] = body["data"]["task_id"]
            with self.step("see them in my tasks"):
                mine = self._my_tasks(step)
                for contest_id in (first, second):
                    status = mine.get(contest_id, {}).get("application_status", {})
                    if status.get("code") != "TASK_UNCOMPLETED":
                        raise StepFailed(f"my tasks: {contest_id} shows {status or 'nothing'}")
            with self.step("send a solution with a file"):
                self._expect(
                    step.post(
                        "/contests/user/my/task/send_solution",
                        data={
                            "task_id": tasks[first],
                            "solution_link": "https://example.org/solution",
                            "comments": "sent by the check",
                        },
                        files={"solution_file": ("solution.txt", b"print('hello')\n")},
                    ),
                    200,
                    "send solution",
                )
            with self.step("quit the other contest"):
                self._expect(step.delete(f"/contests/user/my/task/{tasks[second]}/"), 200, "quit")
            with self.step("my tasks: solution sent, quit contest gone"):
                mine = self._my_tasks(step)
                status = mine.get(first, {}).get("application_status", {})
                if status.get("code") != "TASK_COMPLETED":
                    raise StepFailed(f"my tasks: the solved contest shows {status or 'nothing'}")
                if second in mine:
                    raise StepFailed("my tasks: the quit contest is still listed")
            with self.step("raida-mock moves the contest to done"):
                self._set_contest_status(first, "done")
            with self.step("see it in my history, with the file"):
                body = self._expect(step.get("/contests/user/my/history/"), 200, "history")
                item = next((i for i in body["data"] if i["id"] == first), None)
                if item is None:
                    raise StepFailed("history: the finished contest is not listed")
                if item.get("solution_link") != "https://example.org/solution":
                    raise StepFailed(f"history: solution_link is {item.get('solution_link')!r}")
                attachment = item.get("attachments") or {}
                if not str(attachment.get("name", "")).endswith("solution.txt"):
                    raise StepFailed(f"history: attachment is {attachment or 'missing'}")


def run_journey(target: Target) -> list[StepResult]:
    return Journey(target).run()


def report(results: list[StepResult]) -> tuple[bool, str]:
    """(all passed, one line per step) for printing."""
    lines = [
        f"  {'ok ' if r.ok else 'FAIL'} {r.name}" + (f": {r.detail}" if r.detail else "")
        for r in results
    ]
    return bool(results) and all(r.ok for r in results), "\n".join(lines)
