"""The step document says what the server enforces (what schemathesis holds it to)."""

from __future__ import annotations

import re
from typing import Any

from step_platform.contests.app import idempotent_operation
from step_platform.contests.openapi import openapi_document
from step_platform.core.hardening_docs import METHODS, with_hardening

DOC = with_hardening(openapi_document, idempotent=idempotent_operation)()


def operations() -> list[dict[str, Any]]:
    return [item[m] for item in DOC["paths"].values() for m in METHODS if m in item]


def send_solution_fields() -> dict[str, Any]:
    op = DOC["paths"]["/contests/user/my/task/send_solution"]["post"]
    schema = op["requestBody"]["content"]["multipart/form-data"]["schema"]
    fields: dict[str, Any] = schema["properties"]
    return fields


def test_every_operation_has_a_unique_operation_id() -> None:
    ids = [op.get("operationId") for op in operations()]
    assert all(ids) and len(set(ids)) == len(ids)


def test_account_id_is_documented_as_a_uuid() -> None:
    (account,) = [p for p in operations()[0]["parameters"] if p["name"] == "Account-ID"]
    assert account["schema"] == {"type": "string", "format": "uuid"}
    assert account["required"] is False


def test_solution_texts_are_documented_as_not_blank() -> None:
    fields = send_solution_fields()
    for name in ("solution_link", "comments"):
        assert fields[name]["minLength"] == 1
        assert not re.search(fields[name]["pattern"], " \t")
        assert re.search(fields[name]["pattern"], " x ")


def test_the_solution_file_is_documented_as_not_empty() -> None:
    assert send_solution_fields()["solution_file"]["minLength"] == 1


def test_withdrawing_documents_409_for_a_completed_application() -> None:
    responses = DOC["paths"]["/contests/user/my/task/{task_id}/"]["delete"]["responses"]
    assert "TASK_COMPLETED" in responses["409"]["description"]


def test_links_name_existing_operations() -> None:
    ids = {op["operationId"] for op in operations()}
    targets = [
        link["operationId"]
        for op in operations()
        for response in op["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert targets and set(targets) <= ids
