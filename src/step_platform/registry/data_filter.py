"""The `data=` filter mini-language: a real parser, and its translation to parameterised SQL.

    data=<key>[__<key>...]__<lookup>=<value>[::<type>]

The lookup is the last `__` segment before the first `=`; every earlier segment is a key of
the path into `data`. The value is everything after that `=`; when it contains `::`, the text
after the last `::` must be a type (`int`, `float`, `str`, `bool`) and is removed — so a value
that itself contains `::` is written with an explicit `::str`. Without a type the value is a
string. Anything malformed raises `DataFilterError` (the API answers 400); the original
silently returned an empty list or failed with a 500.

Semantics (what `tests/` checks against a plain-Python evaluation):
* the path is followed with Postgres `#>`: object keys, and an integer segment also indexes an
  array; a missing step means "no value";
* `exact` is JSON equality with the typed value (`7` matches `"7"`, `7::int` matches `7` and
  `7.0`; booleans and numbers never equal each other);
* `gt gte lt lte` compare only values of the typed value's JSON type: numbers numerically,
  strings by code point, booleans false < true; values of another type never match;
* `iexact contains icontains startswith istartswith endswith iendswith` apply to string values
  only, against the value text as written (`icontains=789::int` looks for "789"); the `i`
  lookups fold case with the database's `lower()`;
* `isnull=true` matches a missing value or JSON null, `isnull=false` any other value.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from ..core import limits
from .sql import Params

LOOKUPS = (
    "exact",
    "iexact",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "gt",
    "gte",
    "lt",
    "lte",
    "isnull",
)
TYPES = ("int", "float", "str", "bool")
TEXT_LOOKUPS = {
    "iexact": "lower({v}) = lower({p})",
    "contains": "strpos({v}, {p}) > 0",
    "icontains": "strpos(lower({v}), lower({p})) > 0",
    "startswith": "starts_with({v}, {p})",
    "istartswith": "starts_with(lower({v}), lower({p}))",
    "endswith": "right({v}, length({p})) = {p}",
    "iendswith": "right(lower({v}), length({p})) = lower({p})",
}
COMPARISONS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
JSON_TYPES = {str: "string", int: "number", float: "number", bool: "boolean"}

_INT = re.compile(r"[+-]?\d{1,300}")
_FLOAT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# What Postgres `#>` reads as an array index (strtol, base 10, whole text).
_ARRAY_INDEX = re.compile(r"[ \t\n\v\f\r]*[+-]?\d+")


class DataFilterError(ValueError):
    """A malformed `data=` expression; the message says what is wrong."""


@dataclass(frozen=True)
class DataFilter:
    path: tuple[str, ...]
    lookup: str
    value: str | int | float | bool
    text: str  # the value as written, for the text lookups


def _cast(text: str, type_name: str) -> str | int | float | bool:
    if type_name == "str":
        return text
    if type_name == "int":
        if not _INT.fullmatch(text):
            raise DataFilterError(f"{text!r} is not an integer.")
        return int(text)
    if type_name == "float":
        if not _FLOAT.fullmatch(text) or not math.isfinite(number := float(text)):
            raise DataFilterError(f"{text!r} is not a finite number.")
        return number
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise DataFilterError(f"{text!r} is not a boolean (true or false).")
    return lowered == "true"


def parse(expression: str) -> DataFilter:
    if "\x00" in expression:
        raise DataFilterError("Null characters are not allowed.")
    left, eq, raw = expression.partition("=")
    if not eq:
        raise DataFilterError("Expected <key>__<lookup>=<value>: there is no '='.")
    *path, lookup = left.split("__")
    if not path:
        raise DataFilterError("Expected <key>__<lookup>=<value>: there is no lookup.")
    if not all(path):
        raise DataFilterError("A key of the path is empty.")
    limits.check("data_path_depth", len(path))
    if lookup not in LOOKUPS:
        raise DataFilterError(f"Unknown lookup {lookup!r}: use one of {', '.join(LOOKUPS)}.")
    text, type_name = raw, None
    if "::" in raw:
        text, _, type_name = raw.rpartition("::")
        if type_name not in TYPES:
            raise DataFilterError(
                f"Unknown type {type_name!r}: use one of {', '.join(TYPES)} "
                "(a value containing '::' needs an explicit '::str')."
            )
    if lookup == "isnull":
        if type_name not in (None, "bool"):
            raise DataFilterError("isnull takes true or false.")
        value = _cast(text, "bool")
    else:
        value = _cast(text, type_name or "str")
    return DataFilter(path=tuple(path), lookup=lookup, value=value, text=text)


def _nested(path: tuple[str, ...], value: Any) -> Any:
    for key in reversed(path):
        value = {key: value}
    return value


def to_sql(f: DataFilter, params: Params, column: str = "data") -> str:
    """One SQL condition on `column`; every key and value is a parameter."""
    path = params.add(list(f.path), "text[]")
    target, as_text = f"({column} #> {path})", f"({column} #>> {path})"
    if f.lookup == "isnull":
        return (
            f"coalesce(jsonb_typeof({target}), 'null') = 'null'"
            if f.value
            else f"jsonb_typeof({target}) <> 'null'"
        )
    if f.lookup == "exact":
        condition = f"{target} = {params.add(json.dumps(f.value), 'jsonb')}"
        if not any(_ARRAY_INDEX.fullmatch(key) for key in f.path):
            # Equality implies containment along object keys: let the GIN index narrow first.
            contained = params.add(json.dumps(_nested(f.path, f.value)), "jsonb")
            condition = f"{column} @> {contained} AND {condition}"
        return condition
    if f.lookup in TEXT_LOOKUPS:
        template = TEXT_LOOKUPS[f.lookup]
        return f"jsonb_typeof({target}) = 'string' AND " + template.format(
            v=as_text, p=params.add(f.text, "text")
        )
    operator = COMPARISONS[f.lookup]
    json_type = JSON_TYPES[type(f.value)]
    if isinstance(f.value, str):
        compared = f'{as_text} COLLATE "C" {operator} {params.add(f.value, "text")}'
    else:
        compared = f"{target} {operator} {params.add(json.dumps(f.value), 'jsonb')}"
    return f"jsonb_typeof({target}) = '{json_type}' AND {compared}"
