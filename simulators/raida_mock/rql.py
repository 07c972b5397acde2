"""RQL: the small query language of Raida's search endpoint — parser, evaluator, renderer.

The step service builds RQL by formatting strings; in-list values are a printed Python tuple.
So the grammar is: conditions joined by ``AND``, each ``field = 'v'``,
``field != 'v'`` or ``field IN ('a', "b", None,)``. String literals follow Python's ``repr``:
single or double quotes with backslash escapes. Keywords may be lowercase and whitespace is
free, because a tolerant server accepts what a sloppy client sends.

Parsing never evaluates anything: a hand-written tokenizer and recursive descent build a tiny
AST (`Query` of `Compare` / `In`), and every error is an `RqlError` that the route turns into a
400. `render` is the inverse of `parse`, used by property tests and by anyone building RQL.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from step_platform.core.ids import canonical_uuid

Value = str | None


class RqlError(ValueError):
    """The query cannot be parsed or names an unknown field; the message says where."""


@dataclass(frozen=True)
class Compare:
    field: str
    op: Literal["=", "!="]
    value: str


@dataclass(frozen=True)
class In:
    field: str
    values: tuple[Value, ...]


Condition = Compare | In


@dataclass(frozen=True)
class Query:
    conditions: tuple[Condition, ...]


# --- fields ----------------------------------------------------------------------------------

# Task attributes a condition may name. Ids are compared as UUIDs (as a tracker storing UUID
# columns would); everything else as exact strings.
UUID_FIELDS = frozenset({"id", "process.id", "status.id"})
STRING_FIELDS = frozenset({"title", "description", "created_at", "status.name"})
_CUSTOM_KEY = re.compile(r"[A-Za-z0-9_]+")


def check_field(name: str) -> str:
    """`name` if it is a searchable field, else `RqlError` (unknown fields are a 400)."""
    if name in UUID_FIELDS or name in STRING_FIELDS:
        return name
    if name.startswith("cf_") and _CUSTOM_KEY.fullmatch(name[3:]):
        return name
    if name.startswith("custom_fields.") and _CUSTOM_KEY.fullmatch(name[14:]):
        return name
    raise RqlError(f"Unknown field '{name}'")


def field_value(task: Mapping[str, Any], name: str) -> Any:
    """The task's value of a (checked) field; `None` when the task has none."""
    if name.startswith("cf_"):
        return (task.get("custom_fields") or {}).get(name)
    if name.startswith("custom_fields."):
        return (task.get("custom_fields") or {}).get(name[14:])
    if "." in name:
        head, tail = name.split(".", 1)
        container = task.get(head)
        return container.get(tail) if isinstance(container, Mapping) else None
    return task.get(name)


# --- tokenizer -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # FIELD, STRING, NONE, AND, IN, OP, LPAREN, RPAREN, COMMA, END
    text: str
    pos: int
    value: str | None = None


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_SPACE = re.compile(r"\s+")
_KEYWORDS = {"and": "AND", "in": "IN"}
_SIMPLE_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t"}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def _string(text: str, start: int) -> tuple[str, int]:
    """Decode the Python-style string literal at `start`; return (value, end position)."""
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == quote:
            return "".join(out), i + 1
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= len(text):
            break
        esc = text[i + 1]
        if esc in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[esc])
            i += 2
        elif esc in _HEX_ESCAPES:
            digits = text[i + 2 : i + 2 + _HEX_ESCAPES[esc]]
            if len(digits) != _HEX_ESCAPES[esc] or not all(
                c in "0123456789abcdefABCDEF" for c in digits
            ):
                raise RqlError(f"Invalid \\{esc} escape at position {i}")
            code = int(digits, 16)
            if code > 0x10FFFF:
                raise RqlError(f"Invalid \\{esc} escape at position {i}")
            out.append(chr(code))
            i += 2 + len(digits)
        else:  # like Python: an unknown escape keeps its backslash
            out.append("\\")
            i += 1
    raise RqlError(f"Unterminated string starting at position {start}")


