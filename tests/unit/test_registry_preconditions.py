"""If-Match parsing: every ETag the registry issues names exactly its version; anything else
is `*` (no condition) or a 400."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from step_platform.core.errors import ApiError
from step_platform.registry.preconditions import if_match
from step_platform.registry.render import etag


def request(*values: str) -> Request:
    headers = [(b"if-match", v.encode("latin-1")) for v in values]
    return Request({"type": "http", "method": "PUT", "path": "/", "headers": headers})


moments = st.datetimes(
    min_value=dt.datetime(1970, 1, 1),
    max_value=dt.datetime(9999, 1, 1),
    timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=3))]),
)


@settings(max_examples=100)
@given(moments)
def test_an_issued_etag_names_its_version(moment):
    assert if_match(request(etag(moment))) == moment


def test_no_header_and_star_are_unconditional():
    assert if_match(request()) is None
    assert if_match(request(" * ")) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "abc",
        '"open',
        '"2026-05-01T10:00:00.123456+00:00", "2026-05-01T10:00:00.123457+00:00"',
        'W/"2026-05-01T10:00:00.123456+00:00"',
        '"2026-05-01T10:00:00.123456Z"',
        '"2026-05-01T13:00:00.123456+03:00"',
        '"2026-05-01T10:00:00+00:00"',
        '"2026-05-01T10:00:00.123456"',
        '"x"',
    ],
)
def test_anything_else_is_400_naming_the_header(value):
    with pytest.raises(ApiError) as caught:
        if_match(request(value))
    assert caught.value.status == 400
    assert caught.value.code == "INVALID_HEADER"
    assert list(caught.value.extra["fields"]) == ["If-Match"]


def test_two_headers_are_400():
    tag = etag(dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
    with pytest.raises(ApiError):
        if_match(request(tag, tag))
