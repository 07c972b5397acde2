"""The configs document says what the server enforces (the bounds schemathesis checks)."""

from __future__ import annotations

from step_platform.configs.openapi import document
from step_platform.core.watch import MAX_INDEX, WAIT_PATTERN


def test_the_watch_parameters_carry_the_servers_rules():
    params = {p["name"]: p for p in document()["paths"]["/configs/"]["get"]["parameters"]}
    assert params["wait"]["schema"]["pattern"] == WAIT_PATTERN
    assert params["index"]["schema"]["maximum"] == MAX_INDEX


def test_config_data_may_be_any_json_value_but_null():
    data = document()["components"]["schemas"]["ConfigData"]["properties"]["data"]
    assert "null" not in {option.get("type") for option in data["anyOf"]}
    assert "nullable" not in data


def test_a_history_page_is_bounded():
    get = document()["paths"]["/configs/{config_type}/history/"]["get"]
    params = {p["name"]: p["schema"] for p in get["parameters"]}
    assert (params["limit"]["minimum"], params["limit"]["maximum"]) == (1, 1000)
    assert params["offset"]["minimum"] == 0
