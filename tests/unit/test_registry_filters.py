"""List query parameters -> parameterised SQL (no database needed)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from step_platform.core.limits import LIMITS, LimitExceeded
from step_platform.registry.filters import QueryError, compile_list, parse_date
from step_platform.registry.kinds import CONFIGS, LINKS

P = "11111111-1111-4111-8111-111111111111"
A = "aaaaaaaa-0000-4000-8000-000000000001"


def compiled(query: str, kind=CONFIGS):
    return compile_list(kind, QueryParams(query)).sql(kind)


def test_no_parameters_select_everything_newest_first():
    select, params, _, _ = compiled("")
    assert select.endswith("WHERE TRUE ORDER BY (meta -> 'internal_id') DESC")
    assert params == []


def test_the_configs_service_query_is_four_conditions_on_parameters():
    select, params, _, _ = compiled(
        f"project_id={P}&account_id={A},null&object_type=a,b&meta_status=active"
    )
    assert "project_id = CAST($1 AS uuid)" in select
    assert "account_id = CAST($2 AS uuid) OR account_id IS NULL" in select
    assert "object_type = ANY(CAST($3 AS text[]))" in select
    assert "lower(meta ->> 'status') = lower(CAST($4 AS text))" in select
    assert [str(v) for v in params[:2]] == [P, A]
    assert params[2:] == [["a", "b"], "active"]


def test_one_value_is_an_equality_and_several_an_array():
    """A generic plan cannot know an array's length; `=` lets it estimate one value's rows."""
    one, one_params, _, _ = compiled(f"project_id={P}&name=x")
    several, several_params, _, _ = compiled(f"project_id={P},{A}&name=x,y")
    assert "(project_id = CAST($1 AS uuid)) AND (name = CAST($2 AS text))" in one
    assert [str(one_params[0]), one_params[1]] == [P, "x"]
    assert "(project_id = ANY(CAST($1 AS uuid[]))) AND (name = ANY(CAST($2 AS text[])))" in several
    assert [[str(v) for v in several_params[0]], several_params[1]] == [[P, A], ["x", "y"]]


def test_paging_adds_limit_and_offset_parameters_to_the_select_only():
    select, params, count, count_params = compiled("limit=10&offset=20&name=x")
    assert select.endswith("LIMIT CAST($2 AS int8) OFFSET CAST($3 AS int8)")
    assert params == ["x", 10, 20]
    assert count == "SELECT count(*) FROM configs_config WHERE (name = CAST($1 AS text))"
    assert count_params == ["x"]


def test_a_user_ordering_ends_with_the_default_as_tie_break():
    select, params, _, _ = compiled("ordering=-name,data__a__b")
    assert select.endswith(
        "ORDER BY name DESC, (data #> CAST($1 AS text[])) ASC, (meta -> 'internal_id') DESC"
    )
    assert params == [["a", "b"]]


def test_date_filters_are_ranges_on_the_column():
    select, params, _, _ = compiled("created_date=2026-11-28&modified_date__gt=2026-11-28")
    day = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
    assert (
        "created_date >= CAST($1 AS timestamptz) AND created_date < CAST($2 AS timestamptz)"
        in select
    )
    assert params == [day, day + dt.timedelta(days=1), day + dt.timedelta(days=1)]


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-11-28", dt.date(2026, 11, 28)),
        ("2026-11-28 10:00", dt.date(2026, 11, 28)),
        ("2026-11-28T23:30:00-03:00", dt.date(2026, 11, 29)),
        ("2026-11-28T01:00:00+03:00", dt.date(2026, 11, 27)),
        ("2026-11-28T01:00:00 03:00", dt.date(2026, 11, 27)),
        ("2026-11-28T10:00:00Z", dt.date(2026, 11, 28)),
        ("11/28/2026", dt.date(2026, 11, 28)),
        ("11/28/26", dt.date(2026, 11, 28)),
        ("2026-02-30", None),
        ("28.11.2026", None),
        ("", None),
    ],
)
def test_parse_date(text, day):
    assert parse_date(text) == day


def test_kind_filters_differ():
    with pytest.raises(QueryError):
        compile_list(LINKS, QueryParams("weight=x"))
    assert compile_list(CONFIGS, QueryParams("weight=x")).conditions == []
    assert compile_list(LINKS, QueryParams("object_type=x")).conditions == []


def test_errors_name_every_bad_parameter():
    with pytest.raises(QueryError) as caught:
        compile_list(LINKS, QueryParams("object1=x&direction=2.5&limit=0&ordering=zz&field=@a"))
    assert set(caught.value.extra["fields"]) == {
        "object1",
        "direction",
        "limit",
        "ordering",
        "field",
    }
    assert caught.value.status == 400 and caught.value.code == "INVALID_QUERY"


NAMES = [
    "id",
    "project_id",
    "name",
    "object_type",
    "object_code",
    "meta_status",
    "meta_flags",
    "meta_internal_id",
    "created_date",
    "data",
    "search",
    "field",
    "ordering",
    "limit",
]


@given(st.lists(st.tuples(st.sampled_from(NAMES), st.text(max_size=20)), max_size=5))
def test_user_input_never_reaches_the_sql_text(pairs):
    marked = [(name, "QZX" + value) for name, value in pairs]
    try:
        select, params, count, _ = compile_list(CONFIGS, QueryParams(marked)).sql(CONFIGS)
    except QueryError:
        return
    assert "QZX" not in select and "QZX" not in count
    used = {int(n) for n in re.findall(r"\$(\d+)", select)}
    assert used == set(range(1, len(params) + 1))


def test_the_sql_of_a_paged_list_is_the_same_every_time_it_is_built():
    """A blocking query reads again with the same compiled query: building its SQL twice must
    not add the paging parameters twice (a 500 once the wait had passed)."""
    query = compile_list(CONFIGS, QueryParams("name=a&limit=5&offset=1"))
    first = query.sql(CONFIGS)
    assert query.sql(CONFIGS) == first
    select, params, count, count_params = first
    assert params[-2:] == [5, 1] and select.count("$") == len(params)
    assert count.count("$") == len(count_params)


def test_the_count_of_a_page_ordered_by_a_json_path_takes_only_the_filters_parameters():
    """The ordering's path parameter is the select's alone (the count was sent it: 503)."""
    query = compile_list(CONFIGS, QueryParams("name=a&ordering=-meta__k&limit=5"))
    select, params, count, count_params = query.sql(CONFIGS)
    assert count_params == ["a"] or count_params == [["a"]]
    assert count.count("$") == len(count_params)
    assert select.count("$") == len(params)


def test_search_fields_without_a_search_bind_no_parameter():
    query = compile_list(CONFIGS, QueryParams("name=a&field=data__k&field=^meta__x"))
    select, params, count, count_params = query.sql(CONFIGS)
    assert select.count("$") == len(params) == 1
    assert count.count("$") == len(count_params) == 1


def test_an_unknown_search_field_without_a_search_is_still_400():
    with pytest.raises(QueryError):
        compile_list(CONFIGS, QueryParams("field=nope"))


def test_extra_columns_join_the_kinds_own_and_take_no_parameter():
    query = compile_list(CONFIGS, QueryParams("name=a&limit=5"))
    select, params, _, _ = query.sql(CONFIGS, ["1 AS one"])
    assert ", 1 AS one FROM configs_config WHERE" in select
    assert params == query.sql(CONFIGS)[1] and len(params) == query.param_count


def test_a_query_over_the_whole_query_cap_is_refused_naming_it():
    # past what an HTTP client sends in one URL (httpx stops at 64 KiB), hence in process
    half = "x" * (LIMITS.query_chars // 2)
    with pytest.raises(LimitExceeded) as refused:
        compile_list(CONFIGS, QueryParams([("unknown", half), ("other", half)]))
    assert refused.value.extra["limit"] == "query_chars"
