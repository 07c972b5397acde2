"""Listing configs: filters, data expressions, search, ordering, paging (spec §6)."""

from __future__ import annotations

import datetime as dt

import pytest

from .helpers import A1, A2, MISSING, P1, P2, U1, create_config, detail, list_of, names

pytestmark = pytest.mark.anyio


async def seven(client):
    """Seven configs a..g with varied columns, meta and data (internal_id 1..7)."""
    specs = [
        dict(
            name="a",
            project_id=P1,
            object_type="theme",
            object_code="1",
            data={"digits": 12, "data 2": "test data 2", "tel": "+7894561232"},
        ),
        dict(
            name="b",
            project_id=P1,
            account_id=A1,
            object_type="theme",
            object_code="2",
            meta={"flags": 4},
            data={"digits": 13.5, "nested": {"a": 1}},
        ),
        dict(
            name="c",
            project_id=P1,
            account_id=A2,
            object_type="palette",
            object_code="66",
            meta={"status": "inactive", "flags": 254},
            data={"digits": "12", "flag": True},
        ),
        dict(
            name="d",
            project_id=P2,
            object_type="palette",
            object_code="5",
            user_id=U1,
            data={"digits": None, "word": "Dark Mode"},
        ),
        dict(
            name="e", project_id=P2, account_id=A1, object_type="font", object_code="3", data=[1, 2]
        ),
        dict(
            name="f",
            object_type="font",
            object_code="4",
            object_item=MISSING,
            meta={"flags": 116},
            data={"word": "dark"},
        ),
        dict(name="g", data=None),
    ]
    return [await create_config(client, **spec) for spec in specs]


async def query(client, **params):
    return names(await list_of(client, "/api/configs/", **params))


async def test_no_parameters_lists_every_row_newest_first(registry_client):
    await seven(registry_client)
    assert await query(registry_client) == ["g", "f", "e", "d", "c", "b", "a"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"project_id": P1}, ["a", "b", "c"]),
        ({"project_id": f"{P2}, {P1.upper()}"}, ["a", "b", "c", "d", "e"]),
        ({"project_id": P1, "account_id": A1}, ["b"]),
        ({"project_id": P1, "account_id": f"{A1},null"}, ["a", "b"]),
        ({"account_id": "null"}, ["a", "d", "f", "g"]),
        ({"user_id": U1}, ["d"]),
        ({"object_item": MISSING}, ["f"]),
        ({"object_type": "theme,font"}, ["a", "b", "e", "f"]),
        ({"object_type": "Theme"}, []),
        ({"name": "a,c"}, ["a", "c"]),
        ({"name": "123"}, []),
        ({"object_code": "66"}, ["c"]),
        ({"project_id": ""}, ["a", "b", "c", "d", "e", "f", "g"]),
        ({"project_id": ",,"}, ["a", "b", "c", "d", "e", "f", "g"]),
        ({"unknown": "x", "created_date__gte": "2000-01-01"}, ["a", "b", "c", "d", "e", "f", "g"]),
        ({"meta_status": "active"}, ["a", "b", "d", "e", "f", "g"]),
        ({"meta_status": "INACTIVE"}, ["c"]),
        ({"meta_status": "activ"}, []),
        ({"meta_flags": "4"}, ["b"]),
        ({"meta_flags__gt": "4"}, ["c", "f"]),
        ({"meta_flags__lt": "116"}, ["a", "b", "d", "e", "g"]),
        ({"meta_internal_id": "3,4,5"}, ["c", "d", "e"]),
        ({"meta_internal_id__gt": "5"}, ["f", "g"]),
        ({"meta_internal_id__lt": "3"}, ["a", "b"]),
    ],
)
async def test_column_and_meta_filters(registry_client, params, expected):
    await seven(registry_client)
    assert sorted(await query(registry_client, **params)) == expected


async def test_the_configs_service_query(registry_client):
    await seven(registry_client)
    rows = await query(
        registry_client,
        project_id=P1,
        account_id=f"{A1},null",
        object_type="theme,palette",
        meta_status="active",
    )
    assert rows == ["b", "a"]


async def test_a_repeated_parameter_counts_once_the_last(registry_client):
    await seven(registry_client)
    response = await registry_client.get("/api/configs/?object_type=theme&object_type=font")
    assert sorted(names(response.json())) == ["e", "f"]


