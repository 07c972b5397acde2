"""If-Match parsing: RFC 9110's grammar (`*` or a list of strong or weak entity tags); every
ETag the registry issues names exactly its version, tags that cannot match name none, text
outside the grammar is 400."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from step_platform.core.errors import ApiError
from step_platform.registry.preconditions import GRAMMAR, NEVER, if_match, one_version
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
    assert if_match(request(etag(moment))) == (moment,)


def test_no_header_and_star_are_unconditional():
    assert if_match(request()) is None
    assert if_match(request(" * ")) is None


TAG = '"2026-05-01T10:00:00.123456+00:00"'
VERSION = dt.datetime(2026, 5, 1, 10, 0, 0, 123456, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "value",
    [
        'W/"2026-05-01T10:00:00.123456+00:00"',
        '"2026-05-01T10:00:00.123456Z"',
        '"2026-05-01T13:00:00.123456+03:00"',
        '"2026-05-01T10:00:00+00:00"',
        '"2026-05-01T10:00:00.123456"',
        '"x"',
        '""',
    ],
)
def test_a_well_formed_tag_we_never_issued_names_no_version(value):
    assert if_match(request(value)) == ()


def test_a_list_names_the_versions_of_its_strong_tags_of_ours():
    later = '"2026-05-01T10:00:00.123457+00:00"'
    found = if_match(request(f'W/"a", {TAG} ,"b",{later}'))
    assert found == (VERSION, VERSION + dt.timedelta(microseconds=1))


def test_repeated_header_lines_are_one_list():
    assert if_match(request(TAG, TAG)) == (VERSION,)


@pytest.mark.parametrize("value", ["", " ", "abc", '"open', "*, *", '"a" "b"', '"a",', 'w/"a"'])
def test_text_outside_the_grammar_is_400_naming_the_header(value):
    with pytest.raises(ApiError) as caught:
        if_match(request(value))
    assert caught.value.status == 400
    assert caught.value.code == "INVALID_HEADER"
    assert list(caught.value.extra["fields"]) == ["If-Match"]


@pytest.mark.parametrize("value", ["*", TAG, f'W/"x", {TAG}', '"a" ,\t"b"'.replace("\\t", "\t")])
def test_the_documented_pattern_accepts_what_the_parser_accepts(value):
    import re

    assert re.fullmatch(GRAMMAR, value)
    if_match(request(value))


def test_one_version_is_the_listed_current_one_or_one_that_never_matches():
    assert one_version(None, VERSION) is None
    assert one_version((VERSION,), None) == VERSION
    assert one_version((), VERSION) == NEVER
    other = VERSION + dt.timedelta(seconds=1)
    assert one_version((other, VERSION), VERSION) == VERSION
    assert one_version((other, other + dt.timedelta(seconds=1)), VERSION) == NEVER
