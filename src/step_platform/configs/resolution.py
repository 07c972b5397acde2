"""Layered resolution: which registry row supplies each config type.

The original folds the registry's newest-first list "last wins", so with duplicates the oldest
row wins, and an Account-ID hides every project-level default. Here the rule is explicit
: for each type an account-level row beats the project-level one; among rows of
the same level the higher `meta.internal_id` (the newer row) wins, then the later
`modified_date`, then the id — so the answer never depends on the order rows arrive in.
Rows that are inactive, of another account or of a type that was not asked for are ignored
(the registry query already excludes them; this keeps the rule true on its own).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ACCOUNT = "account"
PROJECT = "project"


@dataclass(frozen=True)
class ConfigSet:
    """The resolved answer: type -> data, the level each came from, and what was not found."""

    data: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()


def level_of(row: Mapping[str, Any], account_id: str | None) -> str | None:
    """`account`, `project`, or None for a row that does not belong to this context."""
    row_account = row.get("account_id")
    if row_account is None:
        return PROJECT
    if account_id is not None and str(row_account).lower() == account_id:
        return ACCOUNT
    return None


def internal_id(row: Mapping[str, Any]) -> int:
    meta = row.get("meta")
    value = meta.get("internal_id") if isinstance(meta, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def is_active(row: Mapping[str, Any]) -> bool:
    meta = row.get("meta")
    status = meta.get("status", "active") if isinstance(meta, Mapping) else "active"
    return isinstance(status, str) and status.lower() == "active"


def precedence(row: Mapping[str, Any], level: str) -> tuple[int, int, str, str]:
    """Sort key: larger wins."""
    return (
        1 if level == ACCOUNT else 0,
        internal_id(row),
        str(row.get("modified_date") or ""),
        str(row.get("id") or ""),
    )


def pick(
    rows: Iterable[Mapping[str, Any]], account_id: str | None
) -> dict[str, tuple[Mapping[str, Any], str]]:
    """The winning row and its level for each type present in `rows`."""
    best: dict[str, tuple[tuple[int, int, str, str], Mapping[str, Any], str]] = {}
    for row in rows:
        object_type = row.get("object_type")
        level = level_of(row, account_id)
        if not isinstance(object_type, str) or level is None or not is_active(row):
            continue
        key = precedence(row, level)
        current = best.get(object_type)
        if current is None or key > current[0]:
            best[object_type] = (key, row, level)
    return {t: (row, level) for t, (_, row, level) in best.items()}


def resolve(
    rows: Iterable[Mapping[str, Any]],
    account_id: str | None,
    requested: Sequence[str] | None = None,
) -> ConfigSet:
    """Fold registry rows into one config set.

    `requested` None means "every type": the answer is ordered by type name. Otherwise the
    answer follows the requested order and names the requested types that were not found.
    """
    winners = pick(rows, account_id)
    names = sorted(winners) if requested is None else [t for t in requested if t in winners]
    missing = () if requested is None else tuple(t for t in requested if t not in winners)
    return ConfigSet(
        data={t: winners[t][0].get("data") for t in names},
        sources={t: winners[t][1] for t in names},
        missing=missing,
    )
