"""JSON Merge Patch (RFC 7396), used by `PATCH /configs/{type}/`.

The registry's own PATCH merges only top-level keys and cannot remove one, so the service
computes the merged document itself and stores it whole.
"""

from __future__ import annotations

from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 section 2: objects merge recursively, `null` removes a key, the rest replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
