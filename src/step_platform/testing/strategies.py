"""Hypothesis strategies for the config format step reads, and for Raida worlds to match.

Public and semver-stable (documented in docs/testing.md, "Property-based testing of config
sets"): the names in `__all__`, their parameters and the shape of what they generate change
only with a major version. A team that edits configs, or builds another consumer of them,
tests against the same generators step's own property tests use::

    from hypothesis import given
    from step_platform.testing.strategies import broken_config_sets, config_sets

    @given(config_sets())
    def test_my_tool_accepts_every_valid_set(data): ...

    @given(broken_config_sets())
    def test_my_tool_names_what_step_names(case):
        assert my_tool.errors(case.data) == list(case.paths)

The expected paths of a broken set are worked out from how it was broken, not by calling
step's validator, so they are an independent statement of step's rule (docs/config-format.md):
a type that is absent or not an object is named by itself (`node_id`), anything wrong inside
one by its path (`task_status_id.new`), in the order of the declaration.

Needs the `testing` extra (`pip install 'step-platform[testing]'`), which brings hypothesis.
"""

from __future__ import annotations

import copy
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from raida_mock.fixtures import CONTEST_STATUS_NAMES, TASK_STATUS_NAMES, seed_node

from ..contests.config_format import ALL_PATHS, REQUIRED

__all__ = [
    "CONFIG_TYPES",
    "BrokenConfigSet",
    "broken_config_sets",
    "config_sets",
    "raida_ids",
    "raida_seeds",
]

CONFIG_TYPES: tuple[str, ...] = tuple(REQUIRED)

TYPE_BREAKS = ("drop_type", "type_not_object", "empty_object", "nest_type")
KEY_BREAKS = ("drop_key", "not_uuid", "wrong_type", "nest_value")

# Text a config store can hold: Postgres JSONB refuses NUL characters and lone surrogates.
_storable = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_extra_name = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)


def _text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(_storable, max_size=max_size)


def raida_ids() -> st.SearchStrategy[str]:
    """Raida ids as a config may hold them: hyphenated UUIDs, lower or upper case."""
    return st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper())


def _distinct_ids(count: int) -> st.SearchStrategy[list[str]]:
    spelled = st.tuples(st.uuids(), st.booleans()).map(
        lambda pair: str(pair[0]).upper() if pair[1] else str(pair[0])
    )
    return st.lists(spelled, min_size=count, max_size=count, unique_by=lambda s: s.lower())


_scalar = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _text(max_size=8)


@st.composite
def config_sets(draw: st.DrawFn, *, extras: bool = True) -> dict[str, Any]:
    """A config set step accepts: every type, every key a Raida id (all ids distinct).

    With `extras` some types carry keys step does not read and the set may hold other types;
    step ignores both. Never shares objects between draws.
    """
    ids = iter(draw(_distinct_ids(len(ALL_PATHS))))
    data: dict[str, Any] = {}
    for type_name, keys in REQUIRED.items():
        section: dict[str, Any] = {key: next(ids) for key in keys}
        if extras:
            for key in draw(st.lists(_extra_name, max_size=2)):
                section.setdefault(key, draw(_scalar))
        data[type_name] = section
    if extras:
        for name in draw(st.lists(_extra_name, max_size=2)):
            data.setdefault(name, {"value": draw(_text(max_size=5))})
    return data


@dataclass(frozen=True)
class BrokenConfigSet:
    """A config set step refuses, and exactly what step names for it.

    data    the set (a JSON object of config types)
    paths   what step reports reading the whole set, in its order: a type's name when the
            type is absent or not an object, `type.key` for each key missing or not a Raida id
    breaks  how it was broken: (type or path, kind) pairs, for reading failures
    """

    data: dict[str, Any]
    paths: tuple[str, ...]
    breaks: tuple[tuple[str, str], ...]

    def paths_read_by(self, read: Iterable[str]) -> list[str]:
        """What a route that reads the paths `read` reports: the broken ones, in `read`'s
        order, a broken type once by its name at its first path."""
        named: list[str] = []
        for path in read:
            type_name = path.split(".", 1)[0]
            if type_name in self.paths:
                if type_name not in named:
                    named.append(type_name)
            elif path in self.paths:
                named.append(path)
        return named


def _not_uuid() -> st.SearchStrategy[str]:
    """Strings that are not a hyphenated UUID, by construction (no validator involved)."""
    wrong_length = st.text(_storable, max_size=35) | st.text(_storable, min_size=37, max_size=40)
    bad_char = st.tuples(
        st.uuids().map(str),
        st.integers(0, 35),
        st.sampled_from("ghijklmnopqrstuvwxyzG_ {}"),
    ).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :])
    misplaced = st.uuids().map(lambda u: u.hex[:8] + "-" + u.hex[8:] + "-" + "ab")  # 36 chars
    return (
        wrong_length
        | bad_char
        | misplaced
        | st.uuids().map(lambda u: u.hex)
        | st.uuids().map(lambda u: "{" + str(u) + "}")
        | st.uuids().map(lambda u: f"{u}\n")
    )


def _wrong_value() -> st.SearchStrategy[Any]:
    """JSON values that are not strings at all."""
    return (
        st.none()
        | st.booleans()
        | st.integers(-(2**53), 2**53)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.lists(raida_ids(), min_size=1, max_size=2)
        | st.builds(dict)
    )


def _type_not_object() -> st.SearchStrategy[Any]:
    """A type's value that is not an object (never null: the configs service refuses null)."""
    return (
        st.booleans()
        | st.integers(-(2**53), 2**53)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.lists(_scalar, max_size=3)
        | _text(max_size=5)
    )


