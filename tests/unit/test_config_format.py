"""The config-set description and its validator (seed section 8)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from jsonschema import Draft202012Validator

from step_platform.contests import config_format as cf
from step_platform.core.errors import ApiError
from step_platform.seed import seed_config_set
from step_platform.testing.strategies import BrokenConfigSet, broken_config_sets, config_sets

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


@settings(max_examples=100)
@given(config_sets())
def test_every_set_the_description_admits_is_accepted(data: dict[str, Any]) -> None:
    assert cf.broken_paths(data, cf.ALL_PATHS) == []
    values = cf.validate(data, EVERYTHING)
    for path in cf.ALL_PATHS:
        type_name, key = path.split(".", 1)
        assert values[path] == data[type_name][key].lower()


@settings(max_examples=200)
@given(broken_config_sets())
def test_a_broken_set_is_refused_naming_exactly_its_broken_paths(case: BrokenConfigSet) -> None:
    with pytest.raises(ApiError) as caught:
        cf.validate(case.data, EVERYTHING)
    error = caught.value
    assert error.status == 500
    assert error.payload()["detail"]["code"] == "SERVICE_ERROR"
    assert error.payload()["detail"]["message"] == "Неправильный формат конфигураций для проекта"
    assert error.payload()["detail"]["errors"] == list(case.paths)


@settings(max_examples=100)
@given(broken_config_sets())
def test_each_route_names_exactly_the_broken_paths_it_reads(case: BrokenConfigSet) -> None:
    for route_need in ROUTE_NEEDS:
        assert cf.broken_paths(case.data, route_need.paths) == case.paths_read_by(route_need.paths)


@settings(max_examples=50)
@given(broken_config_sets(max_types=1))
def test_routes_that_do_not_read_the_broken_type_accept_the_set(case: BrokenConfigSet) -> None:
    broken_type = case.paths[0].split(".", 1)[0]
    for route_need in ROUTE_NEEDS:
        if broken_type not in route_need.types:
            assert cf.broken_paths(case.data, route_need.paths) == []


def test_a_uuid_with_a_final_newline_is_not_a_raida_id() -> None:
    data = seed_config_set()
    data["node_id"]["value"] += "\n"
    assert cf.broken_paths(data, cf.ACTIVE.paths) == ["node_id.value"]


def test_the_published_schemas_are_the_declaration() -> None:
    schemas = cf.type_schemas()
    assert list(schemas) == list(cf.REQUIRED)
    for type_name, schema in schemas.items():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["type"] == "object"
        assert schema["required"] == list(cf.REQUIRED[type_name])
        assert list(schema["properties"]) == list(cf.REQUIRED[type_name])


def test_the_published_schemas_are_valid_json_schemas() -> None:
    for schema in cf.type_schemas().values():
        Draft202012Validator.check_schema(schema)


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