async def test_every_invalid_filter_is_reported_at_once(registry_client):
    response = await registry_client.get(
        "/api/configs/",
        params={
            "object_item": "x",
            "account_id": f"{A1},nope",
            "created_date": "yesterday",
            "meta_flags": "5.5",
            "meta_internal_id": "1,x",
            "meta_flags__gt": "abc",
        },
    )
    assert response.status_code == 400
    d = detail(response)
    assert d["code"] == "INVALID_QUERY"
    assert d["fields"] == {
        "object_item": ["Enter a valid UUID."],
        "account_id": ["Enter a valid UUID."],
        "created_date": ["Enter a valid date/time."],
        "meta_flags": ["Enter a whole number."],
        "meta_internal_id": ["Enter a whole number."],
        "meta_flags__gt": ["Enter a whole number."],
    }


async def test_a_nul_character_in_a_filter_is_400(registry_client):
    response = await registry_client.get("/api/configs/", params={"name": "a\u0000"})
    assert response.status_code == 400
    assert detail(response)["fields"] == {"name": ["Null characters are not allowed."]}


# --- dates ----------------------------------------------------------------------------------


async def test_date_filters_compare_utc_calendar_days(registry_client):
    created = await create_config(registry_client, name="a")
    today = dt.datetime.fromisoformat(created["created_date"]).date()
    day = dt.timedelta(days=1)
    for field in ("created_date", "modified_date"):
        assert await query(registry_client, **{field: today.isoformat()}) == ["a"]
        assert await query(registry_client, **{f"{field}__gt": today.isoformat()}) == []
        assert await query(registry_client, **{f"{field}__gt": (today - day).isoformat()}) == ["a"]
        assert await query(registry_client, **{f"{field}__lt": today.isoformat()}) == []
        assert await query(registry_client, **{f"{field}__lt": (today + day).isoformat()}) == ["a"]


async def test_date_filters_accept_datetimes_and_convert_offsets_to_utc(registry_client):
    created = await create_config(registry_client, name="a")
    today = dt.datetime.fromisoformat(created["created_date"]).date()
    late_yesterday = f"{(today - dt.timedelta(days=1)).isoformat()}T23:30:00-03:00"
    assert await query(registry_client, created_date=late_yesterday) == ["a"]
    assert await query(registry_client, created_date=f"{today.isoformat()} 10:00") == ["a"]
    us = f"{today.month:02d}/{today.day:02d}/{today.year}"
    assert await query(registry_client, created_date=us) == ["a"]
    # `+` in a query string is a space; `...T01:00:00+03:00` sent unencoded still parses
    response = await registry_client.get(
        f"/api/configs/?created_date={(today + dt.timedelta(days=1)).isoformat()}T01:00:00+03:00"
    )
    assert names(response.json()) == ["a"]


@pytest.mark.parametrize("value", ["2026-13-01", "tomorrow", "01/32/2026", "9999-99-99"])
async def test_bad_dates_are_400(registry_client, value):
    response = await registry_client.get("/api/configs/", params={"created_date__gt": value})
    assert response.status_code == 400
    assert detail(response)["fields"] == {"created_date__gt": ["Enter a valid date/time."]}


async def test_extreme_dates_are_answered(registry_client):
    await create_config(registry_client, name="a")
    assert await query(registry_client, created_date__gt="9999-12-31") == []
    assert await query(registry_client, created_date="9999-12-31") == []
    assert await query(registry_client, created_date__lt="0001-01-01") == []
    assert await query(registry_client, created_date__gt="0001-01-01") == ["a"]


# --- data -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expressions", "expected"),
    [
        (["data 2__exact=test data 2"], ["a"]),
        (["digits__exact=12"], ["c"]),
        (["digits__exact=12::int"], ["a"]),
        (["digits__exact=12.0::float"], ["a"]),
        (["digits__gt=12.0::float"], ["b"]),
        (["digits__gte=12::int"], ["a", "b"]),
        (["digits__lt=13::int"], ["a"]),
        (["digits__gte=12"], ["c"]),
        (["digits__isnull=true"], ["d", "e", "f", "g"]),
        (["digits__isnull=false"], ["a", "b", "c"]),
        (["tel__icontains=789::int"], ["a"]),
        (["tel__icontains=abc"], []),
        (["tel__startswith=+789"], ["a"]),
        (["tel__endswith=232"], ["a"]),
        (["word__iexact=DARK"], ["f"]),
        (["word__exact=dark"], ["f"]),
        (["word__icontains=dark"], ["d", "f"]),
        (["word__contains=Dark"], ["d"]),
        (["word__istartswith=dark"], ["d", "f"]),
        (["word__iendswith=MODE"], ["d"]),
        (["nested__a__exact=1::int"], ["b"]),
        (["nested__a__gte=0::int"], ["b"]),
        (["flag__exact=true::bool"], ["c"]),
        (["flag__exact=1::int"], []),
        (["word__icontains=dark", "word__endswith=k"], ["f"]),
        (["word__icontains=dark", ""], ["d", "f"]),
    ],
)
async def test_data_filters(registry_client, expressions, expected):
    await seven(registry_client)
    response = await registry_client.get("/api/configs/", params={"data": expressions})
    assert response.status_code == 200, response.text
    assert sorted(names(response.json())) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "data 2=test data 2",
        "digits",
        "digits__=1",
        "digits__range=1",
        "digits__exact=12::integer",
        "digits__exact=abc::int",
        "digits__exact=nan::float",
        "digits__exact=1e999::float",
        "digits__exact=yes::bool",
        "digits__isnull=maybe",
        "digits__isnull=1::int",
        "__exact=1",
        "a____exact=1",
        "url__exact=a::b",
    ],
)
async def test_malformed_data_filters_are_400(registry_client, expression):
    response = await registry_client.get("/api/configs/", params={"data": expression})
    assert response.status_code == 400
    d = detail(response)
    assert d["code"] == "INVALID_QUERY" and list(d["fields"]) == ["data"]


