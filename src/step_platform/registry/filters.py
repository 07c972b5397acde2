"""List query parameters -> one parameterised SELECT (plus its COUNT for paged lists).

The parameters are the original's (spec §6): id and tenancy lists, the kind's own columns,
dates exact/gt/lt, `meta_status`, `meta_flags`, `meta_internal_id`, `data=` expressions,
`search` with `field`, `ordering`, and the opt-in `limit`/`offset`. Unknown parameters and
empty values are ignored; a repeated parameter counts once (the last), except `data` and
`field`. Every invalid value is reported at once: 400 `INVALID_QUERY` with `detail.fields`.

Identifiers in the SQL come from the kind's declaration only; every value is a `$n` parameter.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from starlette.datastructures import QueryParams

from ..core import limits
from ..core.errors import ApiError
from ..core.ids import parse_uuid
from . import data_filter
from .kinds import Column, Kind
from .sql import Params

MAX_LIMIT = 1000
INTERNAL_ID = "(meta -> 'internal_id')"
DEFAULT_ORDER = f"{INTERNAL_ID} DESC"

INVALID_UUID = "Enter a valid UUID."
INVALID_DATE = "Enter a valid date/time."
INVALID_NUMBER = "Enter a number."
INVALID_INTEGER = "Enter a whole number."
TOO_BIG = "Ensure this value is less than or equal to 1e+50."
NUL_CHARS = "Null characters are not allowed."
BLANK = "This field may not be blank."

_INTEGER = re.compile(r"[+-]?\d{1,51}")
_PLACEHOLDER = re.compile(r"\$(\d+)")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,4})?")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})")
_SPACED_OFFSET = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")
_SEARCH_TERMS = re.compile(r'"([^"]*)"|([^\s,"]+)')


# One value of these parameters is a single term (core/limits.py `term_chars`); a comma list
# (an `in` filter, `meta_internal_id`) is capped at `list_value_chars`.
TERM_PARAMETERS = frozenset({"meta_status", "search", "ordering", "data", "field"})


def value_cap(kind: Kind, name: str) -> str | None:
    """The limit on one value of list parameter `name`, None when it has none of its own. The
    registry's document states the same caps as `maxLength`s (registry/openapi.py)."""
    if name in TERM_PARAMETERS:
        return "term_chars"
    column = kind.by_name.get(name)
    if name == "meta_internal_id" or (column is not None and column.filter == "in"):
        return "list_value_chars"
    return None


class QueryError(ApiError):
    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__(400, "INVALID_QUERY", "Invalid query parameters.", fields=fields)


@dataclass
class ListQuery:
    conditions: list[str] = field(default_factory=list)
    params: Params = field(default_factory=Params)
    order: list[str] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0
    # Searches, `data` filters and JSON-path ordering read every candidate row's JSON: the
    # store runs a bounded number of these at once (registry/db.py, `Store.costly`).
    costly: bool = False

    @property
    def paged(self) -> bool:
        return self.limit is not None

    @property
    def param_count(self) -> int:
        """How many values `sql`'s select takes (the paging pair included)."""
        return len(self.params.values) + (2 if self.paged else 0)

    def count(self, kind: Kind) -> tuple[str, list[object]]:
        """(the count of the filtered rows, its params: a prefix of the select's)."""
        where = self._where()
        # only the WHERE clause's parameters: an ordering by a JSON path adds one of its own
        used = [int(n) for n in _PLACEHOLDER.findall(where)]
        count_params = list(self.params.values[: max(used, default=0)])
        return f"SELECT count(*) FROM {kind.table} WHERE {where}", count_params

    def _where(self) -> str:
        return " AND ".join(f"({c})" for c in self.conditions) or "TRUE"

    def sql(
        self, kind: Kind, extra: Sequence[str] = ()
    ) -> tuple[str, list[object], str, list[object]]:
        """(select, its params, count, its params); `extra` are more columns of the select.
        Pure: a blocking query reads again with the same query, so the paging parameters go
        to a copy, never into `self.params`."""
        columns = ", ".join([*(c.name for c in kind.columns), *extra])
        order = ", ".join(self.order or [DEFAULT_ORDER])
        count_sql, count_params = self.count(kind)
        select = f"SELECT {columns} FROM {kind.table} WHERE {self._where()} ORDER BY {order}"
        params = Params()
        params.values = list(self.params.values)
        if self.limit is not None:
            limit = params.add(self.limit, "int8")
            offset = params.add(self.offset, "int8")
            select += f" LIMIT {limit} OFFSET {offset}"
        return select, params.values, count_sql, count_params


