"""The seed's section 8: the demo project's config set, shared by the demo, the simulators,
tests and benchmarks.

It lives outside every service and outside devstack so that raida-mock (whose fixture is built on
the same ids) and devstack can both use it without crossing the import layers
(`make lint` checks them).
"""

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
