"""Schemathesis hooks for the fuzzing run (loaded through `SCHEMATHESIS_HOOKS`).

An `Idempotency-Key` names one request: a real client never sends the same key with two
different requests, and the services answer such a reuse with 422 `IDEMPOTENCY_KEY_REUSED`
by design. Generated keys repeat across cases (the generator reuses small values), so each
call gets a fresh key; everything else is sent as generated.
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