@st.composite
def broken_config_sets(
    draw: st.DrawFn,
    base: st.SearchStrategy[dict[str, Any]] | None = None,
    *,
    max_types: int = 3,
) -> BrokenConfigSet:
    """A valid set (from `base`, default `config_sets()`) broken in 1..`max_types` types.

    The drawn base is copied, never changed. A broken type is dropped, made a non-object,
    emptied or nested one level down, or some of its keys are dropped, made non-UUID strings,
    made non-strings or nested (`{"value": id}`).
    """
    data = copy.deepcopy(draw(base if base is not None else config_sets()))
    types = draw(
        st.lists(st.sampled_from(CONFIG_TYPES), min_size=1, max_size=max_types, unique=True)
    )
    named: set[str] = set()
    breaks: list[tuple[str, str]] = []
    for type_name in types:
        kind = draw(st.sampled_from((*TYPE_BREAKS, "keys")))
        section = data[type_name]
        if kind == "drop_type":
            del data[type_name]
        elif kind == "type_not_object":
            data[type_name] = draw(_type_not_object())
        elif kind == "empty_object":
            data[type_name] = {}
        elif kind == "nest_type":
            data[type_name] = {type_name: section}
        if kind in ("drop_type", "type_not_object"):
            named.add(type_name)
        elif kind != "keys":
            named.update(f"{type_name}.{key}" for key in REQUIRED[type_name])
        if kind != "keys":
            breaks.append((type_name, kind))
            continue
        keys = draw(st.lists(st.sampled_from(REQUIRED[type_name]), min_size=1, unique=True))
        for key in keys:
            key_kind = draw(st.sampled_from(KEY_BREAKS))
            if key_kind == "drop_key":
                del section[key]
            elif key_kind == "not_uuid":
                section[key] = draw(_not_uuid())
            elif key_kind == "wrong_type":
                section[key] = draw(_wrong_value())
            else:
                section[key] = {"value": section[key]}
            named.add(f"{type_name}.{key}")
            breaks.append((f"{type_name}.{key}", key_kind))
    order = [p for path in ALL_PATHS for p in (path.split(".", 1)[0], path)]
    paths = tuple(dict.fromkeys(p for p in order if p in named))
    return BrokenConfigSet(data=data, paths=paths, breaks=tuple(breaks))


# --- Raida worlds ----------------------------------------------------------------------------

_title = st.text(string.ascii_letters + string.digits + " АБВГДЕЖЗабвгдежз", max_size=30)
_relative_day = st.builds(
    lambda base, sign, days: f"${base}{sign}{days}d",
    st.sampled_from(("now", "today", "date")),
    st.sampled_from("+-"),
    st.integers(1, 400),
)


@st.composite
def raida_seeds(
    draw: st.DrawFn,
    config: Mapping[str, Any] | None = None,
    *,
    max_contests: int = 6,
    users: st.SearchStrategy[str] | None = None,
) -> dict[str, Any]:
    """A raida-mock fixture (docs/simulators.md) whose node, processes and statuses are the
    ids of `config` (default: a draw of `config_sets()`), with up to `max_contests` contests in
    any status and applications of `users` (default: three fixed-per-draw random users) in any
    status. Dates are raida-mock's relative markers (`$now-3d`), so the world never goes stale.
    Load it with raida-mock's admin API (`POST /__admin/seed`) or `--seed FILE`.
    """
    config = config if config is not None else draw(config_sets(extras=False))
    # Raida ids as step sends them (lowercase), for the types step reads
    canonical = {t: {k: str(v).lower() for k, v in config[t].items()} for t in REQUIRED}

    def raida_id(type_name: str, key: str) -> str:
        return canonical[type_name][key]

    people = (
        users
        if users is not None
        else st.sampled_from(
            [str(u) for u in draw(st.lists(st.uuids(), min_size=3, max_size=3, unique=True))]
        )
    )
    contest_process = raida_id("contest_process_id", "value")
    task_process = raida_id("task_process_id", "value")
    tasks: list[dict[str, Any]] = []
    contest_ids = draw(st.lists(st.uuids().map(str), max_size=max_contests, unique=True))
    for number, contest_id in enumerate(contest_ids, 1):
        status = draw(st.sampled_from(tuple(CONTEST_STATUS_NAMES)))
        tasks.append(
            {
                "id": contest_id,
                "process_id": contest_process,
                "status_id": raida_id("contest_status_id", status),
                "title": draw(_title) or f"Contest {number}",
                "description": draw(_title),
                "created_at": draw(_relative_day),
                "custom_fields": {
                    "cf_deadline": draw(_relative_day),
                    "cf_award": draw(_title),
                    "cf_brief": draw(_title),
                    "cf_profession": draw(_title),
                    "cf_projects": draw(_title),
                    "cf_konkurs_category": draw(_title),
                },
                "author": None,
                "assignee": None,
                "attachments": [],
            }
        )
        for user in draw(st.lists(people, max_size=2, unique=True)):
            task_status = draw(st.sampled_from(tuple(TASK_STATUS_NAMES)))
            custom: dict[str, Any] = {"cf_konkurs_id": contest_id, "cf_userid": user}
            if task_status == "completed":
                custom["solution_link"] = draw(_title)
            tasks.append(
                {
                    "id": str(draw(st.uuids())),
                    "process_id": task_process,
                    "status_id": raida_id("task_status_id", task_status),
                    "title": "",
                    "description": "",
                    "created_at": draw(_relative_day),
                    "custom_fields": custom,
                    "author": None,
                    "assignee": None,
                    "attachments": [],
                }
            )
    node = seed_node(canonical)
    node["name"] = draw(_title) or node["name"]
    node["tasks"] = tasks
    return {"nodes": [node]}
