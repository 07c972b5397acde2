"""RQL parser, evaluator and projection: the expressions the step service emits, and errors."""

from __future__ import annotations

import pytest

from raida_mock import rql
from raida_mock.rql import Compare, In, Query, RqlError
from step_platform.seed import seed_config_set

C = seed_config_set()
CONTEST_PROCESS = C["contest_process_id"]["value"]
TASK_PROCESS = C["task_process_id"]["value"]
CS = C["contest_status_id"]
TS = C["task_status_id"]
CONTEST = "e2ccc043-2558-4bd1-872e-4df6cf7b5256"
USER = "2098611d-32e2-4d8f-acea-76570af65843"


def test_q1_active_contests_parses_to_two_equalities():
    text = f"process.id = '{CONTEST_PROCESS}' AND status.id = '{CS['acceptance_works']}'"
    assert rql.parse(text) == Query(
        (
            Compare("process.id", "=", CONTEST_PROCESS),
            Compare("status.id", "=", CS["acceptance_works"]),
        )
    )


def test_q2_archive_parses_the_printed_tuple():
    text = (
        f"process.id = '{CONTEST_PROCESS}' AND status.id IN ('{CS['done']}', '{CS['no_winner']}')"
    )
    assert rql.parse(text).conditions[1] == In("status.id", (CS["done"], CS["no_winner"]))


def test_q6_custom_fields_and_not_equal():
    text = (
        f"process.id = '{TASK_PROCESS}' AND cf_konkurs_id = '{CONTEST}' AND cf_userid = '{USER}'"
        f" AND status.id != '{TS['rejection']}'"
    )
    query = rql.parse(text)
    assert query.conditions[1:] == (
        Compare("cf_konkurs_id", "=", CONTEST),
        Compare("cf_userid", "=", USER),
        Compare("status.id", "!=", TS["rejection"]),
    )


def test_q7_status_name_in_cyrillic():
    query = rql.parse("status.name = 'Задание выполнено'")
    assert query == Query((Compare("status.name", "=", "Задание выполнено"),))


def test_one_element_tuple_with_trailing_comma():
    assert rql.parse("status.id IN ('a',)") == Query((In("status.id", ("a",)),))


def test_double_quoted_item_and_bare_none_in_a_tuple():
    assert rql.parse("""status.id IN ("it's", 'b', None)""") == Query(
        (In("status.id", ("it's", "b", None)),)
    )


def test_escaped_quote_inside_single_quotes():
    assert rql.parse(r"title = 'it\'s'") == Query((Compare("title", "=", "it's"),))


def test_python_repr_escapes_are_decoded():
    assert rql.parse(r"title = 'a\\b\n\x41\u0416'").conditions[0].value == "a\\b\nA\u0416"


def test_unknown_escape_keeps_its_backslash():
    assert rql.parse(r"title = 'a\db'").conditions[0].value == "a\\db"


def test_lowercase_keywords_and_free_whitespace():
    text = "  process.id='x'and status.id  in(  'a' ,'b'  )\n"
    assert rql.parse(text) == Query((Compare("process.id", "=", "x"), In("status.id", ("a", "b"))))


def test_custom_fields_dotted_form_is_accepted():
    query = rql.parse("custom_fields.solution_link = 'x'")
    assert query.conditions[0].field == "custom_fields.solution_link"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Empty query"),
        ("process.id = 'a' AND", "Expected a field name"),
        ("process.id 'a'", "Expected '=', '!=' or IN"),
        ("process.id = a", "Expected a quoted string"),
        ("process.id = 'a", "Unterminated string"),
        ("status.id IN ()", "Expected a quoted string or None"),
        ("status.id IN ('a' 'b')", "Expected ',' or ')'"),
        ("status.id = 'a' OR status.id = 'b'", "Expected AND or end of query"),
        ("(status.id = 'a')", "Expected a field name"),
        ("status.id = None", "Expected a quoted string"),
        ("status.id = 'a' ; drop", "Unexpected character ';'"),
        (r"title = '\x4'", "Invalid \\x escape"),
    ],
)
def test_syntax_errors_name_what_was_expected(text, fragment):
    with pytest.raises(RqlError) as info:
        rql.parse(text)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "field", ["status", "process.name", "cf_", "attachments", "foo.bar.baz", "owner"]
)
def test_unknown_fields_are_rejected(field):
    with pytest.raises(RqlError, match="Unknown field"):
        rql.parse(f"{field} = 'x'")


