"""Fixtures: the documents a raida-mock state is loaded from.

Format (JSON)::

    {"nodes": [{"id": "<uuid>", "name": "...",
                "processes": [{"id": "<uuid>", "name": "...",
                               "statuses": [{"id": "<uuid>", "name": "Новая"}, ...]}, ...],
                "tasks": [{"id": "<uuid>", "process_id": "<uuid>", "status_id": "<uuid>",
                           "title": "...", "description": "...", "created_at": "...",
                           "custom_fields": {...}, "author": null, "assignee": null,
                           "attachments": [{"id": "<uuid>", "name": "<uuid>-cat.jpg",
                                            "content_type": "image/jpeg",
                                            "content": "text" | "content_base64": "..."}]}]}]}

A status id may appear in several processes (the seed's rejection status does). Dates can be
relative so a fixture never goes stale: in `created_at` and in custom-field values, the
strings `$now`, `$today`, `$date` with an optional `+N`/`-N` and a unit `d`, `h`, `m` or `s`
become, at load time, the ISO instant (`2025-03-01T10:15:00.000Z`), midnight UTC of that day
(`2025-03-01T00:00:00.000Z`) or the bare date (`2025-03-01`).

`build_fixture` makes large fixtures for tests and benchmarks from the seed's ids.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from step_platform.seed import seed_config_set

from .store import FixtureError, now_iso

DEMO_USER_ID = "2098611d-32e2-4d8f-acea-76570af65843"
SUPER_CONTEST_ID = "e2ccc043-2558-4bd1-872e-4df6cf7b5256"

CONTEST_STATUS_NAMES = {
    "new": "Новый",
    "acceptance_works": "Прием работ",
    "acceptance_works_done": "Прием работ окончен",
    "voting": "Голосование",
    "sum_results": "Подведение итогов",
    "done": "Завершен",
    "no_winner": "Победитель не выбран",
    "rejection": "Отказ",
}
TASK_STATUS_NAMES = {
    "new": "Новая",
    "approved": "Одобрена",
    "completed": "Задание выполнено",
    "rejection": "Отказ",
}

_RELATIVE = re.compile(r"^\$(now|today|date)(?:([+-])(\d{1,6})([dhms]))?$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def default_seed() -> dict[str, Any]:
    """The packaged seed (relative dates not yet resolved)."""
    text = resources.files(__package__).joinpath("seed.json").read_text(encoding="utf-8")
    return json.loads(text)


def read_fixture(path: str | Path) -> dict[str, Any]:
    """A fixture file; `FixtureError` names the file when it cannot be read or parsed."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FixtureError(f"cannot read fixture {path}: {exc}") from None
    if not isinstance(data, dict):
        raise FixtureError(f"fixture {path} must be a JSON object")
    return data


def relative_date(value: str, now: datetime) -> str:
    """Resolve one `$now±N<unit>` / `$today…` / `$date…` marker; other strings unchanged."""
    match = _RELATIVE.match(value)
    if not match:
        return value
    base, sign, amount, unit = match.groups()
    moment = now
    if amount:
        delta = timedelta(**{_UNITS[unit]: int(amount)})
        moment = now + delta if sign == "+" else now - delta
    if base == "now":
        return now_iso(moment)
    if base == "today":
        return moment.strftime("%Y-%m-%dT00:00:00.000Z")
    return moment.strftime("%Y-%m-%d")


def resolve(fixture: Any, now: datetime | None = None) -> Any:
    """A copy of `fixture` with relative dates in tasks made absolute (as of `now`)."""
    now = now or datetime.now(UTC)
    doc = copy.deepcopy(fixture)
    if not isinstance(doc, dict) or not isinstance(doc.get("nodes"), list):
        return doc  # the store reports the shape error
    for node in doc["nodes"]:
        tasks = node.get("tasks") if isinstance(node, dict) else None
        for task in tasks if isinstance(tasks, list) else []:
            if not isinstance(task, dict):
                continue
            if isinstance(task.get("created_at"), str):
                task["created_at"] = relative_date(task["created_at"], now)
            custom = task.get("custom_fields")
            if isinstance(custom, dict):
                for key, value in custom.items():
                    if isinstance(value, str):
                        custom[key] = relative_date(value, now)
    return doc


# --- large fixtures --------------------------------------------------------------------------


