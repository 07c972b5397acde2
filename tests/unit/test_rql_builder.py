"""The one RQL builder: the original's query language, from validated values only."""

from __future__ import annotations

import re
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from step_platform.contests import rql
from step_platform.seed import seed_config_set

SEED = seed_config_set()
CONTEST_PROCESS = SEED["contest_process_id"]["value"]
TASK_PROCESS = SEED["task_process_id"]["value"]
DONE = SEED["contest_status_id"]["done"]
NO_WINNER = SEED["contest_status_id"]["no_winner"]
CONTEST = "e2ccc043-2558-4bd1-872e-4df6cf7b5256"
USER = "2098611d-32e2-4d8f-acea-76570af65843"


def test_archive_query_is_byte_identical_to_the_original() -> None:
    assert rql.contests(CONTEST_PROCESS, [DONE, NO_WINNER]) == (
        "process.id = '9e57ac56-9ce8-43fe-a725-d6eb6cb3758b' AND status.id IN "
        "('6c419c06-06fd-43c3-85ee-2f58110db712', '2267301e-6b6b-4f67-9e8d-65d2c6c9c05e')"
    )


def test_a_single_status_is_written_with_equals() -> None:
    assert rql.contests(CONTEST_PROCESS, [DONE]) == (
        f"process.id = '{CONTEST_PROCESS}' AND status.id = '{DONE}'"
    )


def test_lookup_of_the_callers_application_matches_q5() -> None:
    assert rql.user_tasks(TASK_PROCESS, USER, contest_id=CONTEST) == (
        f"process.id = '{TASK_PROCESS}' AND cf_konkurs_id = '{CONTEST}' AND cf_userid = '{USER}'"
    )


def test_all_of_a_users_live_tasks_in_one_query() -> None:
    rejection = SEED["task_status_id"]["rejection"]
    assert rql.user_tasks(TASK_PROCESS, USER, not_status=rejection) == (
        f"process.id = '{TASK_PROCESS}' AND cf_userid = '{USER}' AND status.id != '{rejection}'"
    )


def test_contest_tasks_with_default_statuses_matches_q8() -> None:
    approved = SEED["task_status_id"]["approved"]
    completed = SEED["task_status_id"]["completed"]
    assert rql.contest_tasks(TASK_PROCESS, CONTEST, [approved, completed]) == (
        f"process.id = '{TASK_PROCESS}' AND cf_konkurs_id = '{CONTEST}' "
        f"AND status.id IN ('{approved}', '{completed}')"
    )


def test_duplicate_values_are_listed_once() -> None:
    assert rql.one_of("status.id", [DONE, DONE.upper()]).text == f"status.id = '{DONE}'"


def test_values_are_rendered_canonical_lowercase() -> None:
    assert rql.eq("cf_userid", USER.upper()).text == f"cf_userid = '{USER}'"
    assert rql.eq("cf_userid", uuid.UUID(USER)).text == f"cf_userid = '{USER}'"


@pytest.mark.parametrize(
    "value",
    [
        "x' OR '1' = '1",
        f"{USER}' AND status.id != '",
        "None",
        "",
        USER.replace("-", ""),
        "{" + USER + "}",
        f"urn:uuid:{USER}",
        None,
        42,
    ],
)
def test_anything_but_a_uuid_is_refused(value: object) -> None:
    with pytest.raises(rql.RqlValueError):
        rql.eq("status.id", value)


@pytest.mark.parametrize("field", ["status.id OR 1", "title", "cf_Bad", "cf_", "process.id "])
def test_only_known_fields_can_be_queried(field: str) -> None:
    with pytest.raises(rql.RqlValueError):
        rql.eq(field, USER)


def test_an_empty_in_list_is_refused() -> None:
    with pytest.raises(rql.RqlValueError):
        rql.one_of("status.id", [])


def test_quote_escapes_backslash_and_quote() -> None:
    assert rql.quote("it's") == r"'it\'s'"
    assert rql.quote("a\\b") == r"'a\\b'"


CONDITION = re.compile(
    r"^(process\.id|status\.id|cf_[a-z0-9_]+) (=|!=) '[0-9a-f-]{36}'$"
    r"|^(status\.id) IN \('[0-9a-f-]{36}'(, '[0-9a-f-]{36}')+\)$"
)


@settings(max_examples=100)
@given(
    st.lists(st.uuids(), min_size=1, max_size=6),
    st.uuids(),
    st.uuids(),
    st.one_of(st.none(), st.uuids()),
)
def test_every_built_query_is_in_the_original_grammar(
    statuses: list[uuid.UUID], process: uuid.UUID, user: uuid.UUID, contest: uuid.UUID | None
) -> None:
    for text in (
        rql.contests(str(process), [str(s) for s in statuses]),
        rql.user_tasks(
            str(process),
            str(user),
            contest_id=None if contest is None else str(contest),
            statuses=[str(s) for s in statuses],
        ),
    ):
        parts = text.split(" AND ")
        assert all(CONDITION.match(p) for p in parts), text
