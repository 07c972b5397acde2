"""The `data=` mini-language: parsing and its parameterised SQL."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from step_platform.registry.data_filter import DataFilter, DataFilterError, parse, to_sql
from step_platform.registry.sql import Params


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("size__gte=14::int", DataFilter(("size",), "gte", 14, "14")),
        (
            "data 2__exact=test data 2",
            DataFilter(("data 2",), "exact", "test data 2", "test data 2"),
        ),
        ("a__b__c__lt=1.5::float", DataFilter(("a", "b", "c"), "lt", 1.5, "1.5")),
        ("flag__exact=TRUE::bool", DataFilter(("flag",), "exact", True, "TRUE")),
        ("k__exact=", DataFilter(("k",), "exact", "", "")),
        ("k__exact=a=b", DataFilter(("k",), "exact", "a=b", "a=b")),
        ("k__exact=a::b::str", DataFilter(("k",), "exact", "a::b", "a::b")),
        ("k__exact=7::str", DataFilter(("k",), "exact", "7", "7")),
        ("k__icontains=789::int", DataFilter(("k",), "icontains", 789, "789")),
        ("k__isnull=true", DataFilter(("k",), "isnull", True, "true")),
        ("k__isnull=False::bool", DataFilter(("k",), "isnull", False, "False")),
        ("k__exact=-0012::int", DataFilter(("k",), "exact", -12, "-0012")),
        ("k__exact=1e3::float", DataFilter(("k",), "exact", 1000.0, "1e3")),
    ],
)
def test_valid_expressions(expression, expected):
    assert parse(expression) == expected


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("size", "no '='"),
        ("size=1", "no lookup"),
        ("__exact=1", "empty"),
        ("a____exact=1", "empty"),
        ("a__range=1", "Unknown lookup 'range'"),
        ("a__in=1", "Unknown lookup 'in'"),
        ("a__=1", "Unknown lookup ''"),
        ("a__exact=1::integer", "Unknown type 'integer'"),
        ("a__exact=a::b", "Unknown type 'b'"),
        ("a__exact=x::int", "not an integer"),
        ("a__exact=1_000::int", "not an integer"),
        ("a__exact=1.5::int", "not an integer"),
        ("a__exact=nan::float", "not a finite number"),
        ("a__exact=inf::float", "not a finite number"),
        ("a__exact=1e999::float", "not a finite number"),
        ("a__exact=yes::bool", "not a boolean"),
        ("a__isnull=maybe", "not a boolean"),
        ("a__isnull=1::int", "isnull takes true or false"),
        ("a__exact=\x00", "Null characters"),
    ],
)
def test_malformed_expressions_say_what_is_wrong(expression, fragment):
    with pytest.raises(DataFilterError) as caught:
        parse(expression)
    assert fragment in str(caught.value)


def test_the_sql_holds_placeholders_only():
    params = Params()
    sql = to_sql(parse("it's__exact=x'); DROP TABLE t; --"), params)
    assert "DROP" not in sql and "it's" not in sql
    assert params.values[0] == ["it's"]
    assert '"x\'); DROP TABLE t; --"' in params.values


def test_exact_on_object_keys_lets_the_gin_index_narrow():
    params = Params()
    sql = to_sql(parse("a__b__exact=1::int"), params)
    assert "data @> " in sql
    assert '{"a": {"b": 1}}' in params.values


def test_exact_through_an_array_index_does_not_use_containment():
    assert "@>" not in to_sql(parse("a__0__exact=1::int"), Params())


@given(st.text(max_size=60))
def test_any_text_parses_or_raises_data_filter_error(text):
    try:
        parsed = parse(text)
    except DataFilterError:
        return
    params = Params()
    used = {int(n) for n in re.findall(r"\$(\d+)", to_sql(parsed, params))}
    assert used == set(range(1, len(params.values) + 1))


@pytest.mark.parametrize("lookup", ["exact", "iexact", "endswith", "gt", "isnull"])
def test_every_placeholder_has_a_value(lookup):
    params = Params()
    value = "true" if lookup == "isnull" else "v"
    used = {int(n) for n in re.findall(r"\$(\d+)", to_sql(parse(f"k__{lookup}={value}"), params))}
    assert used == set(range(1, len(params.values) + 1))


@given(st.text(alphabet="QZXqzx'\";-", min_size=1, max_size=10))
def test_user_text_never_reaches_the_sql(word):
    marker = "QZX" + word
    params = Params()
    sql = to_sql(parse(f"{marker}__{marker}__icontains={marker}"), params)
    assert "QZX" not in sql
