"""Positional SQL parameters: every user value becomes `$n`, never text in the SQL."""

from __future__ import annotations

import re
from typing import Any

_PLACEHOLDER = re.compile(r"\$(\d+)")


def shifted(sql: str, by: int) -> str:
    """`sql` with its `$n` placeholders renumbered `$(n + by)`, to follow `by` other values in
    one statement. For SQL compiled with `Params`: values never appear in its text, so every
    `$` in it is a placeholder."""
    return _PLACEHOLDER.sub(lambda m: f"${int(m.group(1)) + by}", sql)


class Params:
    """Collects values and hands out their `$n` placeholders, cast to a Postgres type."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def add(self, value: Any, cast: str) -> str:
        self.values.append(value)
        return f"CAST(${len(self.values)} AS {cast})"
