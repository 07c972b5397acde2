"""JSON Schema checks reported as dotted config paths (core/json_schema.py)."""

from __future__ import annotations

import json

import pytest

from step_platform.cli import main
from step_platform.contests.config_format import type_schemas
from step_platform.core.json_schema import MISSING, SchemaProblem, compile_schema, error_paths

ORDER = {
    "type": "object",
    "required": ["b", "a"],
    "properties": {"a": {"type": "integer"}, "b": {"type": "string"}, "c": {"type": "array"}},
}


def test_a_missing_type_is_named_by_itself() -> None:
    assert error_paths(compile_schema(ORDER), "t", MISSING) == ["t"]


def test_a_value_of_the_wrong_kind_is_named_by_the_type() -> None:
    assert error_paths(compile_schema(ORDER), "t", None) == ["t"]


def test_paths_follow_the_declaration_order_of_required() -> None:
    assert error_paths(compile_schema(ORDER), "t", {"a": "x"}) == ["t.b", "t.a"]


def test_nested_and_array_paths_are_dotted() -> None:
    schema = {
        "type": "object",
        "properties": {"c": {"type": "array", "items": {"type": "object", "required": ["id"]}}},
    }
    assert error_paths(compile_schema(schema), "t", {"c": [{"id": 1}, {}]}) == ["t.c.1.id"]


def test_a_valid_value_has_no_paths() -> None:
    assert error_paths(compile_schema(ORDER), "t", {"a": 1, "b": "x", "z": None}) == []


@pytest.mark.parametrize(
    "schema",
    [
        {"type": 5},
        {"minLength": -1},
        {"$ref": "other.json"},
        {"$ref": "#/$defs/x"},
        {"properties": {"a": {"$dynamicRef": "http://x/y"}}},
        "not a schema",
    ],
)
def test_an_unusable_schema_is_a_schema_problem(schema: object) -> None:
    with pytest.raises(SchemaProblem):
        compile_schema(schema)


def test_local_references_are_allowed() -> None:
    schema = {"$defs": {"id": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/id"}}}
    assert error_paths(compile_schema(schema), "t", {"a": 1}) == ["t.a"]


def test_the_schema_command_prints_steps_registration(capsys: pytest.CaptureFixture) -> None:
    assert main(["schema", "config-format"]) == 0
    assert json.loads(capsys.readouterr().out) == {"schemas": type_schemas()}


def test_a_schema_nested_too_deeply_is_a_schema_problem() -> None:
    schema: dict = {}
    inner = schema
    for _ in range(100):
        inner["properties"] = {"a": {}}
        inner = inner["properties"]["a"]
    with pytest.raises(SchemaProblem, match="nested at most"):
        compile_schema(schema)


def test_a_recursive_schema_on_data_too_deep_to_check_names_the_type() -> None:
    node = {"type": "object", "properties": {"a": {"$ref": "#/$defs/node"}}}
    validator = compile_schema({"$defs": {"node": node}, "$ref": "#/$defs/node"})
    deep = json.loads('{"a":' * 900 + "{}" + "}" * 900)
    assert error_paths(validator, "t", deep) == ["t"]
    assert error_paths(validator, "t", {"a": {"a": 1}}) == ["t.a.a"]