def seed_node(config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The node with both processes and all statuses of a config set (default: the seed's)."""
    config = config or seed_config_set()
    contest = config["contest_status_id"]
    task = config["task_status_id"]
    return {
        "id": config["node_id"]["value"],
        "name": "Кловери Шаг",
        "processes": [
            {
                "id": config["contest_process_id"]["value"],
                "name": "Конкурсы",
                "statuses": [
                    {"id": contest[key], "name": name} for key, name in CONTEST_STATUS_NAMES.items()
                ],
            },
            {
                "id": config["task_process_id"]["value"],
                "name": "Заявки на участие",
                "statuses": [
                    {"id": task[key], "name": name} for key, name in TASK_STATUS_NAMES.items()
                ],
            },
        ],
        "tasks": [],
    }


def _cycle(value: str | Sequence[str], i: int) -> str:
    return value if isinstance(value, str) else value[i % len(value)]


def build_fixture(
    contests: int = 10,
    *,
    contest_status: str | Sequence[str] = "acceptance_works",
    users: Sequence[str] = (DEMO_USER_ID,),
    application_status: str | Sequence[str] | None = "new",
    other_users: int = 0,
    attachments: bool = True,
    config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A fixture with `contests` contests and applications to each of them.

    * `contest_status` — a contest-status key of the config set (`acceptance_works`, `done`,
      ...) or a sequence cycled over the contests.
    * `users` — each applies to every contest, with `application_status` (a task-status key
      or a sequence cycled over the contests); `None` gives no applications.
    * `other_users` — that many extra random users also apply to every contest (noise).
    * `attachments` — completed applications carry one small text attachment and a
      `solution_link`; contests carry one attachment.

    Ids come from `config` (default: the seed's section 8), so the step service's seed config
    set points at this data. Contest ids are deterministic (`uuid5`) so repeated builds match.
    """
    if contests < 0:
        raise ValueError("contests must be >= 0")
    config = config or seed_config_set()
    node = seed_node(config)
    contest_process = config["contest_process_id"]["value"]
    task_process = config["task_process_id"]["value"]
    applicants = list(users) + [str(uuid.uuid4()) for _ in range(other_users)]
    tasks: list[dict[str, Any]] = node["tasks"]
    applications: list[dict[str, Any]] = []
    for i in range(contests):
        key = _cycle(contest_status, i)
        contest_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"raida-mock/contest/{i}"))
        open_contest = key in ("new", "acceptance_works")
        contest = {
            "id": contest_id,
            "process_id": contest_process,
            "status_id": config["contest_status_id"][key],
            "title": f"Конкурс №{i + 1}",
            "description": f"Описание конкурса №{i + 1}.",
            "created_at": f"$now-{contests - i + 30}d",
            "custom_fields": {
                "cf_deadline": f"$today{'+' if open_contest else '-'}{i % 28 + 1}d",
                "cf_award": f"Приз №{i + 1}",
                "cf_brief": f"Бриф конкурса №{i + 1}.",
                "cf_profession": "Дизайнер",
                "cf_projects": "Кловери Шаг",
                "cf_konkurs_category": "Дизайн",
            },
            "author": None,
            "assignee": None,
            "attachments": [_text_file(f"brief-{i + 1}.txt", f"Бриф конкурса №{i + 1}\n")]
            if attachments
            else [],
        }
        tasks.append(contest)
        if application_status is None:
            continue
        status_key = _cycle(application_status, i)
        for user in applicants:
            custom: dict[str, Any] = {
                "cf_konkurs_link": "",
                "cf_award": "",
                "cf_brief": "",
                "cf_startdate": "",
                "cf_konkurs_category": "",
                "cf_konkurs_id": contest_id,
                "cf_userid": user,
            }
            files = []
            if status_key == "completed":
                custom["solution_link"] = f"https://example.org/solutions/{i + 1}"
                if attachments:
                    files.append(_text_file("solution.txt", f"Решение к конкурсу №{i + 1}\n"))
            applications.append(
                {
                    "id": str(uuid.uuid4()),
                    "process_id": task_process,
                    "status_id": config["task_status_id"][status_key],
                    "title": "",
                    "description": "",
                    "created_at": f"$now-{contests - i}d",
                    "custom_fields": custom,
                    "author": None,
                    "assignee": None,
                    "attachments": files,
                }
            )
    tasks.extend(applications)
    return {"nodes": [node]}


def _text_file(name: str, text: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "name": f"{uuid.uuid4()}-{name}",
        "content_type": "text/plain",
        "content_base64": base64.b64encode(text.encode()).decode(),
    }