# --- values ---------------------------------------------------------------------------------


def _tokens(value: str) -> list[str]:
    return [t.strip() for t in value.split(",") if t.strip()]


def parse_date(value: str) -> dt.date | None:
    """A date or a date-time (ISO 8601, `YYYY-MM-DD HH:MM[:SS]`, `MM/DD/YYYY`), as a UTC date.

    An offset is converted to UTC before the date is taken; a naive value is UTC already.
    """
    text = value.strip()
    us = _US_DATE.fullmatch(text)
    if us:
        month, day, year = (int(g) for g in us.groups())
        if len(us.group(3)) == 2:
            year += 2000 if year < 69 else 1900
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    # `+` in a query string is a space: `...T10:00:00+03:00` often arrives as `... 03:00`.
    text = _SPACED_OFFSET.sub(r"\1+\2", text)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(dt.UTC)
        except OverflowError:
            return None
    return moment.date()


def parse_datetime(value: str) -> dt.datetime | None:
    """An ISO 8601 date-time (a naive one is UTC) or a date (its midnight, UTC)."""
    text = _SPACED_OFFSET.sub(r"\1+\2", value.strip())
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _midnight(day: dt.date, plus_days: int = 0) -> dt.datetime | None:
    try:
        return dt.datetime.combine(day + dt.timedelta(days=plus_days), dt.time(), dt.UTC)
    except OverflowError:
        return None


def _integer(value: str) -> int | str:
    text = value.strip()
    if not _INTEGER.fullmatch(text):
        return INVALID_INTEGER
    number = int(text)
    return TOO_BIG if abs(number) > 10**50 else number


def _number(value: str) -> Decimal | str:
    text = value.strip()
    if not _NUMBER.fullmatch(text):
        return INVALID_NUMBER
    number = Decimal(text)
    return TOO_BIG if abs(number) > Decimal("1e50") else number


# --- the compiler ---------------------------------------------------------------------------


