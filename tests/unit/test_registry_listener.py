"""The payloads of the registry's revision notifications (migration 0004 per statement, 0003
per row from a database not migrated yet)."""

from __future__ import annotations

import pytest

from step_platform.registry.listener import parse_payload

P, Q = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"


@pytest.mark.parametrize(
    ("payload", "parsed"),
    [
        (f"12 config {P}", (12, {P})),
        (f"12 config {P},{Q}", (12, {P, Q})),
        ("12 link -", (12, set())),
        ("12 config *", (12, None)),
        (f"12 config {P} -", (12, {P})),
        (f"12 config {P} {Q}", (12, {P, Q})),
        ("12 config - -", (12, set())),
    ],
)
def test_statement_and_row_payloads_are_read(payload, parsed):
    assert parse_payload(payload) == parsed


@pytest.mark.parametrize("payload", ["", "x config P", "12", "12 config", "1 2 3 4 5", "-1 c P"])
def test_anything_else_is_refused(payload):
    assert parse_payload(payload) is None
