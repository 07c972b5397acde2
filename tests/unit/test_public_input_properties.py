"""Property tests of every public input parser: whatever a client sends, the answer is the
parsed value or an `ApiError` (a 4xx envelope) — never another exception, never a 5xx.

Bodies (JSON, depth, size, values), registry list queries (filters, `data`, `field`,
`search`, `ordering`, paging), configs type names and bodies, idempotency keys, upload names.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from step_platform.configs.validation import parse_create, parse_data, parse_types
from step_platform.contests.forms import safe_filename
from step_platform.core import bodies
from step_platform.core.errors import ApiError
from step_platform.core.headers import Context
from step_platform.core.idempotency import fingerprint
from step_platform.core.limits import LIMITS
from step_platform.registry.filters import compile_list
from step_platform.registry.kinds import KINDS

CONTEXT = Context("e3eb60a2-3bb7-4983-8e2f-47490b979eb9", None)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


def client_error(exc: ApiError) -> None:
    assert 400 <= exc.status < 500
    assert isinstance(exc.message, str) and exc.code


@given(st.binary(max_size=2000))
def test_any_bytes_parse_or_are_a_4xx(raw: bytes) -> None:
    try:
        bodies.parse(raw)
    except ApiError as exc:
        client_error(exc)


@given(st.text(alphabet='[]{}":,1 ntrufalse\\ud800', max_size=3000))
def test_any_bracket_soup_parses_or_is_a_4xx(raw: str) -> None:
    try:
        bodies.parse(raw)
    except ApiError as exc:
        client_error(exc)


@given(json_values)
def test_a_parsed_body_is_storable_json(value: Any) -> None:
    try:
        parsed = bodies.parse(json.dumps(value))
    except ApiError as exc:
        client_error(exc)
        return
    json.dumps(parsed, allow_nan=False).encode("utf-8")  # what the registry stores


@given(st.integers(min_value=1, max_value=3 * LIMITS.json_depth))
def test_depth_over_the_cap_is_refused_and_under_it_accepted(depth: int) -> None:
    raw = "[" * depth + "]" * depth
    try:
        bodies.parse(raw)
        assert depth <= LIMITS.json_depth
    except ApiError as exc:
        assert exc.code == "LIMIT_EXCEEDED" and depth > LIMITS.json_depth


query_names = st.sampled_from(
    [
        "project_id", "account_id", "object_type", "object_code", "name", "id",
        "created_date", "created_date__gt", "modified_date__lt", "internal_id", "meta_status",
        "meta_flags", "meta_internal_id", "data", "field", "search", "ordering", "limit",
        "offset", "link_type", "link_code",
    ]
) | st.text(max_size=12)  # fmt: skip
query_values = st.text(max_size=60) | st.sampled_from(
    ["null", "a__exact=1", "a__b__gt=2::int", "-name", "data__k", "0", "1001", "^name"]
)


@given(st.lists(st.tuples(query_names, query_values), max_size=40), st.sampled_from(KINDS))
def test_any_list_query_compiles_or_is_a_4xx(pairs: list[tuple[str, str]], kind: Any) -> None:
    try:
        query = compile_list(kind, QueryParams(pairs))
    except ApiError as exc:
        client_error(exc)
        return
    select, params, _, _ = query.sql(kind)
    assert select.count("$") >= 0 and len(params) < 200


@given(st.text(max_size=400))
def test_any_type_list_parses_or_is_a_4xx(raw: str) -> None:
    try:
        names = parse_types(raw)
    except ApiError as exc:
        client_error(exc)
        return
    assert all(len(n) <= 180 and n.isascii() for n in names)


@given(json_values)
def test_any_configs_body_parses_or_is_a_4xx(body: Any) -> None:
    for parse in (lambda b: parse_create(b, CONTEXT), parse_data):
        try:
            parse(body)
        except ApiError as exc:
            client_error(exc)


@given(st.text(max_size=300))
def test_an_upload_name_has_no_directory_control_or_dot_name(name: str) -> None:
    safe = safe_filename(name)
    assert "/" not in safe and "\\" not in safe
    assert safe not in (".", "..")
    assert all(c.isprintable() or c == " " for c in safe)


boundaries = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=12, max_size=30)


def multipart_scope(boundary: str) -> dict[str, Any]:
    value = f"multipart/form-data; boundary={boundary}".encode()
    return {"method": "POST", "path": "/x", "query_string": b"", "headers": [
        (b"content-type", value)]}  # fmt: skip


def framed(boundary: str, part: bytes) -> bytes:
    return b"--" + boundary.encode() + b"\r\n" + part + b"\r\n--" + boundary.encode() + b"--"


@given(st.binary(max_size=300), boundaries, boundaries)
def test_one_upload_under_two_boundaries_has_one_fingerprint(
    part: bytes, first: str, second: str
) -> None:
    assume(first.encode() not in part and second.encode() not in part)
    assert fingerprint(multipart_scope(first), framed(first, part)) == fingerprint(
        multipart_scope(second), framed(second, part)
    )


@given(st.binary(max_size=300), st.binary(max_size=300), boundaries)
def test_two_uploads_have_two_fingerprints(one: bytes, other: bytes, boundary: str) -> None:
    assume(one != other and boundary.encode() not in one + other)
    scope = multipart_scope(boundary)
    assert fingerprint(scope, framed(boundary, one)) != fingerprint(scope, framed(boundary, other))