class _Compiler:
    def __init__(self, kind: Kind, query: QueryParams) -> None:
        self.kind = kind
        self.query = query
        # each parameter's last value, as a plain dict: most of the names asked for are absent,
        # and `QueryParams.get` finds that out by raising KeyError (dozens per request)
        self.last = dict(query.items())
        self.out = ListQuery()
        self.errors: dict[str, list[str]] = {}

    def value(self, name: str) -> str | None:
        """The last value of a parameter, None when absent or empty."""
        raw = self.last.get(name)
        if raw is None or raw == "":
            return None
        if "\x00" in raw:
            self.errors[name] = [NUL_CHARS]
            return None
        return raw

    def typed(self, name: str) -> str | None:
        """A typed filter's value (a number, a date, a page): absent is None, but an empty one
        is refused — the document types it, and "" is no number or date."""
        if self.last.get(name) == "":
            self.fail(name, BLANK)
            return None
        return self.value(name)

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def where(self, condition: str) -> None:
        self.out.conditions.append(condition)

    def p(self, value: object, cast: str) -> str:
        return self.out.params.add(value, cast)

    # column filters

    def in_list(self, column: Column) -> None:
        raw = self.value(column.name)
        if raw is None:
            return
        tokens = _tokens(raw)
        if not tokens:
            return
        if column.type == "uuid":
            with_null = "null" in tokens
            values = [parse_uuid(t) for t in tokens if t != "null"]
            if any(v is None for v in values):
                self.fail(column.name, INVALID_UUID)
                return
            options = [self.equals_any(column.name, values, "uuid")] if values else []
            if with_null:
                options.append(f"{column.name} IS NULL")
            self.where(" OR ".join(options))
        else:
            self.where(self.equals_any(column.name, tokens, "text"))

    def equals_any(self, column: str, values: Sequence[object], cast: str) -> str:
        """`column = $n` for one value, `= ANY($n)` for several. The registry's sessions plan
        each statement once, generically (`db.SESSION_SETTINGS`), and a generic plan cannot
        know an array's length: Postgres assumes several elements, so on a small table it
        chose a scan of every project's project-level rows over the index for one project
        (0.25-0.34 ms an execution against 0.12-0.14 at 1,000 rows)."""
        if len(values) == 1:
            return f"{column} = {self.p(values[0], cast)}"
        return f"{column} = ANY({self.p(values, cast + '[]')})"

    def numbers(self, column: Column) -> None:
        for suffix, operator in (("", "="), ("__gt", ">"), ("__lt", "<")):
            name = column.name + suffix
            raw = self.typed(name)
            if raw is None:
                continue
            parsed = _integer(raw) if column.type == "int" else _number(raw)
            if isinstance(parsed, str):
                self.fail(name, parsed)
                continue
            cast = "numeric" if column.type == "int" else "float8"
            value = Decimal(parsed) if column.type == "int" else float(parsed)
            self.where(f"{column.name} {operator} {self.p(value, cast)}")

    def dates(self, column: Column) -> None:
        for suffix in ("", "__gt", "__lt"):
            name = column.name + suffix
            raw = self.typed(name)
            if raw is None:
                continue
            day = parse_date(raw)
            if day is None:
                self.fail(name, INVALID_DATE)
                continue
            start, end = _midnight(day), _midnight(day, 1)
            lower, upper = {"": (start, end), "__gt": (end, None), "__lt": (None, start)}[suffix]
            if suffix == "__gt" and end is None:
                self.where("FALSE")  # nothing is after the last representable day
                continue
            bounds = []
            if lower is not None:
                bounds.append(f"{column.name} >= {self.p(lower, 'timestamptz')}")
            if upper is not None:
                bounds.append(f"{column.name} < {self.p(upper, 'timestamptz')}")
            self.where(" AND ".join(bounds))

    # meta

    def meta(self) -> None:
        status = self.value("meta_status")
        if status is not None:
            self.where(f"lower(meta ->> 'status') = lower({self.p(status, 'text')})")
        for key in ("flags", "internal_id"):
            for suffix, operator in (("__gt", ">"), ("__lt", "<")):
                name = f"meta_{key}{suffix}"
                raw = self.typed(name)
                if raw is None:
                    continue
                parsed = _integer(raw)
                if isinstance(parsed, str):
                    self.fail(name, parsed)
                    continue
                number = self.p(str(parsed), "jsonb")
                self.where(
                    f"jsonb_typeof(meta -> '{key}') = 'number' AND "
                    f"(meta -> '{key}') {operator} {number}"
                )
        flags = self.typed("meta_flags")
        if flags is not None:
            parsed = _integer(flags)
            if isinstance(parsed, str):
                self.fail("meta_flags", parsed)
            else:
                self.where(f"(meta -> 'flags') = {self.p(str(parsed), 'jsonb')}")
        ids = self.value("meta_internal_id")
        if ids is not None:
            tokens = [_integer(t) for t in _tokens(ids)]
            if any(isinstance(t, str) for t in tokens):
                self.fail("meta_internal_id", INVALID_INTEGER)
            elif tokens:
                self.where(f"{INTERNAL_ID} = ANY({self.p([str(t) for t in tokens], 'jsonb[]')})")

    # data, search, ordering, paging

    def data(self) -> None:
        for raw in self.query.getlist("data"):
            if raw == "":
                continue
            try:
                parsed = data_filter.parse(raw)
            except data_filter.DataFilterError as exc:
                self.fail("data", str(exc))
                continue
            self.out.costly = True
            self.where(data_filter.to_sql(parsed, self.out.params))

    def json_path(self, name: str) -> str | None:
        """`meta__a__b` / `data__a` -> a `#>>`/`#>` path parameter, or None."""
        root, sep, rest = name.partition("__")
        if not sep or root not in ("meta", "data") or not rest:
            return None
        keys = rest.split("__")
        if not all(keys):
            return None
        limits.check("data_path_depth", len(keys))
        return f"{root} #> {self.p(keys, 'text[]')}"

    def search_expression(self, name: str) -> str | None:
        column = self.kind.by_name.get(name)
        if column is not None:
            return name if column.type == "text" else f"{name}::text"
        path = self.json_path(name)
        return f"({path.replace(' #> ', ' #>> ', 1)})" if path else None

    def search(self) -> None:
        bound = len(self.out.params.values)
        fields = [f.strip() for f in self.query.getlist("field") if f.strip()]
        targets: list[tuple[str, str]] = []  # (prefix, sql expression)
        for name in fields:
            if "\x00" in name:
                self.fail("field", NUL_CHARS)
                continue
            prefix = name[0] if name[0] in "^=" else ""
            expression = self.search_expression(name[len(prefix) :])
            if expression is None:
                self.fail("field", f'Unknown search field "{name}".')
                continue
            targets.append((prefix, expression))
        raw = self.value("search")
        if raw is None:
            # fields without a search are checked, but their paths bind nothing: a parameter
            # no clause uses is refused by Postgres (a 503 once)
            del self.out.params.values[bound:]
            return
        self.out.costly = True
        if not fields:
            targets = [("", self.search_expression(n) or n) for n in self.kind.search_fields]
        terms = [quoted or bare for quoted, bare in _SEARCH_TERMS.findall(raw)]
        for term in (t for t in terms if t):
            value = self.p(term, "text")
            options = []
            for prefix, expression in targets:
                if prefix == "^":
                    options.append(f"starts_with(lower({expression}), lower({value}))")
                elif prefix == "=":
                    options.append(f"lower({expression}) = lower({value})")
                else:
                    options.append(f"strpos(lower({expression}), lower({value})) > 0")
            self.where(" OR ".join(options) or "FALSE")

    def ordering(self) -> None:
        raw = self.value("ordering")
        if raw is None:
            return
        for token in (t.strip() for t in raw.split(",")):
            if not token:
                continue
            descending = token.startswith("-")
            name = token[1:].strip() if descending else token
            if name in self.kind.by_name:
                expression = name
            else:
                path = self.json_path(name)
                if path is None:
                    self.fail("ordering", f'Unknown ordering field "{name}".')
                    continue
                expression = f"({path})"
                self.out.costly = True
            self.out.order.append(f"{expression} {'DESC' if descending else 'ASC'}")
        if self.out.order:
            self.out.order.append(DEFAULT_ORDER)  # a stable tie-break for paging

    def paging(self) -> None:
        limit, offset = self.typed("limit"), self.typed("offset")
        if limit is None and offset is None:
            return
        self.out.limit = MAX_LIMIT
        if limit is not None:
            parsed = _integer(limit)
            if isinstance(parsed, str) or not 1 <= parsed <= MAX_LIMIT:
                self.fail("limit", f"Enter a whole number between 1 and {MAX_LIMIT}.")
            else:
                self.out.limit = parsed
        if offset is not None:
            parsed = _integer(offset)
            if isinstance(parsed, str) or not 0 <= parsed <= 2**62:
                self.fail("offset", "Enter a whole number greater than or equal to 0.")
            else:
                self.out.offset = parsed

    def caps(self) -> None:
        """The cost caps (core/limits.py), checked before any SQL is built: each term adds
        work to every row the statement reads."""
        query = self.query
        pairs = query.multi_items()
        limits.check("query_chars", sum(len(k) + len(v) + 2 for k, v in pairs))
        for name, value in pairs:
            cap = value_cap(self.kind, name)
            if cap is not None:
                limits.check(cap, len(value))
        limits.check("field_terms", len(query.getlist("field")))
        limits.check("data_filters", len(query.getlist("data")))
        search = self.value("search")
        if search is not None:
            limits.check("search_terms", len(_SEARCH_TERMS.findall(search)))
        ordering = self.value("ordering")
        if ordering is not None:
            limits.check("ordering_tokens", len(ordering.split(",")))

    def compile(self) -> ListQuery:
        self.caps()
        compile_filter = {"in": self.in_list, "number": self.numbers, "date": self.dates}
        for column in self.kind.filters:  # `filters` are the columns whose `filter` is set
            if column.filter is not None:
                compile_filter[column.filter](column)
        self.meta()
        self.data()
        self.search()
        self.ordering()
        self.paging()
        if self.errors:
            raise QueryError(self.errors)
        return self.out


def compile_list(kind: Kind, query: QueryParams) -> ListQuery:
    return _Compiler(kind, query).compile()


@dataclass
class Address:
    """A list's address filters (id, tenancy ids, the type column) as conditions on columns of
    those names, and the projects it is limited to (None: any project, or rows without one)."""

    conditions: list[str]
    params: Params
    projects: list[str] | None


def compile_address(kind: Kind, query: QueryParams) -> Address:
    """The address part of a list query, compiled as `compile_list` would (same errors)."""
    compiler = _Compiler(kind, query)
    for name in ("id", "project_id", "account_id", kind.type_column):
        compiler.in_list(kind.by_name[name])
    if compiler.errors:
        raise QueryError(compiler.errors)
    tokens = _tokens(query.get("project_id") or "")
    projects = None
    if tokens and "null" not in tokens:
        projects = [str(parse_uuid(t)) for t in tokens]
    return Address(compiler.out.conditions, compiler.out.params, projects)
