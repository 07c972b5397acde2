"""Registered consumers of configs, kept in the registry itself.

A consumer registers, by name, the JSON Schema of each config type it reads. Registrations
are registry config rows of the reserved type `_consumer` under the nil project, one per
consumer (`object_code` `_consumer:<name>`, `data` `{"name", "schemas"}`, see
`registration_data`), so the configs service stays free of a database of its own and every
instance sees the same consumers. The write path reads them in the same registry call that
reads the row it changes (`with_consumers`), so checking contracts costs no extra call.

Validators are compiled once per stored version of a registration (row id + modified_date).
"""

from __future__ import annotations

import json
import logging
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema.protocols import Validator

from ..core.errors import ApiError
from ..core.json_schema import SchemaProblem, compile_schema
from .validation import MAX_TYPE_LENGTH, RESERVED_TYPES, TYPE_NAME

CONSUMER_TYPE = "_consumer"
CONSUMERS_PROJECT = "00000000-0000-0000-0000-000000000000"
CONSUMER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
MAX_COMPILED = 256

MSG_NAME = "Имя потребителя: латинские буквы, цифры, '_', '.', '-', до 100 символов."
MSG_SCHEMAS = 'Тело запроса: {"schemas": {"<тип конфига>": <JSON Schema>, ...}}.'
MSG_INVALID_SCHEMA = "Некорректная JSON Schema для типа {type}: {problem}"

log = logging.getLogger("step_platform.configs.consumers")


def object_code(name: str) -> str:
    return f"{CONSUMER_TYPE}:{name}"


def is_consumer_row(row: Mapping[str, Any]) -> bool:
    return row.get("object_type") == CONSUMER_TYPE and row.get("project_id") == CONSUMERS_PROJECT


def with_consumers(params: dict[str, str]) -> dict[str, str]:
    """A registry list query that also returns the consumer registrations.

    The registry's id and type filters are OR-lists, so the query asks for the project's rows
    and the nil project's `_consumer` rows at once; `split` tells them apart.
    """
    extended = dict(params)
    extended["project_id"] = f"{params['project_id']},{CONSUMERS_PROJECT}"
    if "object_type" in params:
        extended["object_type"] = f"{params['object_type']},{CONSUMER_TYPE}"
    accounts = params.get("account_id", "null").split(",")
    if "null" not in accounts:
        extended["account_id"] = ",".join([*accounts, "null"])
    return extended


@dataclass
class Consumer:
    """A registration: the consumer's name and the schema of each type it reads."""

    name: str
    schemas: dict[str, Any]
    registered_by: str | None = None
    modified_date: str | None = None
    validators: dict[str, Validator] = field(default_factory=dict, repr=False)

    def validator(self, type_name: str) -> Validator | None:
        return self.validators.get(type_name)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "types": list(self.schemas),
            "schemas": self.schemas,
            "registered_by": self.registered_by,
            "modified_date": self.modified_date,
        }


def parse_name(raw: str) -> str:
    if not CONSUMER_NAME.fullmatch(raw):
        raise ApiError(400, "BAD_REQUEST", MSG_NAME, fields={"name": [MSG_NAME]})
    return raw


def registration_data(name: str, schemas: dict[str, Any]) -> dict[str, Any]:
    """The registry row's `data` of a registration.

    The registry cannot store U+0000 (Postgres' jsonb has no room for it), which a JSON Schema
    may hold (a property name, an `enum` value); such schemas are kept as their JSON text
    (`schemas_json`), where it is an escape, and read back by `stored_schemas`.
    """
    text = json.dumps(schemas, ensure_ascii=False)
    if "\\u0000" in text:
        return {"name": name, "schemas_json": text}
    return {"name": name, "schemas": schemas}


def stored_schemas(data: Mapping[str, Any]) -> Any:
    """The schemas of a registration row's `data` (either spelling of `registration_data`)."""
    text = data.get("schemas_json")
    if "schemas" not in data and isinstance(text, str):
        try:
            return json.loads(text)
        except ValueError:
            return None
    return data.get("schemas")