async def test_data_values_may_contain_equals_and_double_colons(registry_client):
    await create_config(registry_client, name="u", data={"url": "http://x/?a=b::c"})
    assert await query(registry_client, data="url__exact=http://x/?a=b::c::str") == ["u"]
    assert await query(registry_client, data="url__endswith=a=b::c::str") == ["u"]


async def test_data_filter_keys_are_parameters_not_sql(registry_client):
    key = "x'); DROP TABLE configs_config; --"
    await create_config(registry_client, name="k", data={key: "v"})
    await create_config(registry_client, name="other", data={"x": "v"})
    assert await query(registry_client, data=f"{key}__exact=v") == ["k"]


# --- search ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"search": "dark"}, ["d", "f"]),
        ({"search": "DARK mode"}, ["d"]),
        ({"search": '"dark mode"'}, ["d"]),
        ({"search": "dark,mode"}, ["d"]),
        ({"search": "palette"}, ["c", "d"]),
        ({"search": "66"}, ["c"]),
        ({"search": "inactive"}, []),
        ({"search": "inactive", "field": "meta__status"}, ["c"]),
        ({"search": "254", "field": "meta__flags"}, ["c"]),
        ({"search": "a", "field": "name"}, ["a"]),
        ({"search": "a", "field": ["name", "object_type"]}, ["a", "c", "d"]),
        ({"search": "th", "field": "^object_type"}, ["a", "b"]),
        ({"search": "FONT", "field": "=object_type"}, ["e", "f"]),
        ({"search": "1", "field": "data__nested__a"}, ["b"]),
        ({"search": P2[:8], "field": "project_id"}, ["d", "e"]),
        ({"field": "name"}, ["a", "b", "c", "d", "e", "f", "g"]),
    ],
)
async def test_search(registry_client, params, expected):
    await seven(registry_client)
    response = await registry_client.get("/api/configs/", params=params)
    assert response.status_code == 200, response.text
    assert sorted(names(response.json())) == expected


@pytest.mark.parametrize("field", ["nope", "@name", "$name", "meta__", "data____x"])
async def test_unknown_search_fields_are_400(registry_client, field):
    response = await registry_client.get("/api/configs/", params={"search": "x", "field": field})
    assert response.status_code == 400
    assert list(detail(response)["fields"]) == ["field"]


async def test_a_nul_in_search_is_400(registry_client):
    response = await registry_client.get("/api/configs/", params={"search": "a\u0000"})
    assert response.status_code == 400


# --- ordering -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["a", "b", "c", "d", "e", "f", "g"]),
        ("-name", ["g", "f", "e", "d", "c", "b", "a"]),
        ("object_code", ["a", "b", "e", "f", "d", "c", "g"]),
        ("-object_code", ["g", "c", "d", "f", "e", "b", "a"]),
        ("object_type, -name", ["f", "e", "d", "c", "b", "a", "g"]),
        ("project_id,-meta", ["c", "b", "a", "e", "d", "f", "g"]),
        ("data__digits,name", ["d", "c", "a", "b", "e", "f", "g"]),
        ("-data__digits,name", ["e", "f", "g", "b", "a", "c", "d"]),
        ("data__nested__a,name", ["b", "a", "c", "d", "e", "f", "g"]),
        (",name,", ["a", "b", "c", "d", "e", "f", "g"]),
    ],
)
async def test_ordering(registry_client, ordering, expected):
    await seven(registry_client)
    assert await query(registry_client, ordering=ordering) == expected


async def test_ordering_by_a_data_key_with_a_space(registry_client):
    for n, value in (("x", "b"), ("y", "a"), ("z", "c")):
        await create_config(registry_client, name=n, data={"data 2": value})
    assert await query(registry_client, ordering="data__data 2") == ["y", "x", "z"]


