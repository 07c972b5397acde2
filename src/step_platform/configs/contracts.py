"""Consumer contracts: a write that would break a registered consumer is refused.

A consumer (step, say) registers the JSON Schema of each config type it reads
(`consumers.py`). Before a write reaches the registry, the configs service works out what the
write makes of the layered view at the request's level — the config set a read with the same
Project-ID and Account-ID would return — and checks the changed type against every consumer
that reads it:

* POST / PUT / PATCH at a level: the type's value in that view becomes the new data (the
  written row is the one the view serves: an account row beats the project row);
* DELETE at the account level: the view falls back to the project row, if there is one;
* DELETE at the project level: the type is gone from the view.

Accounts that override the type keep their own row and are not affected; those that do not
see exactly what the project-level view shows, so checking that view covers them.

A breaking write is 422 `BREAKS_CONSUMER` with one entry per (consumer, type) naming the
dotted paths that would break, as the consumer itself would report them. An emergency
override exists: the header `X-Consumer-Override: <reason>` with a token holding the override
role (`CONFIGS_OVERRIDE_ROLE`); the write goes through, is logged as a warning and is recorded
in the row's `meta.consumer_override` (who, when, why, what it broke). The role is checked when
the override is used, i.e. when the write would break a consumer (403 without it): a write
that breaks nothing needs no override, and one aimed at a missing config stays a 404.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from ..core.auth import Principal, forbidden
from ..core.errors import ApiError
from ..core.json_schema import MISSING, error_paths
from .consumers import Consumer
from .resolution import PROJECT, level_of, pick

OVERRIDE_HEADER = "x-consumer-override"
MAX_REASON = 500
MSG_BREAKS = "Изменение нарушает контракт потребителя конфигов: {names}."
MSG_REASON = f"Заголовок X-Consumer-Override должен содержать причину (до {MAX_REASON} символов)."

log = logging.getLogger("step_platform.configs.contracts")


@dataclass(frozen=True)
class Violation:
    """One consumer that could not read one type any more, and where exactly."""

    consumer: str
    type: str
    paths: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"consumer": self.consumer, "type": self.type, "paths": list(self.paths)}


def violations(consumers: Iterable[Consumer], view: Mapping[str, Any]) -> list[Violation]:
    """Every (consumer, type) that `view` (type -> value, or MISSING) breaks.

    Only the types in `view` are checked: those are the ones the write changes.
    """
    found = []
    for consumer in sorted(consumers, key=lambda c: c.name):
        for type_name, value in view.items():
            validator = consumer.validator(type_name)
            if validator is None:
                continue
            paths = error_paths(validator, type_name, value)
            if paths:
                found.append(Violation(consumer.name, type_name, tuple(paths)))
    return found


def breaks_consumer(found: list[Violation]) -> ApiError:
    names = ", ".join(dict.fromkeys(f"{v.consumer} ({v.type})" for v in found))
    return ApiError(
        422,
        "BREAKS_CONSUMER",
        MSG_BREAKS.format(names=names),
        violations=[v.as_json() for v in found],
    )


@dataclass(frozen=True)
class Override:
    """An emergency override asked for; `allowed` when the principal holds the override role."""

    user_id: str
    reason: str
    allowed: bool = True


def requested_override(request: Request, principal: Principal, role: str) -> Override | None:
    """The override this request asks for; its reason is checked before anything else (400).

    Whether the principal may use it (the role; an empty role setting disables overrides
    altogether) is decided by `enforce`, when a write would need it.
    """
    raw = request.headers.get(OVERRIDE_HEADER)
    if raw is None:
        return None
    reason = raw.strip()
    if not reason or len(reason) > MAX_REASON:
        raise ApiError(400, "BAD_REQUEST", MSG_REASON, fields={"X-Consumer-Override": [MSG_REASON]})
    return Override(principal.user_id, reason, allowed=bool(role) and role in principal.roles)


def enforce(
    found: list[Violation], override: Override | None, *, where: str
) -> dict[str, Any] | None:
    """Refuse a breaking write (422; 403 when its override is not allowed), or let an
    overridden one through and say what to record in the row's meta (None when nothing was
    overridden)."""
    if not found:
        return None
    if override is None:
        raise breaks_consumer(found)
    if not override.allowed:
        raise forbidden()
    record = {
        "by": override.user_id,
        "at": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        "reason": override.reason,
        "violations": [v.as_json() for v in found],
    }
    log.warning(
        "consumer contract overridden at %s by %s (%s): %s",
        where,
        override.user_id,
        override.reason,
        "; ".join(f"{v.consumer} {v.type} {','.join(v.paths)}" for v in found),
    )
    return {"consumer_override": record}


def after_delete(
    rows: Iterable[Mapping[str, Any]], account_id: str | None, object_type: str
) -> Any:
    """The type's value in the view once its row at the headers' level is deactivated: the
    project row's data under an account (if there is one), else MISSING."""
    if account_id is None:
        return MISSING
    below = [r for r in rows if level_of(r, account_id) == PROJECT]
    winner = pick(below, account_id).get(object_type)
    return MISSING if winner is None else winner[0].get("data")
