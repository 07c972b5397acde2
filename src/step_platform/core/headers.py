"""The `Project-ID` / `Account-ID` context headers of the configs and step services."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from .errors import ApiError
from .ids import canonical_uuid


@dataclass(frozen=True)
class Context:
    project_id: str
    account_id: str | None


def context_headers(request: Request) -> Context:
    """Both headers validated as UUIDs (any form `uuid.UUID` reads), rendered canonical."""
    fields: dict[str, list[str]] = {}
    project = request.headers.get("project-id", "").strip()
    account = request.headers.get("account-id")
    project_id = account_id = None
    if not project:
        fields["Project-ID"] = ["Обязательный заголовок."]
    else:
        project_id = canonical_uuid(project)
        if project_id is None:
            fields["Project-ID"] = ["Must be a valid UUID."]
    if account is not None:  # sent empty is not "absent": the documents say a UUID
        account_id = canonical_uuid(account)
        if account_id is None:
            fields["Account-ID"] = ["Must be a valid UUID."]
    if fields:
        names = ", ".join(fields)
        raise ApiError(400, "INVALID_HEADER", f"Некорректный заголовок: {names}.", fields=fields)
    assert project_id is not None
    return Context(project_id=project_id, account_id=account_id)
