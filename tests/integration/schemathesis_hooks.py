"""Schemathesis hooks for the fuzzing run (loaded through `SCHEMATHESIS_HOOKS`).

An `Idempotency-Key` names one request: a real client never sends the same key with two
different requests, and the services answer such a reuse with 422 `IDEMPOTENCY_KEY_REUSED`
by design. Generated keys repeat across cases (the generator reuses small values), so each
call gets a fresh key; everything else is sent as generated.

Except in the coverage cases that leave a header out: an edit in `before_call` makes
schemathesis revalidate the case, and a case without its bearer token passes the parameter
schemas, so it would be re-marked valid and sent with the token after all (then checked as if
the token were missing). Those cases keep their generated key.
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis
from schemathesis.generation.meta import CoveragePhaseData, CoverageScenario


def leaves_out_a_header(case: Any) -> bool:
    data = case.meta.phase.data if case.meta is not None else None
    return (
        isinstance(data, CoveragePhaseData)
        and data.scenario == CoverageScenario.MISSING_PARAMETER
        and data.parameter_location is not None
        and data.parameter_location.value == "header"
    )


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if case.headers and "Idempotency-Key" in case.headers and not leaves_out_a_header(case):
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
