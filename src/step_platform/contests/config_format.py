"""The required config set of a project, described once, and its validator.

Seed section 8 fixes the structure: five types, each an object whose keys hold Raida ids
(UUID strings). The original dereferenced keys as it went and turned a missing inner key into
the literal `None` inside RQL; here every route declares the paths it reads (`Need`), the
validator checks exactly those up front, and a broken set is answered with the seed's
SERVICE_ERROR plus the list of paths that are missing or wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core import ids
from ..core.errors import ApiError

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

ALL_PATHS: tuple[str, ...] = tuple(f"{t}.{k}" for t, keys in REQUIRED.items() for k in keys)

SERVICE_ERROR_MESSAGE = "Неправильный формат конфигураций для проекта"
# A Project-ID with no config of any type a route reads is the caller's mistake (a wrong or
# unknown project), not a broken project: 404 naming the project, not 500.
PROJECT_NOT_FOUND = "PROJECT_NOT_FOUND"
PROJECT_NOT_FOUND_MESSAGE = "Для проекта {project_id} не найдено ни одной конфигурации."


def is_uuid(value: Any) -> bool:
    """A UUID in the hyphenated 36-character form Raida uses (any case)."""
    return isinstance(value, str) and ids.is_uuid(value, hyphenated=True)


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

    A type that is absent, null or not an object is reported once by its own name (the whole
    type is what is missing); a key that is absent or not a UUID string by its full path.
    """
    errors: list[str] = []
    for path in paths:
        type_name, key = path.split(".", 1)
        section = data.get(type_name) if isinstance(data, Mapping) else None
        if not isinstance(section, Mapping):
            if type_name not in errors:
                errors.append(type_name)
        elif not is_uuid(section.get(key)):
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
