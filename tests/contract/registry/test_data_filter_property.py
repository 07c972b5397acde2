"""Property tests of the list filters against a plain-Python evaluation.

For random objects and random `data=` expressions the registry returns exactly the rows a
reference evaluation of the documented semantics (`registry/data_filter.py`) selects; random
garbage in any list parameter is a 200 or a 400 with the error envelope, never a 500.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from step_platform.registry.data_filter import LOOKUPS as DATA_LOOKUPS
from step_platform.registry.db import connect_once

pytestmark = pytest.mark.anyio

KEYS = ["a", "b", "Key", "x y", "0", "1"]
# ASCII and caseless non-ASCII letters: Python's and Postgres' lower() agree on these.
ALPHABET = "aAbBcCxXyYzZ _=:.09€中"
LOOKUPS = list(DATA_LOOKUPS)  # every lookup the registry documents
MISSING = object()
PG_INDEX = re.compile(r"[ \t\n\v\f\r]*[+-]?\d+")

texts = st.text(alphabet=ALPHABET, max_size=6)
ints = st.integers(min_value=-(10**6), max_value=10**6)
floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
scalars = st.one_of(st.none(), st.booleans(), ints, floats, texts, texts, texts)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)
    ),
    max_leaves=6,
)
mostly_scalars = st.one_of(scalars, scalars, scalars, values)
objects = st.dictionaries(st.sampled_from(KEYS), mostly_scalars, min_size=1, max_size=4)
datas = st.one_of(objects, objects, objects, values)


# --- the reference --------------------------------------------------------------------------


def resolve(data: Any, path: list[str]) -> Any:
    current = data
    for key in path:
        if isinstance(current, dict) and key in current:
            current = current[key]
        elif isinstance(current, list) and PG_INDEX.fullmatch(key):
            index = int(key)
            index = index + len(current) if index < 0 else index
            if not 0 <= index < len(current):
                return MISSING
            current = current[index]
        else:
            return MISSING
    return current


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "other"


def matches(data: Any, path: list[str], lookup: str, typed: Any, text: str) -> bool:
    value = resolve(data, path)
    if lookup == "isnull":
        return (value is MISSING or value is None) == typed
    if value is MISSING:
        return False
    if lookup == "exact":
        return json_type(value) == json_type(typed) != "other" and value == typed
    if lookup in ("gt", "gte", "lt", "lte"):
        if json_type(value) != json_type(typed):
            return False
        return {
            "gt": value > typed,
            "gte": value >= typed,
            "lt": value < typed,
            "lte": value <= typed,
        }[lookup]
    if not isinstance(value, str):
        return False
    if lookup.startswith("i"):
        value, text, lookup = value.lower(), text.lower(), lookup[1:]
    return {
        "exact": value == text,
        "contains": text in value,
        "startswith": value.startswith(text),
        "endswith": value.endswith(text),
    }[lookup]


# --- expressions ----------------------------------------------------------------------------


def paths_in(rows: list[Any]) -> list[tuple[list[str], Any]]:
    """(path, value) of every object key one or two levels deep in the rows."""
    found = []
    for data in rows:
        if not isinstance(data, dict):
            continue
        for key, value in data.items():
            found.append(([key], value))
            if isinstance(value, dict):
                found += [([key, inner], v) for inner, v in value.items()]
    return found


def typed_text(kind: str, typed: Any) -> tuple[str, str]:
    """The expression text of a typed value, and its `::type` suffix."""
    if kind == "int":
        return str(typed), "::int"
    if kind == "float":
        return repr(typed), "::float"
    if kind == "bool":
        return ("true" if typed else "false"), "::bool"
    return typed, ("::str" if "::" in typed else "")


@st.composite
def expressions(draw: st.DrawFn, rows: list[Any]) -> tuple[str, list[str], str, Any, str]:
    """Expressions biased towards the rows' own paths and values, so that they match often."""
    known = paths_in(rows)
    if known and draw(st.integers(0, 9)) < 8:
        path, stored = draw(st.sampled_from(known))
    else:
        path, stored = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=2)), None
    fitting = {
        "string": LOOKUPS[:12],
        "number": ["exact", "gt", "gte", "lt", "lte"],
        "boolean": ["exact", "gt", "gte", "lt", "lte"],
    }.get(json_type(stored), ["isnull", "exact"])
    lookup = draw(st.sampled_from(fitting if draw(st.integers(0, 4)) else LOOKUPS))
    if lookup == "isnull":
        typed = draw(st.booleans())
        text = draw(st.sampled_from(["true", "True", "TRUE"] if typed else ["false", "False"]))
        suffix = draw(st.sampled_from(["", "::bool"]))
        return f"{'__'.join(path)}__isnull={text}{suffix}", path, lookup, typed, text
    reuse = json_type(stored) != "other" and draw(st.integers(0, 3)) > 0
    if reuse and isinstance(stored, str):
        kind = "str"
        cut = draw(st.integers(0, len(stored)))
        typed = draw(st.sampled_from([stored, stored[:cut], stored[cut:], stored[cut : cut + 2]]))
        typed = draw(st.sampled_from([typed, typed, typed.swapcase(), typed.upper()]))
    elif reuse:
        kind = "bool" if isinstance(stored, bool) else draw(st.sampled_from(["int", "float"]))
        typed = stored if kind == "bool" else (int(stored) if kind == "int" else float(stored))
    else:
        kind = draw(st.sampled_from(["str", "int", "float", "bool"]))
        typed = draw({"str": texts, "int": ints, "float": floats, "bool": st.booleans()}[kind])
    text, suffix = typed_text(kind, typed)
    if kind == "str" and not suffix and draw(st.booleans()):
        suffix = "::str"
    return f"{'__'.join(path)}__{lookup}={text}{suffix}", path, lookup, typed, text


