"""Schemathesis hooks for the fuzzing run (loaded through `SCHEMATHESIS_HOOKS`).

An `Idempotency-Key` names one request: a real client never sends the same key with two
different requests, and the services answer such a reuse with 422 `IDEMPOTENCY_KEY_REUSED`
by design. Generated keys repeat across cases (the generator reuses small values), so each
call gets a fresh key; everything else is sent as generated. A key the documents call invalid
(`core.hardening_docs.IDEMPOTENCY_KEY`: 1-255 visible ASCII characters) is negative test data
and is sent as generated too.

The key is replaced in the outgoing request, not in the case: schemathesis revalidates a case
a hook edits, and a revalidated negative case stops being negative — a case that leaves out
`Authorization` would then be sent with the run's token and judged as if it had none.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import requests
import schemathesis

VALID_KEY = re.compile(r"[!-~]{1,255}")


class FreshIdempotencyKey(requests.auth.AuthBase):
    """Applied by `requests` to the prepared request, after every header is in place."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        key = request.headers.get("Idempotency-Key")
        if isinstance(key, str) and VALID_KEY.fullmatch(key):
            request.headers["Idempotency-Key"] = uuid.uuid4().hex
        return request


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    kwargs["auth"] = FreshIdempotencyKey()
