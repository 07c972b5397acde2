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

from step_platform.registry.kinds import KINDS, Kind

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


# --- the configs service's dry run --------------------------------------------------------------

DRY_RUN = "/configs/_validate/"


def contradictory(body: object) -> bool:
    """A dry run that both writes and deactivates one type: the service refuses it (400, as its
    document's description of `deactivate` says), but JSON Schema cannot state that two parts of
    a body are disjoint, so the generator would call it schema-valid."""
    if not isinstance(body, dict):
        return False
    data, deactivate = body.get("data"), body.get("deactivate")
    if not isinstance(data, dict) or not isinstance(deactivate, list):
        return False
    return any(isinstance(name, str) and name in data for name in deactivate)


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    """Such dry runs are not generated at all (a negative one is refused either way)."""
    return not (case.path == DRY_RUN and contradictory(case.body))


# --- the registry's soft delete -----------------------------------------------------------------

REGISTRY = "Registry API"  # the registry document's `info.title`
RECORDS = {f"/api/{kind.singular}/{{id}}/": kind for kind in KINDS}
HISTORIES = {f"/api/{kind.singular}/{{id}}/history/": kind for kind in KINDS}
ROLLBACKS = {f"/api/{kind.singular}/{{id}}/rollback/": kind for kind in KINDS}
COLLECTIONS = {f"/api/{kind.plural}/": kind for kind in KINDS}
READS = {"get", "head", "options"}


def _uuid(value: object) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _record_of(case: Any) -> tuple[Kind, str] | None:
    """(kind, id) of the record a case's path names, None for other paths."""
    path = case.operation.path
    kind = RECORDS.get(path) or HISTORIES.get(path) or ROLLBACKS.get(path)
    if kind is None:
        return None
    record = _uuid((case.path_parameters or {}).get("id"))
    return None if record is None else (kind, record)


def _deactivated(case: Any, response: Any, kind: Kind, record: str) -> bool:
    """Whether this earlier case deactivated the record: a successful DELETE of it, one by one
    or in a bulk DELETE (whose answer lists what it deactivated)."""
    if case.operation.method.lower() != "delete" or not 200 <= response.status_code < 300:
        return False
    path = case.operation.path
    if RECORDS.get(path) is kind:
        return _record_of(case) == (kind, record)
    if COLLECTIONS.get(path) is kind:
        body = _json(response)
        listed = body.get("deactivated") if isinstance(body, dict) else None
        return isinstance(listed, list) and record in {_uuid(item) for item in listed}
    return False


def _writes(case: Any, response: Any, kind: Kind, record: str) -> bool:
    """Whether this earlier case may have written the record's state (other than deactivating
    it): a successful write to its own paths, or any successful bulk write of its kind."""
    method = case.operation.method.lower()
    if method in READS or method == "delete" or not 200 <= response.status_code < 300:
        return False
    path = case.operation.path
    return _record_of(case) == (kind, record) or COLLECTIONS.get(path) is kind


@schemathesis.check
def use_after_deactivate(ctx: Any, response: Any, case: Any) -> bool | None:
    """The registry's DELETE deactivates (the original's soft delete, docs/compat.md): in place
    of `use_after_free` (which expects a deleted record to answer 404, excluded for the
    registry's document), a record deactivated earlier in the scenario must stay there. Its
    GET answers 200 with `meta.status` "inactive" (unless a write since may have changed it),
    its history is readable, and writes still find it (no 404): a PATCH or PUT setting
    `meta.status` "active" reactivates it. A no-op on other documents and operations.

    It finds the DELETE as `use_after_free` does: the cases of the scenario, their responses,
    in execution order (`ctx.internals`, which schemathesis keeps for its own checks)."""
    if case.operation.schema.raw_schema.get("info", {}).get("title") != REGISTRY:
        return None
    target = _record_of(case)
    method = case.operation.method.lower()
    # a repeated DELETE has its own contract; a rollback answers 404 for a revision not found
    if target is None or method == "delete" or case.operation.path in ROLLBACKS:
        return None
    kind, record = target
    history = list(ctx.internals.find_all_cases())
    related = {related.id for related in ctx.internals.find_related(case_id=case.id)}
    deactivated_at = written = None
    for position, earlier in enumerate(history):
        if earlier.id == case.id:
            break
        earlier_response = ctx.internals.find_response(case_id=earlier.id)
        if earlier_response is None:
            continue
        if earlier.id in related and _deactivated(earlier, earlier_response, kind, record):
            deactivated_at, written = position, False
        elif deactivated_at is not None and _writes(earlier, earlier_response, kind, record):
            written = True
    if deactivated_at is None:
        return None
    deleted, usage = _request(history[deactivated_at]), _request(case)
    if response.status_code == 404:
        raise AssertionError(
            f"{usage} answered 404 for a record deactivated by {deleted}: the registry's DELETE "
            "is a soft delete, the record stays readable and writable."
        )
    if response.status_code != 200:
        return None
    body = _json(response)
    meta = body.get("meta") if isinstance(body, dict) else None
    status = meta.get("status") if isinstance(meta, dict) else None
    is_read = RECORDS.get(case.operation.path) is kind and method == "get"
    if is_read and not written and status != "inactive":
        raise AssertionError(
            f"{usage} after {deleted} shows meta.status {status!r}, not 'inactive'."
        )
    if method in ("patch", "put") and _sets_active(case.body) and status != "active":
        raise AssertionError(
            f"{usage} set meta.status 'active' on a deactivated record, but it answers "
            f"{status!r}: reactivation must be possible."
        )
    return None


def _request(case: Any) -> str:
    return f"`{case.operation.method.upper()} {case.formatted_path}`"


def _sets_active(body: object) -> bool:
    meta = body.get("meta") if isinstance(body, dict) else None
    return isinstance(meta, dict) and meta.get("status") == "active"
