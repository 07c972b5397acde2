"""The two kinds of registry records, declared once each.

Configs and links are twins: the same envelope (id, timestamps, tenancy ids, `meta`, `data`),
the same routes, filters and bulk operations. Everything that differs between them — their own
columns, response field order, uniqueness rule, messages — is data in a `Kind`, and one generic
engine serves both. Table, column and sequence names are the original's, so a database the
original created is adopted as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ColumnType = Literal["uuid", "text", "float", "int", "timestamp", "json"]
FilterKind = Literal["in", "number", "date"]

# Postgres array types used to ship a batch of values of a column in one parameter.
ARRAY_TYPES: dict[ColumnType, str] = {
    "uuid": "uuid[]",
    "text": "text[]",
    "float": "float8[]",
    "int": "int4[]",
    "json": "text[]",
}


@dataclass(frozen=True)
class Column:
    """One response field / table column and the rules for writing and filtering it."""

    name: str
    type: ColumnType
    writable: bool = True
    nullable: bool = True
    required: bool = False  # must be present on create and PUT
    default: Any = None  # stored when omitted on create and PUT
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    filter: FilterKind | None = None  # list filter: `in` lists, numbers with __gt/__lt, dates
    searchable: bool = False  # part of the default `search` fields

    @property
    def sql_type(self) -> str:
        return ARRAY_TYPES[self.type]


@dataclass(frozen=True)
class UniqueRule:
    """A uniqueness rule: `columns` unique together where the first one is not null.

    NULLs in the other columns are not distinct (Postgres `NULLS NOT DISTINCT`).
    """

    columns: tuple[str, ...]
    error_key: str
    message: str


@dataclass(frozen=True)
class Kind:
    singular: str  # "config": the single-record route /api/config/
    plural: str  # "configs": the collection route /api/configs/
    label: str  # "Config": messages
    table: str
    sequence: str
    columns: tuple[Column, ...]  # in response order
    unique: tuple[UniqueRule, ...] = ()
    type_column: str = "object_type"  # what a row is: part of a list's address (watches)
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})

    @property
    def writable(self) -> tuple[Column, ...]:
        """Columns a client sets directly (not id, timestamps, meta, data)."""
        return tuple(c for c in self.columns if c.writable and c.name not in ("id", "meta", "data"))

    @property
    def filters(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.filter is not None)

    @property
    def search_fields(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.searchable)

    def messages(self) -> dict[str, str]:
        one, many = self.label, self.plural
        return {
            "not_found": f"No {one} matches the given query.",
            "changed": f"{one} has changed: If-Match does not match its current ETag.",
            "deactivated": f"{one} deactivated",
            "all_deactivated": f"{many.capitalize()} deactivated",
            "some_deactivated": "{n} "
            + many
            + " deactivated out of {m}. Some ids are either duplicated or not in the database.",
        }


def _uuid(name: str, **kw: Any) -> Column:
    return Column(name, "uuid", filter="in", **kw)


def _text(name: str, **kw: Any) -> Column:
    return Column(name, "text", max_length=254, filter="in", searchable=True, **kw)


ID = Column("id", "uuid", writable=False, nullable=False, filter="in")
CREATED = Column("created_date", "timestamp", writable=False, nullable=False, filter="date")
MODIFIED = Column("modified_date", "timestamp", writable=False, nullable=False, filter="date")
META = Column("meta", "json", nullable=False)
DATA = Column("data", "json", searchable=True)  # default {} (validation.py)
PROJECT, ACCOUNT, USER = _uuid("project_id"), _uuid("account_id"), _uuid("user_id")

CONFIGS = Kind(
    singular="config",
    plural="configs",
    label="Config",
    table="configs_config",
    sequence="configs_internal_id_seq",
    columns=(
        ID,
        CREATED,
        MODIFIED,
        PROJECT,
        ACCOUNT,
        USER,
        _text("object_type"),
        _uuid("object_item"),
        _text("object_code"),
        _text("name"),
        META,
        DATA,
    ),
    unique=(
        UniqueRule(("object_code",), "object_code", "config with this object code already exists."),
    ),
)

LINKS = Kind(
    singular="link",
    plural="links",
    label="Link",
    table="links_link",
    sequence="links_internal_id_seq",
    columns=(
        ID,
        _text("link_type", nullable=False, required=True),
        _text("link_code"),
        _uuid("object1", nullable=False, required=True),
        _uuid("object2", nullable=False, required=True),
        Column(
            "weight",
            "float",
            nullable=False,
            default=0.0,
            minimum=0.0,
            maximum=1.0,
            filter="number",
        ),
        Column(
            "direction", "int", nullable=False, default=1, minimum=0, maximum=3, filter="number"
        ),
        CREATED,
        MODIFIED,
        META,
        DATA,
        PROJECT,
        ACCOUNT,
        USER,
    ),
    unique=(
        UniqueRule(
            ("link_code", "project_id", "link_type"),
            "non_field_errors",
            "The fields link_code, project_id, link_type must make a unique set.",
        ),
    ),
    type_column="link_type",
)

KINDS: tuple[Kind, ...] = (CONFIGS, LINKS)
