"""The config-set description and its validator (seed section 8)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from step_platform.contests import config_format as cf
from step_platform.core.errors import ApiError
from step_platform.seed import seed_config_set

ROUTE_NEEDS = [
    cf.ACTIVE,
    cf.ARCHIVE,
    cf.DETAILS,
    cf.CONTEST_TASKS,
    cf.MY_TASKS,
    cf.HISTORY,
    cf.JOIN,
    cf.QUIT,
    cf.SEND_SOLUTION,
]
EVERYTHING = cf.Need(cf.ALL_PATHS)

uuid_text = st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper())
extra_key = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
# Text a config store can hold (the HTTP tests store these sets in the registry, and Postgres
# JSONB refuses NUL characters and lone surrogates, as the registry's 400 says).
storable_char = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")


def text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(storable_char, max_size=max_size)


@st.composite
def valid_sets(draw: st.DrawFn) -> dict[str, Any]:
    """Any config set the description admits, with unknown extra keys and types sometimes."""
    data: dict[str, Any] = {}
    for type_name, keys in cf.REQUIRED.items():
        section: dict[str, Any] = {key: draw(uuid_text) for key in keys}
        for key in draw(st.lists(extra_key, max_size=2)):
            section.setdefault(
                key, draw(st.none() | st.integers(-(2**53), 2**53) | text(max_size=5))
            )
        data[type_name] = section
    for key in draw(st.lists(extra_key, max_size=2)):
        data.setdefault(key, {"value": draw(text(max_size=5))})
    return data


not_a_uuid = (
    text(max_size=40).filter(lambda s: not cf.is_uuid(s))
    | st.uuids().map(lambda u: u.hex)  # 32 hex digits without hyphens
    | st.uuids().map(lambda u: "{" + str(u) + "}")
)
wrong_type = (
    st.none() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
)
wrong_type |= st.booleans()
wrong_type |= st.lists(uuid_text, min_size=1, max_size=2)


@st.composite
def mutations(
    draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]] | None = None
) -> tuple[dict[str, Any], str, str]:
    """(a valid set with exactly one thing broken, the path that must be named, the kind)."""
    data = draw(base if base is not None else valid_sets())
    path = draw(st.sampled_from(cf.ALL_PATHS))
    type_name, key = path.split(".", 1)
    kind = draw(
        st.sampled_from(
            [
                "drop_key",
                "not_uuid",
                "wrong_type",
                "nest_value",
                "nest_type",
                "empty_object",
                "drop_type",
                "type_not_object",
            ]
        )
    )
    section = data[type_name]
    if kind == "drop_key":
        del section[key]
    elif kind == "not_uuid":
        section[key] = draw(not_a_uuid)
    elif kind == "wrong_type":
        section[key] = draw(wrong_type)
    elif kind == "nest_value":
        section[key] = {"value": section[key]}
    elif kind == "nest_type":
        data[type_name] = {type_name: section}
    elif kind == "empty_object":
        data[type_name] = {}
    elif kind == "drop_type":
        del data[type_name]
    else:
        data[type_name] = draw(wrong_type | text(max_size=5))
    named = type_name if kind in ("drop_type", "type_not_object") else path
    return data, named, kind


@settings(max_examples=100)
@given(valid_sets())
def test_every_set_the_description_admits_is_accepted(data: dict[str, Any]) -> None:
    assert cf.broken_paths(data, cf.ALL_PATHS) == []
    values = cf.validate(data, EVERYTHING)
    for path in cf.ALL_PATHS:
        type_name, key = path.split(".", 1)
        assert values[path] == data[type_name][key].lower()


@settings(max_examples=100)
@given(mutations())
def test_every_single_mutation_is_rejected_naming_its_path(
    case: tuple[dict[str, Any], str, str],
) -> None:
    data, named, _ = case
    with pytest.raises(ApiError) as caught:
        cf.validate(data, EVERYTHING)
    error = caught.value
    assert error.status == 500
    assert error.payload()["detail"]["code"] == "SERVICE_ERROR"
    assert error.payload()["detail"]["message"] == "Неправильный формат конфигураций для проекта"
    assert named in error.payload()["detail"]["errors"]


@settings(max_examples=100)
@given(mutations())
def test_a_mutation_names_only_paths_under_the_broken_type(
    case: tuple[dict[str, Any], str, str],
) -> None:
    data, named, _ = case
    type_name = named.split(".", 1)[0]
    errors = cf.broken_paths(data, cf.ALL_PATHS)
    assert errors
    assert all(e.split(".", 1)[0] == type_name for e in errors)


KEY_LEVEL = ("drop_key", "not_uuid", "wrong_type", "nest_value")


@settings(max_examples=50)
@given(mutations())
def test_routes_that_do_not_read_the_broken_part_accept_the_set(
    case: tuple[dict[str, Any], str, str],
) -> None:
    data, named, kind = case
    scope = named if kind in KEY_LEVEL else named.split(".", 1)[0]
    for route_need in ROUTE_NEEDS:
        reads = any(p == scope or p.startswith(scope + ".") for p in route_need.paths)
        broken = cf.broken_paths(data, route_need.paths)
        if not reads:
            assert broken == []
        elif kind in KEY_LEVEL:
            assert broken == [named]
        elif kind in ("drop_type", "type_not_object"):
            assert broken == [scope]
        else:  # the type is an object without the keys: each key the route reads is named
            assert broken == [p for p in route_need.paths if p.startswith(scope + ".")]


def test_the_seed_set_is_valid() -> None:
    assert cf.broken_paths(seed_config_set(), cf.ALL_PATHS) == []


def test_the_description_matches_the_seed_structure() -> None:
    seed = seed_config_set()
    assert {t: tuple(sorted(v)) for t, v in seed.items()} == {
        t: tuple(sorted(keys)) for t, keys in cf.REQUIRED.items()
    }


def test_values_come_back_lowercase() -> None:
    data = seed_config_set()
    data["node_id"]["value"] = data["node_id"]["value"].upper()
    assert cf.validate(data, cf.ACTIVE)["node_id.value"] == seed_config_set()["node_id"]["value"]


def test_a_path_the_route_did_not_declare_cannot_be_read() -> None:
    values = cf.validate(seed_config_set(), cf.ACTIVE)
    with pytest.raises(KeyError):
        values["task_status_id.new"]


def test_a_missing_type_is_named_once() -> None:
    data = seed_config_set()
    del data["task_status_id"]
    assert cf.broken_paths(data, cf.QUIT.paths) == ["task_status_id"]


def test_an_empty_object_names_every_key_needed() -> None:
    data = seed_config_set()
    data["contest_status_id"] = {}
    assert cf.broken_paths(data, cf.ARCHIVE.paths) == [
        "contest_status_id.done",
        "contest_status_id.no_winner",
    ]


def test_data_that_is_not_an_object_names_every_type() -> None:
    assert cf.broken_paths(None, cf.ACTIVE.paths) == [
        "node_id",
        "contest_process_id",
        "contest_status_id",
    ]


def test_routes_ask_for_types_in_the_original_order() -> None:
    assert cf.ACTIVE.types == ("node_id", "contest_process_id", "contest_status_id")
    assert cf.DETAILS.types == (
        "task_process_id",
        "node_id",
        "task_status_id",
        "contest_process_id",
    )
    assert cf.CONTEST_TASKS.types == ("node_id", "task_process_id", "task_status_id")
    assert cf.MY_TASKS.types == (
        "node_id",
        "contest_process_id",
        "contest_status_id",
        "task_status_id",
        "task_process_id",
    )


def test_a_need_outside_the_description_is_refused() -> None:
    with pytest.raises(ValueError):
        cf.need("node_id.other")


def test_validation_does_not_change_its_input() -> None:
    data = seed_config_set()
    before = copy.deepcopy(data)
    cf.validate(data, EVERYTHING)
    assert data == before
