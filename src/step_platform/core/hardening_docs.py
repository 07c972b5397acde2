"""The hardening every service shares, written into its OpenAPI document once: the cost caps
(core/limits.py) on every operation's 400, and the `Idempotency-Key` header (with its 422)
on the operations that take it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from .limits import LIMITS

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
LIMIT_NOTE = (
    " A request over a cost cap is 400 `LIMIT_EXCEEDED` with `detail.limit` (the cap's name, "
    "listed with its value under `x-cost-caps`) and `detail.max`."
)
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "1-255 visible ASCII characters. The same key and request within 24 h "
    "replays the first answer (header `Idempotent-Replayed: true`) without writing again; the "
    "same key with another request is 422 `IDEMPOTENCY_KEY_REUSED`. 5xx answers are not kept.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}
KEY_REUSED = {"description": "`IDEMPOTENCY_KEY_REUSED`: the key was used with another request."}


def with_hardening(
    document: Callable[[], dict[str, Any]], *, idempotent: Callable[[str, str], bool]
) -> Callable[[], dict[str, Any]]:
    """`document` plus the caps and, where `idempotent(METHOD, path)`, the key header."""

    def build() -> dict[str, Any]:
        doc = copy.deepcopy(document())  # the builders may share parts between calls
        doc["x-cost-caps"] = asdict(LIMITS)  # the caps by name, as `detail.limit` names them
        for path, item in doc.get("paths", {}).items():
            for method in METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                responses = op.setdefault("responses", {})
                bad = responses.setdefault("400", {"description": "Bad request."})
                if "$ref" not in bad:
                    bad["description"] = bad.get("description", "") + LIMIT_NOTE
                if idempotent(method.upper(), path.rstrip("/") or "/"):
                    op.setdefault("parameters", []).append(dict(IDEMPOTENCY_KEY))
                    responses.setdefault("422", dict(KEY_REUSED))
        return doc

    return build


def writes(method: str, path: str) -> bool:
    return method in ("POST", "PUT", "PATCH", "DELETE")