def tokenize(text: str) -> Iterator[Token]:
    i = 0
    while True:
        space = _SPACE.match(text, i)
        if space:
            i = space.end()
        if i >= len(text):
            yield Token("END", "", i)
            return
        ch = text[i]
        if ch in "'\"":
            value, end = _string(text, i)
            yield Token("STRING", text[i:end], i, value)
            i = end
        elif text.startswith("!=", i):
            yield Token("OP", "!=", i)
            i += 2
        elif ch == "=":
            yield Token("OP", "=", i)
            i += 1
        elif ch in "(),":
            yield Token({"(": "LPAREN", ")": "RPAREN", ",": "COMMA"}[ch], ch, i)
            i += 1
        else:
            ident = _IDENT.match(text, i)
            if not ident:
                raise RqlError(f"Unexpected character {ch!r} at position {i}")
            word = ident.group()
            if word.lower() in _KEYWORDS:
                yield Token(_KEYWORDS[word.lower()], word, i)
            elif word == "None":
                yield Token("NONE", word, i)
            else:
                yield Token("FIELD", word, i)
            i = ident.end()


# --- parser ----------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = list(tokenize(text))
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self, *kinds: str, expected: str) -> Token:
        token = self.peek()
        if token.kind not in kinds:
            found = "end of query" if token.kind == "END" else repr(token.text)
            raise RqlError(f"Expected {expected} at position {token.pos}, found {found}")
        self.i += 1
        return token

    def query(self) -> Query:
        conditions = [self.condition()]
        while self.peek().kind == "AND":
            self.i += 1
            conditions.append(self.condition())
        self.take("END", expected="AND or end of query")
        return Query(tuple(conditions))

    def condition(self) -> Condition:
        field = self.take("FIELD", expected="a field name")
        name = check_field(field.text)
        op = self.take("OP", "IN", expected="'=', '!=' or IN")
        if op.kind == "IN":
            return In(name, self.tuple())
        value = self.take("STRING", expected="a quoted string")
        assert value.value is not None
        return Compare(name, op.text, value.value)  # type: ignore[arg-type]

    def tuple(self) -> tuple[Value, ...]:
        self.take("LPAREN", expected="'('")
        values = [self.item()]
        while self.peek().kind == "COMMA":
            self.i += 1
            if self.peek().kind == "RPAREN":  # the one-element form ('a',)
                break
            values.append(self.item())
        self.take("RPAREN", expected="',' or ')'")
        return tuple(values)

    def item(self) -> Value:
        token = self.take("STRING", "NONE", expected="a quoted string or None")
        return token.value


def parse(text: str) -> Query:
    """Parse an RQL expression; `RqlError` for anything outside the grammar."""
    if not isinstance(text, str):
        raise RqlError("rql must be a string")
    if not text.strip():
        raise RqlError("Empty query")
    return _Parser(text).query()


# --- evaluation ------------------------------------------------------------------------------


