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


@pytest.mark.parametrize(
    "number", [2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**30, -(10**30)]
)
def test_integers_at_and_beyond_64_bits_stay_exact_integers(number):
    body = b'{"n": %d, "f": 1.5}' % number
    assert same(loads(body), {"n": number, "f": 1.5})


def test_a_long_digit_run_inside_a_string_is_parsed_as_json_parses_it():
    body = b'{"id": "12345678901234567890123", "n": 7}'
    assert same(loads(body), json.loads(body))


@pytest.mark.parametrize("depth", [254, 255, 600])
def test_nesting_that_json_reaches_is_parsed_as_json_parses_it(depth):
    body = b"[" * depth + b"1" + b"]" * depth
    assert same(loads(body), json.loads(body))


@pytest.mark.parametrize("depth", [1000, 1024, 5000])
def test_nesting_past_jsons_reach_is_refused_as_json_refuses_it(depth):
    """orjson would parse up to 1,024 levels; the body would then fail later, in rendering."""
    with pytest.raises(RecursionError):
        loads(b"[" * depth + b"1" + b"]" * depth)


@pytest.mark.parametrize(
    "body", [b'\xef\xbb\xbf{"a": 1}', b'["\\ud800"]', '{"a": "é"}'.encode("utf-16")]
)
def test_what_orjson_refuses_and_json_reads_is_read_as_json_reads_it(body):
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
