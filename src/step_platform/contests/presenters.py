"""Raida task objects -> the response items of the step API.

Field names and order are the original's. Unlike the original, which
crashed on an empty description, a null `custom_fields` or a missing `cf_*` key in contest
details, these mappings are total: a value Raida did not send is null.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo
from typing import Any

from ..core.ids import canonical_uuid
from .dates import format_a, format_b

TASK_COMPLETED = {"code": "TASK_COMPLETED", "message": "Решение отправлено"}
TASK_UNCOMPLETED = {"code": "TASK_UNCOMPLETED", "message": "Решение не отправлено"}
TASK_DOES_NOT_EXIST = {"code": "TASK_DOES_NOT_EXIST", "message": "Нет заявки на участие"}


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def custom_fields(task: dict[str, Any]) -> dict[str, Any]:
    return _obj(task.get("custom_fields"))


def status_id(task: dict[str, Any]) -> str | None:
    value = _obj(task.get("status")).get("id")
    return same_id(value) if isinstance(value, str) else None


def process_id(task: dict[str, Any]) -> str | None:
    value = _obj(task.get("process")).get("id")
    return same_id(value) if isinstance(value, str) else None


def same_id(value: str) -> str:
    """A Raida id in the form configs and RQL use (lowercase); non-UUIDs unchanged."""
    return canonical_uuid(value, hyphenated=True) or value


def _text(value: Any) -> Any:
    # Route 3 printed numbers given for string fields as strings.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def contest_item(task: dict[str, Any], tz: tzinfo) -> dict[str, Any]:
    """Routes 1, 2 and 5: the eleven contest-list fields."""
    cf = custom_fields(task)
    status = _obj(task.get("status"))
    return {
        "id": task.get("id"),
        "title": task.get("title"),
        "description": task.get("description"),
        "status_id": status.get("id"),
        "status_name": status.get("name"),
        "deadline": format_a(cf.get("cf_deadline"), tz),
        "award": cf.get("cf_award"),
        "brief": cf.get("cf_brief"),
        "profession": cf.get("cf_profession"),
        "projects": cf.get("cf_projects"),
        "konkurs_category": cf.get("cf_konkurs_category"),
    }


def contest_task_item(task: dict[str, Any], tz: tzinfo) -> dict[str, Any]:
    """Route 4: the contest-list fields without `profession`."""
    item = contest_item(task, tz)
    del item["profession"]
    return item


def application_status(task: dict[str, Any], completed: str) -> dict[str, Any]:
    """My tasks: the original's `{code, message}` plus `application_id` and `solution_link`."""
    state = TASK_COMPLETED if status_id(task) == completed else TASK_UNCOMPLETED
    return {
        **state,
        "application_id": task.get("id"),
        "solution_link": custom_fields(task).get("solution_link"),
    }


def my_task_item(
    contest: dict[str, Any], task: dict[str, Any], completed: str, tz: tzinfo
) -> dict[str, Any]:
    return {**contest_item(contest, tz), "application_status": application_status(task, completed)}


def _attachment_brief(items: Any) -> list[dict[str, Any]] | None:
    if not isinstance(items, list):
        return None
    return [{"id": a.get("id"), "name": a.get("name")} for a in items if isinstance(a, dict)]


def first_attachment(items: Any) -> dict[str, Any] | None:
    if not isinstance(items, list):
        return None
    for a in items:
        if isinstance(a, dict):
            return {
                "id": a.get("id"),
                "name": a.get("name"),
                "url": a.get("url"),
                "content_type": a.get("content_type"),
            }
    return None


def contest_details(
    contest: dict[str, Any],
    user_task: dict[str, Any] | None,
    completed: str,
    tz: tzinfo,
) -> dict[str, Any]:
    """Route 3: one contest and the caller's application state."""
    cf = custom_fields(contest)
    status = _obj(contest.get("status"))
    contest_id = contest.get("id")
    if user_task is None:
        task_id, state = None, TASK_DOES_NOT_EXIST
    else:
        task_id = user_task.get("id")
        state = TASK_COMPLETED if status_id(user_task) == completed else TASK_UNCOMPLETED
    return {
        "id": same_id(contest_id) if isinstance(contest_id, str) else contest_id,
        "title": _text(contest.get("title")),
        "description": _text(contest.get("description")),
        "created_at": format_a(contest.get("created_at"), tz),
        "status_id": status_id(contest),
        "status_name": _text(status.get("name")),
        "deadline": format_a(cf.get("cf_deadline"), tz),
        "award": _text(cf.get("cf_award")),
        "profession": _text(cf.get("cf_profession")),
        "category": _text(cf.get("cf_konkurs_category")),
        "attachments": _attachment_brief(contest.get("attachments")),
        "user_task_id": task_id,
        "user_task_status": dict(state),
    }


def history_item(contest: dict[str, Any], task: dict[str, Any], tz: tzinfo) -> dict[str, Any]:
    """Routes 6 and 7: a finished contest and the user's submitted application."""
    cf = custom_fields(contest)
    return {
        "id": contest.get("id"),
        "title": contest.get("title"),
        "created_at": format_b(contest.get("created_at"), tz),
        "deadline": format_b(cf.get("cf_deadline"), tz),
        "solution_link": custom_fields(task).get("solution_link"),
        "attachments": first_attachment(task.get("attachments")),
    }


def first_by_contest(tasks: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The first application (Raida's order) per contest id: the in-memory join."""
    found: dict[str, dict[str, Any]] = {}
    for task in tasks:
        contest_id = custom_fields(task).get("cf_konkurs_id")
        if isinstance(contest_id, str):
            found.setdefault(same_id(contest_id), task)
    return found


def contest_key(contest: dict[str, Any]) -> str | None:
    value = contest.get("id")
    return same_id(value) if isinstance(value, str) else None


def with_application(
    contests: Iterable[dict[str, Any]], tasks: Iterable[dict[str, Any]]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each contest the applications name, in the contests' order, with its first one."""
    by_contest = first_by_contest(tasks)
    return [(c, by_contest[key]) for c in contests if (key := contest_key(c)) in by_contest]
