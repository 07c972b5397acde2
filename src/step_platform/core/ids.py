"""UUIDs as every service reads and renders them: one parser, two spellings it accepts.

* lenient (the default): any text `uuid.UUID` reads — upper case, no hyphens, braces,
  `urn:uuid:`, surrounding spaces — because the originals' clients send ids in all of these;
* `hyphenated=True`: only the 36-character hyphenated form (any case), for values that go into
  Raida's RQL or come from a config set, where one id must have exactly one spelling.

Everything is rendered lowercase and hyphenated.
"""

from __future__ import annotations

import re
import uuid
from functools import lru_cache
from typing import Any

_HYPHENATED = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def parse_uuid(value: Any, *, hyphenated: bool = False) -> uuid.UUID | None:
    """The UUID `value` spells, or `None` (non-strings included)."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        return None
    if hyphenated:
        return uuid.UUID(value) if _HYPHENATED.match(value) else None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def canonical_uuid(value: Any, *, hyphenated: bool = False) -> str | None:
    """`parse_uuid` rendered as canonical text (lowercase, hyphenated), or `None`."""
    if isinstance(value, str):
        return _canonical_text(value, hyphenated)
    parsed = parse_uuid(value, hyphenated=hyphenated)
    return None if parsed is None else str(parsed)


@lru_cache(maxsize=8192)
def _canonical_text(value: str, hyphenated: bool) -> str | None:
    # Cached: raida-mock compares every stored id of a search this way (a quarter of a search
    # over 1,000 tasks went to parsing the same UUIDs again).
    parsed = parse_uuid(value, hyphenated=hyphenated)
    return None if parsed is None else str(parsed)


def is_uuid(value: Any, *, hyphenated: bool = False) -> bool:
    return parse_uuid(value, hyphenated=hyphenated) is not None
