"""Positional SQL parameters: every user value becomes `$n`, never text in the SQL."""

from __future__ import annotations

from typing import Any


class Params:
    """Collects values and hands out their `$n` placeholders, cast to a Postgres type."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def add(self, value: Any, cast: str) -> str:
        self.values.append(value)
        return f"CAST(${len(self.values)} AS {cast})"
