"""UUIDs as every service renders them: lowercase, hyphenated, whatever spelling came in."""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any


def canonical_uuid(value: Any) -> str | None:
    """Any text `uuid.UUID` reads (upper case, no hyphens, braces, `urn:uuid:`) as canonical
    text; `None` for anything else (non-strings included)."""
    if not isinstance(value, str):
        return None
    return _canonical_text(value)


@lru_cache(maxsize=8192)
def _canonical_text(value: str) -> str | None:
    # Cached: raida-mock compares every stored id of a search this way (a quarter of a search
    # over 1,000 tasks went to parsing the same UUIDs again).
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None
