"""The registry document's patterns say what the parsers take: a value a pattern accepts is
accepted by the server's parser, and the values the server refuses are outside the pattern
(schemathesis generates from the patterns and checks both directions)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from step_platform.core.limits import LIMITS
from step_platform.core.watch import WAIT_PATTERN
from step_platform.registry import openapi
from step_platform.registry.data_filter import DataFilterError, parse
from step_platform.registry.filters import value_cap
from step_platform.registry.kinds import CONFIGS, LINKS
from step_platform.registry.validation import Mode, validate_item


def matches(pattern: str, value: str) -> bool:
    return re.search(pattern, value) is not None


def parameter(path: str, method: str, name: str) -> dict:
    document = openapi.build()
    operation = document["paths"][path][method]
    return next(p for p in operation["parameters"] if p["name"] == name)


@pytest.mark.parametrize("value", ["", " ", "\t \n", "a\x00b", "\u00a0", "\u3000\x1c"])
def test_the_text_pattern_refuses_what_validation_refuses(value):
    assert not matches(openapi.NOT_BLANK, value)
    _, errors = validate_item(CONFIGS, {"name": value}, Mode.CREATE)
    assert "name" in errors


@settings(max_examples=200)
@given(st.from_regex(openapi.NOT_BLANK, fullmatch=True).filter(lambda v: len(v.strip()) <= 254))
def test_a_text_the_pattern_accepts_is_valid(value):
    _, errors = validate_item(CONFIGS, {"name": value}, Mode.CREATE)
    assert "name" not in errors


@settings(max_examples=300)
@given(st.from_regex(openapi.DATA_FILTER, fullmatch=True))
def test_a_data_filter_the_pattern_accepts_parses(value):
    if value:
        parse(value)


@pytest.mark.parametrize("value", [".exe", "a=1", "a__bogus=1", "a__exact=x::y", "__exact=1"])
def test_data_filters_the_parser_refuses_are_outside_the_pattern(value):
    assert not matches(openapi.DATA_FILTER, value)
    with pytest.raises(DataFilterError):
        parse(value)


@pytest.mark.parametrize("kind", [CONFIGS, LINKS])
def test_the_field_pattern_names_columns_and_json_paths(kind):
    pattern = openapi.field_pattern(kind)
    for good in ["name" if kind is CONFIGS else "link_type", "^data__a__b", "=meta__status", ""]:
        assert matches(pattern, good), good
    for bad in ["nope", "data__", "data____a", "^"]:
        assert not matches(pattern, bad), bad


def test_bulk_delete_needs_at_least_one_uuid():
    schema = parameter("/api/configs/", "delete", "id")
    assert schema["required"] is True
    pattern = schema["schema"]["pattern"]
    uuid = "e3e70682-c209-1cac-a29f-6fbed82c07cd"
    assert matches(pattern, uuid) and matches(pattern, f"{uuid}, {uuid.upper()}")
    for bad in ["", " ", f"{uuid},", "nope"]:
        assert not matches(pattern, bad), bad


@pytest.mark.parametrize("value", ["30s", "250ms", "1.5", "2m"])
def test_the_wait_pattern_takes_what_core_watch_takes(value):
    from step_platform.core.watch import parse_watch

    assert matches(openapi.WAIT_PATTERN, value)
    assert parse_watch({"index": "1", "wait": value}) is not None


def test_if_match_generates_only_star_and_publishes_the_tag_list_grammar():
    schema = parameter("/api/config/{id}/", "put", "If-Match")["schema"]
    assert schema["enum"] == ["*"]
    assert matches(schema["x-pattern"], '"a", W/"b"')
    assert not matches(schema["x-pattern"], "0")


def test_number_filters_are_bounded_as_the_parser_bounds_them():
    from starlette.datastructures import QueryParams

    from step_platform.registry.filters import QueryError, compile_list

    schema = parameter("/api/links/", "get", "weight__gt")["schema"]
    assert (schema["minimum"], schema["maximum"]) == (-openapi.FILTER_BOUND, openapi.FILTER_BOUND)
    compile_list(LINKS, QueryParams("weight__gt=1e50"))
    with pytest.raises(QueryError):
        compile_list(LINKS, QueryParams("weight__gt=1.1e50"))


def test_single_record_bodies_are_wrapped_so_learned_paths_find_no_object():
    body = openapi.build()["paths"]["/api/link/{id}/"]["put"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema == {"allOf": [{"$ref": "#/components/schemas/LinkReplace"}]}


@pytest.mark.parametrize("path", ["/api/configs/", "/api/links/"])
def test_every_capped_list_parameter_states_its_cap(path):
    operation = openapi.build()["paths"][path]["get"]
    stated = {
        p["name"]: p["schema"].get("items", p["schema"]).get("maxLength")
        for p in operation["parameters"]
    }
    kind = CONFIGS if path == "/api/configs/" else LINKS
    capped = {name: value_cap(kind, name) for name in stated}
    assert {"search", "data", "field", "id", "meta_internal_id"} <= {
        n for n, c in capped.items() if c
    }
    for name, limit in capped.items():
        assert stated[name] == (None if limit is None else getattr(LIMITS, limit)), name


def longest_value(schema: dict) -> int:
    """The most characters a value the schema admits can have (dates and bounded numbers
    included), so the document's query is measured as a client could fill it."""
    if schema.get("format") == "date":
        return len("2026-12-05")
    if schema.get("type") in ("integer", "number"):  # a double prints in fewer (`repr`)
        return len(str(-int(schema["maximum"])))
    if schema.get("pattern") == WAIT_PATTERN:
        return len("123456789.123456ms")
    return schema["maxLength"]


@pytest.mark.parametrize("path", ["/api/configs/", "/api/links/"])
def test_no_query_the_document_admits_passes_the_whole_query_cap(path):
    """Every value at its longest, every repeatable parameter repeated to its cap: still within
    `query_chars` (counted as the server counts it: name, value, `=` and `&`)."""
    total = 0
    for p in openapi.build()["paths"][path]["get"]["parameters"]:
        schema = p["schema"]
        if p["in"] != "query":
            continue
        count = schema.get("maxItems", 1)
        one = longest_value(schema.get("items", schema))
        total += count * (len(p["name"]) + one + 2)
    assert total <= LIMITS.query_chars