async def reset(url: str) -> None:
    conn = await connect_once(url)
    try:
        await conn.execute("DELETE FROM configs_config")
    finally:
        await conn.close()


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[Any], list[list[tuple]]]:
    """Rows, then filter combinations drawn with the rows in view."""
    rows = draw(st.lists(datas, min_size=1, max_size=12))
    filters = draw(
        st.lists(st.lists(expressions(rows), min_size=1, max_size=2), min_size=1, max_size=6)
    )
    return rows, filters


@settings(max_examples=100)
@given(case=cases())
async def test_data_filters_select_what_the_reference_selects(
    registry_client, registry_database_url, case
):
    rows, filters = case
    await reset(registry_database_url)
    body = [{"name": str(n), "data": data} for n, data in enumerate(rows)]
    created = await registry_client.post("/api/configs/", json=body)
    assert created.status_code == 201, created.text
    for combination in filters:
        response = await registry_client.get(
            "/api/configs/", params={"data": [expr for expr, *_ in combination]}
        )
        assert response.status_code == 200, (combination, response.text)
        got = sorted(int(r["name"]) for r in response.json())
        expected = [
            n
            for n, data in enumerate(rows)
            if all(
                matches(data, path, lookup, typed, text)
                for _, path, lookup, typed, text in combination
            )
        ]
        assert got == expected, (combination, json.dumps(rows))


TEXT_LOOKUPS = LOOKUPS[1:8]


@st.composite
def text_cases(draw: st.DrawFn) -> tuple[list[Any], list[tuple[str, str]]]:
    """Rows `{"s": <mostly strings>}` and text lookups with pieces of those strings."""
    rows = draw(st.lists(st.one_of(texts, texts, texts, scalars), min_size=1, max_size=10))
    strings = [r for r in rows if isinstance(r, str)] or [""]
    queries = []
    for _ in range(draw(st.integers(1, 6))):
        source = draw(st.sampled_from(strings))
        cut = draw(st.integers(0, len(source)))
        piece = draw(st.sampled_from([source, source[:cut], source[cut:], source[cut : cut + 2]]))
        piece = draw(st.sampled_from([piece, piece.swapcase(), piece.upper(), piece.lower()]))
        queries.append((draw(st.sampled_from(TEXT_LOOKUPS)), piece))
    return [{"s": r} for r in rows], queries


@settings(max_examples=60)
@given(case=text_cases())
async def test_text_lookups_select_what_the_reference_selects(
    registry_client, registry_database_url, case
):
    rows, queries = case
    await reset(registry_database_url)
    body = [{"name": str(n), "data": data} for n, data in enumerate(rows)]
    assert (await registry_client.post("/api/configs/", json=body)).status_code == 201
    for lookup, piece in queries:
        suffix = "::str" if "::" in piece else ""
        response = await registry_client.get(
            "/api/configs/", params={"data": f"s__{lookup}={piece}{suffix}"}
        )
        got = sorted(int(r["name"]) for r in response.json())
        expected = [n for n, d in enumerate(rows) if matches(d, ["s"], lookup, piece, piece)]
        assert got == expected, (lookup, piece, rows)


PARAMETERS = [
    "data",
    "id",
    "project_id",
    "account_id",
    "object_type",
    "created_date",
    "created_date__gt",
    "meta_status",
    "meta_flags",
    "meta_flags__lt",
    "meta_internal_id",
    "meta_internal_id__gt",
    "search",
    "field",
    "ordering",
    "limit",
    "offset",
]


@settings(max_examples=100)
@given(
    garbage=st.lists(
        st.tuples(st.sampled_from(PARAMETERS), st.text(max_size=30)), min_size=1, max_size=4
    )
)
async def test_garbage_in_list_parameters_is_400_never_500(registry_client, garbage):
    for path in ("/api/configs/", "/api/links/"):
        response = await registry_client.get(path, params=garbage)
        assert response.status_code in (200, 400), (garbage, response.text)
        if response.status_code == 400:
            detail = response.json()["detail"]
            assert detail["code"] == "INVALID_QUERY"
            assert set(detail["fields"]) <= set(PARAMETERS)


@settings(max_examples=100)
@given(expression=st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
async def test_any_data_expression_is_200_or_400(registry_client, expression):
    response = await registry_client.get("/api/configs/", params={"data": expression})
    assert response.status_code in (200, 400), (expression, response.text)


@settings(max_examples=60)
@given(
    body=st.recursive(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=False, allow_infinity=False),
            st.text(max_size=10),
        ),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(
                st.sampled_from(
                    [
                        "id",
                        "name",
                        "meta",
                        "data",
                        "weight",
                        "direction",
                        "link_type",
                        "object1",
                        "project_id",
                        "status",
                        "flags",
                    ]
                ),
                inner,
                max_size=5,
            ),
        ),
        max_leaves=10,
    )
)
async def test_any_json_body_is_a_4xx_or_a_success_never_a_500(registry_client, body):
    for method, path in (
        ("POST", "/api/config/"),
        ("POST", "/api/configs/"),
        ("PATCH", "/api/configs/"),
        ("POST", "/api/link/"),
        ("PUT", "/api/links/"),
    ):
        response = await registry_client.request(method, path, json=body)
        assert response.status_code < 500, (method, path, body, response.text)
        if response.status_code >= 400:
            assert set(response.json()) == {"detail"}