def _task(**overrides):
    task = {
        "id": "11111111-1111-4111-8111-111111111111",
        "title": "T",
        "description": "D",
        "created_at": "2024-11-06T10:15:00.000Z",
        "process": {"id": TASK_PROCESS},
        "status": {"id": TS["new"], "name": "Новая"},
        "custom_fields": {"cf_konkurs_id": CONTEST, "cf_userid": USER},
    }
    task.update(overrides)
    return task


def test_ids_compare_as_uuids_regardless_of_case():
    query = rql.parse(f"process.id = '{TASK_PROCESS.upper()}'")
    assert rql.matches(query, _task())


def test_custom_fields_compare_as_exact_strings():
    assert not rql.matches(rql.parse(f"cf_userid = '{USER.upper()}'"), _task())
    assert rql.matches(rql.parse(f"cf_userid = '{USER}'"), _task())


def test_a_missing_custom_field_matches_neither_equal_nor_not_equal():
    task = _task(custom_fields={})
    assert not rql.matches(rql.parse("cf_projects = 'x'"), task)
    assert not rql.matches(rql.parse("cf_projects != 'x'"), task)


def test_not_equal_excludes_the_given_status():
    query = rql.parse(f"status.id != '{TS['rejection']}'")
    assert rql.matches(query, _task())
    assert not rql.matches(query, _task(status={"id": TS["rejection"], "name": "Отказ"}))


def test_none_in_a_tuple_matches_nothing():
    assert not rql.matches(rql.parse("status.name IN (None,)"), _task())
    assert rql.matches(rql.parse("status.name IN (None, 'Новая')"), _task())


def test_a_non_uuid_value_for_an_id_field_matches_nothing():
    assert not rql.matches(rql.parse("status.id = 'None'"), _task())


def test_numbers_in_custom_fields_compare_as_their_text():
    task = _task(custom_fields={"cf_n": 5})
    assert rql.matches(rql.parse("cf_n = '5'"), task)


def test_search_keeps_the_given_order():
    a, b, c = (_task(id=f"{i}1111111-1111-4111-8111-111111111111") for i in range(1, 4))
    b["status"] = {"id": TS["completed"], "name": "Задание выполнено"}
    found = rql.search(rql.parse(f"status.id != '{TS['completed']}'"), [a, b, c])
    assert found == [a, c]


def test_render_prints_like_the_step_service():
    query = Query((Compare("process.id", "=", "p"), In("status.id", ("a", "it's", None))))
    assert rql.render(query) == """process.id = 'p' AND status.id IN ('a', "it's", None)"""
    assert rql.render(Query((In("status.id", ("a",)),))) == "status.id IN ('a',)"


def test_projection_is_nested_by_dotted_path():
    task = {**_task(), "attachments": [{"id": "f", "name": "n", "url": "u", "content_type": "c"}]}
    paths = rql.check_fields(["id", "status.name", "custom_fields.cf_userid", "attachments.url"])
    assert rql.project(task, paths) == {
        "id": task["id"],
        "status": {"name": "Новая"},
        "custom_fields": {"cf_userid": USER},
        "attachments": [{"url": "u"}],
    }


def test_projection_of_a_missing_custom_field_is_null():
    paths = rql.check_fields(["custom_fields.cf_deadline"])
    assert rql.project(_task(), paths) == {"custom_fields": {"cf_deadline": None}}


def test_a_whole_key_wins_over_its_sub_paths_and_is_a_copy():
    task = _task()
    projected = rql.project(task, rql.check_fields(["status.id", "status"]))
    assert projected == {"status": task["status"]}
    projected["status"]["name"] = "changed"
    assert task["status"]["name"] == "Новая"


def test_empty_or_missing_fields_mean_the_whole_task():
    task = _task()
    assert rql.project(task, rql.check_fields([])) == task
    assert rql.project(task, rql.check_fields(None)) == task


@pytest.mark.parametrize(
    "fields", [["nope"], ["status.colour"], ["custom_fields.a.b"], ["id", 3], "id", {"id": 1}]
)
def test_unknown_or_malformed_fields_are_rejected(fields):
    with pytest.raises(RqlError):
        rql.check_fields(fields)