def is_writable_type(name: str) -> bool:
    """Whether configs of this type can exist: a plain, unreserved type name."""
    return (
        bool(TYPE_NAME.fullmatch(name))
        and len(name) <= MAX_TYPE_LENGTH
        and (name not in RESERVED_TYPES)
    )


def parse_registration(body: Any) -> dict[str, Any]:
    """`{"schemas": {type: schema}}` with every schema usable, or 400 naming what is not.

    A key that is not a config type name (no config of it can ever be written) is kept as
    given and constrains nothing: OpenAPI 3.0 cannot restrict an object's keys, so the
    document cannot say it is refused.
    """
    schemas = body.get("schemas") if isinstance(body, dict) else None
    if not isinstance(schemas, dict) or not schemas:
        raise ApiError(400, "BAD_REQUEST", MSG_SCHEMAS, fields={"schemas": [MSG_SCHEMAS]})
    fields: dict[str, list[str]] = {}
    for type_name, schema in schemas.items():
        where = f"schemas.{type_name}"
        try:
            compile_schema(schema)
        except SchemaProblem as problem:
            fields[where] = [f"{problem.message} (at {problem.path or '/'})"]
    if fields:
        first, messages = next(iter(fields.items()))
        message = MSG_INVALID_SCHEMA.format(type=first.split(".", 1)[1], problem=messages[0])
        raise ApiError(400, "INVALID_SCHEMA", message, fields=fields)
    return schemas


class ConsumerBook:
    """Turns registration rows into `Consumer`s, reusing compiled validators."""

    def __init__(self, max_compiled: int = MAX_COMPILED) -> None:
        self._compiled: OrderedDict[tuple[Any, Any], Consumer] = OrderedDict()
        self.max_compiled = max_compiled

    def consumers(self, rows: Iterable[Mapping[str, Any]]) -> list[Consumer]:
        """The active registrations among `rows` (other rows are ignored)."""
        found = []
        for row in rows:
            meta = row.get("meta")
            status = meta.get("status") if isinstance(meta, Mapping) else "active"
            if not is_consumer_row(row) or str(status).lower() != "active":
                continue
            consumer = self._consumer(row)
            if consumer is not None:
                found.append(consumer)
        return found

    def _consumer(self, row: Mapping[str, Any]) -> Consumer | None:
        key = (row.get("id"), row.get("modified_date"))
        cached = self._compiled.get(key)
        if cached is not None:
            self._compiled.move_to_end(key)
            return cached
        data = row.get("data")
        name = data.get("name") if isinstance(data, Mapping) else None
        schemas = stored_schemas(data) if isinstance(data, Mapping) else None
        if not isinstance(name, str) or not isinstance(schemas, Mapping):
            log.warning("ignoring a malformed consumer registration %s", row.get("id"))
            return None
        consumer = Consumer(
            name=name,
            schemas=dict(schemas),
            registered_by=row.get("user_id"),
            modified_date=row.get("modified_date"),
        )
        for type_name, schema in schemas.items():
            try:
                consumer.validators[type_name] = compile_schema(schema)
            except SchemaProblem as problem:
                # written around this service: the type is unreadable for the consumer
                log.warning("consumer %s: unusable schema for %s: %s", name, type_name, problem)
                consumer.validators[type_name] = compile_schema(False)
        self._compiled[key] = consumer
        while len(self._compiled) > self.max_compiled:
            self._compiled.popitem(last=False)
        return consumer


def split(
    rows: Iterable[Mapping[str, Any]], project_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the project's config rows, the consumer registrations) of a `with_consumers` answer.

    Other rows the OR-lists let in (the nil project's configs, `_consumer` rows elsewhere)
    belong to neither and are dropped.
    """
    configs, registrations = [], []
    for row in rows:
        if is_consumer_row(row):
            registrations.append(dict(row))
        elif row.get("project_id") == project_id and row.get("object_type") != CONSUMER_TYPE:
            configs.append(dict(row))
    return configs, registrations
