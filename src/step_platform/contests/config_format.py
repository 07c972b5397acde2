"""The required config set of a project, described once, and its validator.

Seed section 8 fixes the structure: five types, each an object whose keys hold Raida ids
(UUID strings). The original dereferenced keys as it went and turned a missing inner key into
the literal `None` inside RQL; here every route declares the paths it reads (`Need`), the
validator checks exactly those up front, and a broken set is answered with the seed's
SERVICE_ERROR plus the list of paths that are missing or wrong.

`REQUIRED` (with `DESCRIPTIONS`) is the one declaration: the JSON Schemas step publishes
(`type_schemas()`: `GET /config-schema/`, `step-platform schema config-format`, and the
consumer registration in the configs service) are generated from it, and step validates what
it reads with those same schemas, so the published contract and step's behaviour cannot drift.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema.protocols import Validator

from ..core import ids
from ..core.errors import ApiError
from ..core.json_schema import DIALECT, MISSING, compile_schema, error_paths

# type -> the keys it must hold (seed section 8), each a UUID string
REQUIRED: Mapping[str, tuple[str, ...]] = {
    "task_status_id": ("new", "approved", "completed", "rejection"),
    "node_id": ("value",),
    "contest_status_id": (
        "new",
        "done",
        "voting",
        "no_winner",
        "rejection",
        "sum_results",
        "acceptance_works",
        "acceptance_works_done",
    ),
    "task_process_id": ("value",),
    "contest_process_id": ("value",),
}

DESCRIPTIONS: Mapping[str, str] = {
    "task_status_id": "Raida status ids of the applications' process (task_process_id).",
    "node_id": "The Raida node (workspace) that holds the contests and the applications.",
    "contest_status_id": "Raida status ids of the contests' process (contest_process_id).",
    "task_process_id": "The Raida process of applications (one task per user and contest).",
    "contest_process_id": "The Raida process of contests.",
}

ALL_PATHS: tuple[str, ...] = tuple(f"{t}.{k}" for t, keys in REQUIRED.items() for k in keys)

SERVICE_ERROR_MESSAGE = "Неправильный формат конфигураций для проекта"
# A Project-ID with no config of any type a route reads is the caller's mistake (a wrong or
# unknown project), not a broken project: 404 naming the project, not 500.
PROJECT_NOT_FOUND = "PROJECT_NOT_FOUND"
PROJECT_NOT_FOUND_MESSAGE = "Для проекта {project_id} не найдено ни одной конфигурации."

# ECMA-262 and Python read this pattern alike; the length bounds keep Python's `$` (which also
# matches before a final newline) from admitting "<uuid>\n".
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def is_uuid(value: Any) -> bool:
    """A UUID in the hyphenated 36-character form Raida uses (any case)."""
    return isinstance(value, str) and ids.is_uuid(value, hyphenated=True)


def raida_id_schema() -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 36,
        "maxLength": 36,
        "pattern": UUID_PATTERN,
        "description": "A Raida id: a hyphenated UUID, any case.",
    }


def type_schema(type_name: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of one config type: an object holding its Raida ids.

    Other keys are allowed (step ignores them), so a config may carry more than step reads.
    """
    keys = REQUIRED[type_name]
    return {
        "$schema": DIALECT,
        "title": type_name,
        "description": DESCRIPTIONS[type_name],
        "type": "object",
        "properties": {key: raida_id_schema() for key in keys},
        "required": list(keys),
    }


def type_schemas() -> dict[str, dict[str, Any]]:
    """Config type -> its JSON Schema, for every type step reads, in declaration order."""
    return {type_name: type_schema(type_name) for type_name in REQUIRED}


@functools.cache
def _validator(type_name: str) -> Validator:
    return compile_schema(type_schema(type_name))


@functools.lru_cache(maxsize=1024)
def _type_errors(type_name: str, canonical: str) -> tuple[str, ...]:
    """The broken paths of one type's value, given as canonical JSON text.

    Memoised: a project's configs change rarely and every request validates them, and a
    jsonschema run costs about ten times the JSON text that keys this cache.
    """
    return tuple(error_paths(_validator(type_name), type_name, json.loads(canonical)))


def type_errors(type_name: str, value: Any) -> tuple[str, ...]:
    """The dotted paths where `value` (or MISSING) breaks the schema of `type_name`."""
    if value is MISSING:
        return (type_name,)
    return _type_errors(type_name, json.dumps(value, sort_keys=True, ensure_ascii=False))


