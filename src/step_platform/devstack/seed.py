"""The seed's section 8: the demo project's config set, shared by demo, tests and benchmarks."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

DEMO_PROJECT_ID = "e3eb60a2-3bb7-4983-8e2f-47490b979eb9"


@lru_cache(maxsize=1)
def _raw() -> str:
    return resources.files(__package__).joinpath("seed_configs.json").read_text(encoding="utf-8")


def seed_config_set() -> dict[str, Any]:
    """A fresh copy of the config set of seed section 8 (type -> data)."""
    return json.loads(_raw())


def config_object_code(project_id: str, account_id: str | None, object_type: str) -> str:
    """`{project}:{account or empty}:{type}`, the original configs service's object_code."""
    return f"{project_id}:{account_id or ''}:{object_type}"
