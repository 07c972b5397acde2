"""UUIDs as every service renders them: lowercase, hyphenated, whatever spelling came in."""

from __future__ import annotations

import uuid
from typing import Any


def canonical_uuid(value: Any) -> str | None:
    """Any text `uuid.UUID` reads (upper case, no hyphens, braces, `urn:uuid:`) as canonical
    text; `None` for anything else (non-strings included)."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None
