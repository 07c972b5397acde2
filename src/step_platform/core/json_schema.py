"""JSON Schema (2020-12) checking with `jsonschema`, reported as dotted config paths.

Both sides of a consumer contract use this module: step validates the config set it reads
against the schemas it publishes, and the configs service validates a write against the
schemas consumers registered. So a broken config is named the same way everywhere:

* `<type>` when the type is absent, or its value is wrong as a whole (null, not an object);
* `<type>.<key>[.<key>...]` for a value inside it (array items by index), and, for a missing
  required property, the path the property would have.

Paths come in declaration order (the schema's `required`, then `properties`), each once.
Registered schemas must be self-contained (every `$ref` a local `#...` pointer that
resolves), so validation never reaches the network and never fails on a missing reference.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

DIALECT = "https://json-schema.org/draft/2020-12/schema"
REFERENCE_KEYWORDS = ("$ref", "$dynamicRef")
# Deeper schemas are refused before jsonschema walks them (it recurses, and would hit Python's
# recursion limit); real schemas are a few levels deep.
MAX_DEPTH = 64


class MissingType:
    """The value of a config type that is not in the set at all."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = MissingType()


class SchemaProblem(ValueError):
    """A schema that cannot be used: `message` says why, `path` where (JSON pointer)."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{message} (at {path or '/'})")
        self.message = message
        self.path = path


def _pointer(parts: Any) -> str:
    return "".join(f"/{str(p).replace('~', '~0').replace('/', '~1')}" for p in parts)


def _depth(node: Any) -> int:
    """Nesting depth of a JSON document, without recursion."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        if isinstance(current, Mapping):
            stack.extend((v, depth + 1) for v in current.values())
        elif isinstance(current, list):
            stack.extend((v, depth + 1) for v in current)
    return deepest


def _references(node: Any, where: tuple[Any, ...] = ()) -> Iterator[tuple[str, Any, tuple]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in REFERENCE_KEYWORDS:
                yield key, value, (*where, key)
            else:
                yield from _references(value, (*where, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _references(value, (*where, index))


def compile_schema(schema: Any) -> Validator:
    """A validator for `schema` (2020-12 unless its `$schema` names another dialect).

    Raises `SchemaProblem` for a schema that is not valid against its meta-schema, or whose
    references leave the document or do not resolve.
    """
    if not isinstance(schema, Mapping | bool):
        raise SchemaProblem("a schema must be a JSON object or a boolean")
    if _depth(schema) > MAX_DEPTH:
        raise SchemaProblem(f"a schema may be nested at most {MAX_DEPTH} levels deep")
    cls = validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as error:
        raise SchemaProblem(error.message, _pointer(error.absolute_path)) from None
    if isinstance(schema, Mapping):
        resource = Resource.from_contents(schema, default_specification=DRAFT202012)
        resolver = Registry().with_resource("", resource).resolver()
        for keyword, target, where in _references(schema):
            if not isinstance(target, str) or not target.startswith("#"):
                raise SchemaProblem(
                    f"{keyword} must point inside the schema (start with '#')", _pointer(where)
                )
            try:
                resolver.lookup(target)
            except Unresolvable:
                message = f"{keyword} {target!r} does not resolve"
                raise SchemaProblem(message, _pointer(where)) from None
    return cls(schema)


def _order(validator: Validator) -> dict[str, int]:
    """Declaration order of the top-level properties: `required` first (an array keeps its
    order when the schema is stored as JSONB; object keys do not), then `properties`."""
    schema = validator.schema
    if not isinstance(schema, Mapping):
        return {}
    required = schema.get("required")
    properties = schema.get("properties")
    names = [
        *(required if isinstance(required, list) else ()),
        *(properties if isinstance(properties, Mapping) else ()),
    ]
    return {name: i for i, name in enumerate(dict.fromkeys(n for n in names if isinstance(n, str)))}


def _error_paths(error: ValidationError) -> list[tuple[Any, ...]]:
    where = tuple(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, Mapping):
        wanted = error.validator_value if isinstance(error.validator_value, list) else []
        return [(*where, name) for name in wanted if name not in error.instance]
    return [where]


def error_paths(validator: Validator, name: str, value: Any) -> list[str]:
    """The dotted paths where `value` (config type `name`) breaks the schema; [] when valid.

    `MISSING` (the type is absent) is reported as `name` itself.
    """
    if value is MISSING:
        return [name]
    try:
        found = [p for error in validator.iter_errors(value) for p in _error_paths(error)]
    except (Unresolvable, RecursionError):
        # a schema stored around compile_schema, or a recursive schema on very deep data:
        # the value cannot be shown to conform, so it does not
        return [name]
    order = _order(validator)
    unique = list(dict.fromkeys(found))
    # the whole value first, then by declaration order; ties keep jsonschema's order
    unique.sort(key=lambda parts: order.get(str(parts[0]), len(order)) if parts else -1)
    return [".".join([name, *map(str, parts)]) for parts in unique]