def _as_text(value: Any) -> str | None:
    """A stored value as the text it is compared as; `None` if it cannot equal any string."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return None


def _equal(field: str, stored: Any, wanted: Value) -> bool:
    if wanted is None:
        return False  # None (a missing config value) matches nothing
    text = _as_text(stored)
    if text is None:
        return False
    if field in UUID_FIELDS:
        a, b = canonical_uuid(text), canonical_uuid(wanted)
        return a is not None and a == b
    return text == wanted


def matches(query: Query, task: Mapping[str, Any]) -> bool:
    """Whether `task` satisfies every condition. A missing value satisfies no condition."""
    for cond in query.conditions:
        stored = field_value(task, cond.field)
        if stored is None:
            return False
        if isinstance(cond, In):
            if not any(_equal(cond.field, stored, v) for v in cond.values):
                return False
        elif cond.op == "=":
            if not _equal(cond.field, stored, cond.value):
                return False
        elif _as_text(stored) is None or _equal(cond.field, stored, cond.value):
            return False
    return True


def _key(name: str, value: Any) -> str | None:
    """What `_equal` compares a value of field `name` as: its text, canonical for UUID fields;
    `None` for a value that equals nothing (missing, null, not a string, not a UUID)."""
    text = _as_text(value)
    if text is None or name not in UUID_FIELDS:
        return text
    return canonical_uuid(text)


class Index:
    """Positions in a fixed list of tasks by the value of each field searched.

    A field's table is built on its first search (one pass over the tasks) and serves every
    later one, so a search of a large node reads only the tasks its `=` and IN conditions
    allow instead of evaluating every condition on every task (three quarters of raida-mock's
    time for the step service's searches at 1,000 tasks). The owner drops the index when a
    task changes.
    """

    def __init__(self, tasks: Sequence[Mapping[str, Any]]) -> None:
        self.tasks = tasks
        self._tables: dict[str, dict[str, list[int]]] = {}

    def _table(self, name: str) -> dict[str, list[int]]:
        table = self._tables.get(name)
        if table is None:
            table = {}
            for position, task in enumerate(self.tasks):
                key = _key(name, field_value(task, name))
                if key is not None:
                    table.setdefault(key, []).append(position)
            self._tables[name] = table
        return table

    def positions(self, name: str, wanted: Iterable[Value]) -> set[int]:
        """Positions of the tasks whose `name` equals one of `wanted` (as `_equal` says)."""
        table = self._table(name)
        found: set[int] = set()
        for value in wanted:
            key = None if value is None else _key(name, value)
            if key is not None:
                found.update(table.get(key, ()))
        return found


def search(
    query: Query, tasks: Sequence[Mapping[str, Any]], index: Index | None = None
) -> list[Mapping[str, Any]]:
    """The tasks that match, in their order. `=` and IN conditions are answered by `index`
    (of these `tasks`; a throwaway one when not given), `!=` ones by evaluating the rest."""
    if index is None:
        index = Index(tasks)
    candidates: set[int] | None = None
    rest: list[Condition] = []
    for cond in query.conditions:
        if isinstance(cond, Compare) and cond.op == "!=":
            rest.append(cond)
            continue
        wanted = cond.values if isinstance(cond, In) else (cond.value,)
        found = index.positions(cond.field, wanted)
        candidates = found if candidates is None else candidates & found
    remaining = Query(tuple(rest))
    order = range(len(tasks)) if candidates is None else sorted(candidates)
    return [tasks[i] for i in order if matches(remaining, tasks[i])]


# --- rendering -------------------------------------------------------------------------------


def quote(value: Value) -> str:
    """A value as Python prints it in a tuple: `'a'`, `"it's"`, `None`."""
    return "None" if value is None else repr(value)


def render(query: Query) -> str:
    """The text of a query in the step service's style (single spaces, uppercase keywords)."""
    parts: list[str] = []
    for cond in query.conditions:
        if isinstance(cond, In):
            items = ", ".join(quote(v) for v in cond.values)
            if len(cond.values) == 1:
                items += ","
            parts.append(f"{cond.field} IN ({items})")
        else:
            parts.append(f"{cond.field} {cond.op} {quote(cond.value)}")
    return " AND ".join(parts)


# --- projection (`fields`) -------------------------------------------------------------------

TASK_KEYS = (
    "id",
    "title",
    "description",
    "created_at",
    "process",
    "status",
    "custom_fields",
    "attachments",
    "author",
    "assignee",
)
_SUBKEYS = {
    "process": frozenset({"id"}),
    "status": frozenset({"id", "name"}),
    "attachments": frozenset({"id", "name", "url", "content_type"}),
}


def check_fields(fields: Any) -> tuple[tuple[str, ...], ...]:
    """Validate a `fields` list; each entry becomes a path tuple. Unknown paths are a 400."""
    if fields is None:
        return ()
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise RqlError("fields must be a list of strings")
    paths: list[tuple[str, ...]] = []
    for name in fields:
        parts = tuple(name.split("."))
        head = parts[0]
        ok = head in TASK_KEYS and (
            len(parts) == 1
            or (
                len(parts) == 2
                and (
                    parts[1] in _SUBKEYS.get(head, ())
                    or (head == "custom_fields" and bool(_CUSTOM_KEY.fullmatch(parts[1])))
                )
            )
        )
        if not ok:
            raise RqlError(f"Unknown field '{name}' in fields")
        paths.append(parts)
    return tuple(paths)


def project(
    task: Mapping[str, Any], paths: Sequence[tuple[str, ...]], *, share: bool = False
) -> dict[str, Any]:
    """The nested projection of `task` on `paths`; no paths means the whole task.

    A whole key listed next to one of its sub-paths wins (`status` and `status.id` give the
    whole status). The result shares nothing with the stored task, unless `share` says the
    caller renders it at once (copying whole tasks was a fifth of a large search's time).
    """
    if not paths:
        return dict(task) if share else copy.deepcopy(dict(task))
    whole = {parts[0] for parts in paths if len(parts) == 1}
    out: dict[str, Any] = {}
    for parts in paths:
        head = parts[0]
        value = task.get(head)
        if len(parts) == 1:
            out[head] = copy.deepcopy(value)
        elif head in whole:
            continue
        elif head == "attachments":
            items = value if isinstance(value, list) else []
            merged = out.setdefault(head, [{} for _ in items])
            for target, item in zip(merged, items, strict=True):
                target[parts[1]] = item.get(parts[1]) if isinstance(item, Mapping) else None
        else:
            sub = value.get(parts[1]) if isinstance(value, Mapping) else None
            out.setdefault(head, {})[parts[1]] = copy.deepcopy(sub)
    return out
