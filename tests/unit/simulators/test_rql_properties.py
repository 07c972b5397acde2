"""Properties of RQL: render/parse round-trips, evaluation agrees with a plain reference,
and any text either parses or is an `RqlError` (which the route answers with 400)."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from raida_mock import rql
from raida_mock.rql import Compare, In, Query, RqlError

ID_FIELDS = ["id", "process.id", "status.id"]
TEXT_FIELDS = ["title", "status.name", "cf_konkurs_id", "cf_userid", "custom_fields.solution_link"]
POOL_IDS = [str(uuid.UUID(int=i * 7919)) for i in range(1, 5)]
POOL_TEXT = ["", "Новая", "Задание выполнено", "it's", 'say "hi"', "a\\b", "x\ny"]

values = st.one_of(st.sampled_from(POOL_TEXT + POOL_IDS), st.text(max_size=12))
# ids appear in upper case too: a tracker storing UUIDs matches them either way
id_values = st.one_of(
    st.sampled_from(POOL_IDS), st.sampled_from(POOL_IDS).map(str.upper), st.text(max_size=8)
)


@st.composite
def conditions(draw):
    field = draw(st.sampled_from(ID_FIELDS + TEXT_FIELDS))
    pick = id_values if field in ID_FIELDS else values
    if draw(st.booleans()):
        return Compare(field, draw(st.sampled_from(["=", "!="])), draw(pick))
    items = draw(st.lists(st.one_of(pick, st.none()), min_size=1, max_size=4))
    return In(field, tuple(items))


queries = st.lists(conditions(), min_size=1, max_size=5).map(lambda cs: Query(tuple(cs)))


@st.composite
def tasks(draw):
    def maybe(strategy):
        return draw(st.one_of(st.none(), strategy))

    custom = {}
    for key in ("cf_konkurs_id", "cf_userid", "solution_link"):
        value = maybe(values)
        if value is not None or draw(st.booleans()):
            custom[key] = value
    return {
        "id": draw(st.sampled_from(POOL_IDS)),
        "title": maybe(values),
        "process": {"id": draw(st.sampled_from(POOL_IDS))},
        "status": {"id": draw(st.sampled_from(POOL_IDS)), "name": maybe(values)},
        "custom_fields": custom,
    }


# --- a plain reference of the semantics -----------------------------------------------------


def reference_value(task, field):
    custom = task["custom_fields"]
    if field.startswith("cf_"):
        return custom.get(field)
    if field.startswith("custom_fields."):
        return custom.get(field.split(".", 1)[1])
    if field == "process.id":
        return task["process"]["id"]
    if field == "status.id":
        return task["status"]["id"]
    if field == "status.name":
        return task["status"]["name"]
    return task[field]


def reference_equal(field, stored, wanted):
    if wanted is None or stored is None:
        return False
    if field in ID_FIELDS:
        try:
            return uuid.UUID(stored) == uuid.UUID(wanted)
        except ValueError:
            return False
    return stored == wanted


def reference_match(query, task):
    for cond in query.conditions:
        stored = reference_value(task, cond.field)
        if stored is None:
            return False
        if isinstance(cond, In):
            ok = any(reference_equal(cond.field, stored, v) for v in cond.values)
        elif cond.op == "=":
            ok = reference_equal(cond.field, stored, cond.value)
        else:
            ok = not reference_equal(cond.field, stored, cond.value)
        if not ok:
            return False
    return True


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=100)
@given(queries)
def test_rendered_queries_parse_back_to_the_same_ast(query):
    assert rql.parse(rql.render(query)) == query


@st.composite
def sloppy_text(draw, query):
    """The same query printed with random spacing, keyword case and trailing commas."""

    def space(minimum=0):
        return draw(st.text(alphabet=" \t\n", min_size=minimum, max_size=3))

    def keyword(word):
        return "".join(c.upper() if draw(st.booleans()) else c.lower() for c in word)

    parts = []
    for cond in query.conditions:
        if isinstance(cond, In):
            items = ("," + space()).join(rql.quote(v) for v in cond.values)
            trailing = "," if len(cond.values) == 1 or draw(st.booleans()) else ""
            parts.append(
                f"{cond.field}{space(1)}{keyword('in')}{space()}({space()}{items}{trailing}{space()})"
            )
        else:
            parts.append(f"{cond.field}{space()}{cond.op}{space()}{rql.quote(cond.value)}")
    joined = "".join(
        (space(1) + keyword("and") + space(1) if i else "") + part for i, part in enumerate(parts)
    )
    return space() + joined + space()


@settings(max_examples=100)
@given(st.data())
def test_whitespace_and_keyword_case_do_not_change_the_ast(data):
    query = data.draw(queries)
    assert rql.parse(data.draw(sloppy_text(query))) == query


@settings(max_examples=100)
@given(queries, st.lists(tasks(), max_size=8))
def test_evaluation_agrees_with_the_reference(query, task_list):
    expected = [t for t in task_list if reference_match(query, t)]
    assert rql.search(rql.parse(rql.render(query)), task_list) == expected


TOKENS = [
    "process.id", "status.id", "status.name", "cf_x", "AND", "and", "IN", "in", "None", "=",
    "!=", "(", ")", ",", "'a'", '"b"', "'", '"', "\\", " ", "OR", "\\x", "'\\u12'", ";",
]  # fmt: skip


@settings(max_examples=100)
@given(st.one_of(st.text(max_size=40), st.lists(st.sampled_from(TOKENS), max_size=12).map("".join)))
def test_any_text_parses_or_raises_rql_error(text):
    try:
        query = rql.parse(text)
    except RqlError:
        return
    assert isinstance(query, Query) and query.conditions
