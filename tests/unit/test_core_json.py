"""JSON of large bodies: upstream answers parsed to finite numbers only, and rendered by
orjson (`core.responses.dumps_parsed`) to the same values `json` gives, including where orjson
alone would refuse (integers beyond 64 bits) or differ.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from step_platform.core.responses import dumps, dumps_parsed
from step_platform.core.upstream import UpstreamBadResponse, json_of, loads

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types throughout (1 is not 1.0)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) and a == b


@given(json_values)
def test_loads_gives_what_json_gives(value):
    body = json.dumps(value, ensure_ascii=False).encode()
    assert same(loads(body), json.loads(body))


@pytest.mark.parametrize("body", [b"[NaN]", b"[Infinity]", b'{"a": -Infinity}', b"[1e400]"])
def test_non_finite_numbers_are_not_json(body):
    with pytest.raises(ValueError):
        loads(body)


def test_an_upstream_body_with_nan_is_502():
    response = httpx.Response(200, content=b'{"data": [{"cf_award": NaN}]}')
    with pytest.raises(UpstreamBadResponse):
        json_of(response, "raida")


@given(json_values)
def test_dumps_parsed_renders_the_same_values_as_dumps(value):
    assert same(json.loads(dumps_parsed(value)), json.loads(dumps(value)))


def test_dumps_parsed_is_compact_utf8_like_dumps():
    value = {"message": "Конкурс №1", "data": [1, None, True, {"a": "b"}]}
    assert dumps_parsed(value) == dumps(value)


def test_dumps_parsed_renders_integers_beyond_64_bits():
    assert dumps_parsed({"n": 2**70}) == b'{"n":1180591620717411303424}'


def test_dumps_parsed_renders_nesting_past_orjsons_limit_as_dumps_does():
    deep: Any = 1
    for _ in range(300):
        deep = [deep]
    assert dumps_parsed(deep) == dumps(deep)
