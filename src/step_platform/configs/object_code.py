"""The `object_code` the configs service gives the rows it creates."""

from __future__ import annotations


def config_object_code(project_id: str, account_id: str | None, object_type: str) -> str:
    """`{project}:{account or empty}:{type}`, the original configs service's object_code.

    The registry's unique index on `object_code` is what makes "one active row per type and
    level" hold under concurrent POSTs, so every writer must build the code the same way.
    """
    return f"{project_id}:{account_id or ''}:{object_type}"
