"""Join arbitration: several instances (or requests) may create an application for the same
user and contest at once. After creating, the join re-reads the live applications; the oldest
wins, the other new ones are withdrawn, and a loser answers 409 (routes.py, `join`)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from ..core.tasks import gather
from .config_format import ConfigSet
from .envelopes import entity_exists
from .presenters import same_id, status_id
from .raida_client import RaidaClient

log = logging.getLogger("step_platform.contests")


def _created(task: dict[str, Any]) -> datetime:
    value = task.get("created_at")
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return datetime.max.replace(tzinfo=UTC)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.max.replace(tzinfo=UTC)


def oldest(tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """The task that wins a join race: earliest `created_at`, then Raida's (creation) order."""
    return min(enumerate(tasks), key=lambda pair: (_created(pair[1]), pair[0]))[1]


async def settle_join_race(
    raida: RaidaClient, node: str, mine: str, task_id: str, cfg: ConfigSet
) -> None:
    """Keep the oldest live application; withdraw the other new ones; 409 if ours lost."""
    live = await raida.search(node, mine)
    if not live:
        return
    winner = oldest(live)
    if same_id(str(winner.get("id"))) == same_id(task_id):
        return
    new = cfg["task_status_id.new"]
    losers = {same_id(task_id)} | {
        same_id(t["id"])
        for t in live
        if t is not winner and isinstance(t.get("id"), str) and status_id(t) == new
    }
    log.warning("join race: keeping %s, withdrawing %s", winner.get("id"), sorted(losers))
    reject = {"status_id": cfg["task_status_id.rejection"]}
    await gather(*(raida.patch_task(node, loser, reject) for loser in sorted(losers)))
    raise entity_exists()
