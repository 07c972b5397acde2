"""Layered resolution of config rows (account rows beat project rows)."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from step_platform.configs.resolution import resolve

P = "e3eb60a2-3bb7-4983-8e2f-47490b979eb9"
A = "0b6c1c4e-3f57-4a53-8f0e-2b1d8f8f6a01"
OTHER = "9d7c3a52-1a7e-4c3a-9a55-5a8c4f1e2b03"


def row(
    object_type: str,
    data: Any,
    *,
    account_id: str | None = None,
    internal_id: int = 1,
    status: str = "active",
) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-4000-8000-{internal_id:012d}",
        "project_id": P,
        "account_id": account_id,
        "object_type": object_type,
        "meta": {"status": status, "flags": 0, "internal_id": internal_id},
        "data": data,
    }


def test_project_rows_are_served_without_account():
    result = resolve([row("node_id", {"value": 1})], None)
    assert result.data == {"node_id": {"value": 1}}
    assert result.sources == {"node_id": "project"}


def test_account_row_overrides_project_row_of_the_same_type():
    rows = [row("node_id", "project", internal_id=9), row("node_id", "account", account_id=A)]
    result = resolve(rows, A)
    assert result.data == {"node_id": "account"}
    assert result.sources == {"node_id": "account"}


def test_project_row_is_the_fallback_when_the_account_has_none():
    rows = [row("node_id", "project"), row("status", "account", account_id=A, internal_id=2)]
    result = resolve(rows, A)
    assert result.data == {"node_id": "project", "status": "account"}
    assert result.sources == {"node_id": "project", "status": "account"}


def test_rows_of_another_account_never_apply():
    result = resolve([row("node_id", "other", account_id=OTHER)], A)
    assert result.data == {}


def test_account_rows_are_ignored_without_account_id():
    result = resolve([row("node_id", "account", account_id=A)], None)
    assert result.data == {}


def test_newer_row_wins_a_tie_at_the_same_level():
    rows = [row("node_id", "old", internal_id=3), row("node_id", "new", internal_id=7)]
    assert resolve(rows, None).data == {"node_id": "new"}


def test_inactive_rows_are_ignored():
    rows = [row("node_id", "live", internal_id=1), row("node_id", "dead", internal_id=2)]
    rows[1]["meta"]["status"] = "inactive"
    assert resolve(rows, None).data == {"node_id": "live"}


def test_requested_types_keep_their_order_and_missing_ones_are_named():
    rows = [row("a", 1), row("c", 3, internal_id=2)]
    result = resolve(rows, None, ["c", "b", "a"])
    assert list(result.data) == ["c", "a"]
    assert result.missing == ("b",)


def test_unrequested_types_are_dropped():
    result = resolve([row("a", 1), row("b", 2, internal_id=2)], None, ["a"])
    assert result.data == {"a": 1}


def test_all_types_are_ordered_by_name():
    result = resolve([row("z", 1), row("a", 2, internal_id=2)], None)
    assert list(result.data) == ["a", "z"]


def test_account_id_is_matched_case_insensitively():
    result = resolve([row("a", 1, account_id=A.upper())], A)
    assert result.sources == {"a": "account"}


rows_strategy = st.lists(
    st.builds(
        row,
        st.sampled_from(["a", "b", "c"]),
        st.integers(),
        account_id=st.sampled_from([None, A, OTHER]),
        internal_id=st.integers(min_value=1, max_value=50),
        status=st.sampled_from(["active", "inactive"]),
    ),
    max_size=12,
    unique_by=lambda r: r["meta"]["internal_id"],
)


@settings(max_examples=80)
@given(rows_strategy, st.sampled_from([None, A]), st.randoms(use_true_random=False))
def test_the_answer_does_not_depend_on_row_order(rows, account_id, rnd: random.Random):
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert resolve(rows, account_id) == resolve(shuffled, account_id)


@settings(max_examples=80)
@given(rows_strategy, st.sampled_from([None, A]))
def test_each_type_comes_from_the_best_eligible_row(rows, account_id):
    result = resolve(rows, account_id)
    for object_type, data in result.data.items():
        eligible = [
            r
            for r in rows
            if r["object_type"] == object_type
            and r["meta"]["status"] == "active"
            and r["account_id"] in {None, account_id}
        ]
        best = max(eligible, key=lambda r: (r["account_id"] is not None, r["meta"]["internal_id"]))
        assert data == best["data"]
        assert result.sources[object_type] == ("account" if best["account_id"] else "project")