@dataclass(frozen=True)
class Need:
    """The config paths one route reads; `types` is what it asks the configs service for."""

    paths: tuple[str, ...]

    def __post_init__(self) -> None:
        unknown = [p for p in self.paths if p not in ALL_PATHS]
        if unknown:
            raise ValueError(f"not in the config description: {unknown}")

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.split(".", 1)[0] for p in self.paths))


def need(*paths: str) -> Need:
    return Need(tuple(paths))


class ConfigSet:
    """The validated values of one route's paths, as canonical lowercase UUID strings.

    Reading a path the route did not declare is a programming error (KeyError), which keeps
    each route's `Need` honest.
    """

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def __getitem__(self, path: str) -> str:
        return self._values[path]

    def __repr__(self) -> str:
        return f"ConfigSet({self._values!r})"


def broken_paths(data: Any, paths: Iterable[str]) -> list[str]:
    """The paths among `paths` that are missing or wrong, in the order asked.

    Each type is checked against its published JSON Schema. A type that is absent, null or
    not an object is reported once by its own name (the whole type is what is missing); a key
    that is absent or not a UUID string by its full path.
    """
    asked = list(paths)
    found: set[str] = set()
    for type_name in dict.fromkeys(p.split(".", 1)[0] for p in asked):
        value = data.get(type_name, MISSING) if isinstance(data, Mapping) else MISSING
        found.update(type_errors(type_name, value))
    errors: list[str] = []
    for path in asked:
        type_name = path.split(".", 1)[0]
        if type_name in found:
            if type_name not in errors:
                errors.append(type_name)
        elif path in found:
            errors.append(path)
    return errors


def service_error(errors: list[str]) -> ApiError:
    return ApiError(500, "SERVICE_ERROR", SERVICE_ERROR_MESSAGE, errors=errors)


def project_not_found(project_id: str, types: list[str]) -> ApiError:
    message = PROJECT_NOT_FOUND_MESSAGE.format(project_id=project_id)
    return ApiError(404, PROJECT_NOT_FOUND, message, project_id=project_id, missing=types)


def validate(data: Any, need: Need) -> ConfigSet:
    """The route's config values, or the SERVICE_ERROR naming every broken path."""
    errors = broken_paths(data, need.paths)
    if errors:
        raise service_error(errors)
    values = {}
    for path in need.paths:
        type_name, key = path.split(".", 1)
        values[path] = data[type_name][key].lower()
    return ConfigSet(values)


# What each route reads. Type order follows the original's configs request for the route,
# minus types it fetched but never read (routes 9 and 10 fetched `contest_process_id`).
ACTIVE = need("node_id.value", "contest_process_id.value", "contest_status_id.acceptance_works")
ARCHIVE = need(
    "node_id.value",
    "contest_process_id.value",
    "contest_status_id.done",
    "contest_status_id.no_winner",
)
DETAILS = need(
    "task_process_id.value",
    "node_id.value",
    "task_status_id.new",
    "task_status_id.approved",
    "task_status_id.completed",
    "contest_process_id.value",
)
CONTEST_TASKS = need(
    "node_id.value",
    "task_process_id.value",
    "task_status_id.approved",
    "task_status_id.completed",
)
MY_TASKS = need(
    "node_id.value",
    "contest_process_id.value",
    "contest_status_id.acceptance_works",
    "contest_status_id.acceptance_works_done",
    "contest_status_id.voting",
    "contest_status_id.sum_results",
    "contest_status_id.done",
    "task_status_id.completed",
    "task_status_id.rejection",
    "task_process_id.value",
)
HISTORY = need(
    "node_id.value",
    "contest_process_id.value",
    "task_process_id.value",
    "contest_status_id.done",
    "task_status_id.completed",
)
JOIN = need(
    "task_process_id.value",
    "contest_process_id.value",
    "node_id.value",
    "task_status_id.new",
    "task_status_id.approved",
    "task_status_id.completed",
    "task_status_id.rejection",
)
QUIT = need(
    "task_process_id.value",
    "node_id.value",
    "task_status_id.new",
    "task_status_id.approved",
    "task_status_id.completed",
    "task_status_id.rejection",
)
SEND_SOLUTION = need(
    "task_process_id.value",
    "node_id.value",
    "task_status_id.new",
    "task_status_id.approved",
    "task_status_id.completed",
)