async def test_default_order_ignores_meta_filters(registry_client):
    await seven(registry_client)
    assert await query(registry_client, meta_flags__lt="300") == [
        "g",
        "f",
        "e",
        "d",
        "c",
        "b",
        "a",
    ]


@pytest.mark.parametrize("ordering", ["nope", "-nope", "name,zz", "meta__", "data__"])
async def test_unknown_ordering_fields_are_400(registry_client, ordering):
    response = await registry_client.get("/api/configs/", params={"ordering": ordering})
    assert response.status_code == 400
    assert list(detail(response)["fields"]) == ["ordering"]


# --- paging ---------------------------------------------------------------------------------


async def test_limit_and_offset_give_the_paged_form(registry_client):
    await seven(registry_client)
    response = await registry_client.get("/api/configs/?limit=2&offset=2&name=a,b,c,d,e,f,g")
    body = response.json()
    assert body["count"] == 7
    assert names(body["results"]) == ["e", "d"]
    assert body["next"] == (
        "http://registry.test/api/configs/?name=a%2Cb%2Cc%2Cd%2Ce%2Cf%2Cg&limit=2&offset=4"
    )
    assert body["previous"] == (
        "http://registry.test/api/configs/?name=a%2Cb%2Cc%2Cd%2Ce%2Cf%2Cg&limit=2"
    )


async def test_a_page_past_the_end_is_empty_and_still_counts_every_row(registry_client):
    await seven(registry_client)
    body = (await registry_client.get("/api/configs/?limit=5&offset=10")).json()
    assert body["count"] == 7
    assert body["results"] == []
    assert body["previous"] == "http://registry.test/api/configs/?limit=5&offset=5"


async def test_the_last_page_has_no_next_and_the_first_no_previous(registry_client):
    await seven(registry_client)
    first = (await registry_client.get("/api/configs/?limit=5")).json()
    assert first["previous"] is None
    assert first["next"] == "http://registry.test/api/configs/?limit=5&offset=5"
    last = (await registry_client.get(first["next"])).json()
    assert names(last["results"]) == ["b", "a"]
    assert last["next"] is None
    assert last["previous"] == "http://registry.test/api/configs/?limit=5"


async def test_offset_alone_pages_with_the_largest_limit(registry_client):
    await seven(registry_client)
    body = (await registry_client.get("/api/configs/?offset=5")).json()
    assert body["count"] == 7 and names(body["results"]) == ["b", "a"]


async def test_paging_applies_to_filtered_ordered_lists(registry_client):
    await seven(registry_client)
    body = (
        await registry_client.get("/api/configs/?object_type=theme,font&ordering=name&limit=3")
    ).json()
    assert body["count"] == 4 and names(body["results"]) == ["a", "b", "e"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "x"},
        {"limit": "-1"},
        {"offset": "-1"},
        {"offset": "1.5"},
        {"limit": "2", "offset": "y"},
    ],
)
async def test_bad_paging_values_are_400(registry_client, params):
    response = await registry_client.get("/api/configs/", params=params)
    assert response.status_code == 400
    assert set(detail(response)["fields"]) <= {"limit", "offset"}


async def test_head_of_the_list_has_no_body(registry_client):
    await seven(registry_client)
    response = await registry_client.head("/api/configs/")
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize(
    "name", ["created_date", "modified_date__gt", "meta_flags", "meta_flags__lt", "limit", "offset"]
)
async def test_an_empty_typed_filter_is_400(registry_client, name):
    response = await registry_client.get("/api/configs/", params={name: ""})
    assert response.status_code == 400, response.text
    assert list(response.json()["detail"]["fields"]) == [name]


@pytest.mark.parametrize("name", ["name", "project_id", "meta_status", "search", "ordering"])
async def test_an_empty_text_or_list_filter_is_ignored(registry_client, name):
    response = await registry_client.get("/api/configs/", params={name: ""})
    assert response.status_code == 200, response.text


async def test_a_filtered_page_ordered_by_a_json_path_is_counted(registry_client):
    await create_config(registry_client, name="a", data={"k": 2})
    await create_config(registry_client, name="a", data={"k": 1})
    response = await registry_client.get(
        "/api/configs/", params={"name": "a", "ordering": "-data__k", "limit": 1}
    )
    assert response.status_code == 200, response.text
    assert response.json()["count"] == 2
    assert response.json()["results"][0]["data"] == {"k": 2}


async def test_search_fields_without_a_search_are_a_plain_list(registry_client):
    await create_config(registry_client, name="a", data={"k": 1})
    response = await registry_client.get(
        "/api/configs/", params=[("field", "data__k"), ("field", "^meta__x"), ("name", "a")]
    )
    assert response.status_code == 200, response.text
    assert len(response.json()) == 1
