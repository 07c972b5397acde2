"""RFC 7396 JSON Merge Patch, as PATCH /configs/{type}/ applies it."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from step_platform.configs.merge_patch import merge_patch

# RFC 7396, Appendix A: (original, patch, result)
RFC_EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("original", "patch", "result"), RFC_EXAMPLES)
def test_rfc_7396_appendix_examples(original, patch, result):
    assert merge_patch(original, patch) == result


def test_the_target_is_not_modified():
    original = {"a": {"b": 1}}
    merge_patch(original, {"a": {"b": 2, "c": 3}})
    assert original == {"a": {"b": 1}}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=100)
@given(json_values, json_values)
def test_applying_a_patch_twice_changes_nothing_more(target, patch):
    once = merge_patch(target, patch)
    assert merge_patch(once, copy.deepcopy(patch)) == once


@settings(max_examples=100)
@given(st.dictionaries(st.text(max_size=3), json_values, max_size=4), json_values)
def test_keys_set_to_null_are_gone(target, patch):
    result = merge_patch(target, patch)
    if isinstance(patch, dict):
        for key, value in patch.items():
            if value is None:
                assert key not in result
