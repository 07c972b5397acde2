"""Input checks of the configs service: type names in the path, POST and PUT/PATCH bodies."""

from __future__ import annotations

import pytest

from step_platform.configs.validation import parse_create, parse_data, parse_type, parse_types
from step_platform.core.errors import ApiError
from step_platform.core.headers import Context

P = "e3eb60a2-3bb7-4983-8e2f-47490b979eb9"
A = "0b6c1c4e-3f57-4a53-8f0e-2b1d8f8f6a01"
HEADERS = Context(project_id=P, account_id=None)


def fields_of(exc: pytest.ExceptionInfo[ApiError]) -> dict[str, list[str]]:
    assert exc.value.status == 400
    assert exc.value.code == "BAD_REQUEST"
    assert isinstance(exc.value.message, str)
    return exc.value.extra["fields"]


def test_type_list_is_split_on_commas_keeping_order():
    assert parse_types("node_id,task_status_id") == ("node_id", "task_status_id")


def test_repeated_types_are_folded():
    assert parse_types("a,b,a") == ("a", "b")


@pytest.mark.parametrize(
    "raw", ["a&b=c", "a b", "a,", ",a", "a,,b", "ä", "a#b", "a=b", "a%26b", "x" * 255]
)
def test_type_names_outside_the_alphabet_are_rejected(raw):
    with pytest.raises(ApiError) as exc:
        parse_types(raw)
    assert "config_type" in fields_of(exc)


def test_write_routes_take_exactly_one_type():
    assert parse_type("node_id") == "node_id"
    with pytest.raises(ApiError) as exc:
        parse_type("a,b")
    assert "config_type" in fields_of(exc)


def test_a_valid_create_body_is_normalised():
    body = {
        "project_id": P.upper(),
        "account_id": A.replace("-", ""),
        "object_type": " node_id ",
        "data": {"value": 1},
        "unknown": "ignored",
    }
    new = parse_create(body, HEADERS)
    assert (new.project_id, new.account_id, new.object_type, new.data) == (
        P,
        A,
        "node_id",
        {"value": 1},
    )


def test_create_requires_project_id_object_type_and_data():
    with pytest.raises(ApiError) as exc:
        parse_create({}, HEADERS)
    assert fields_of(exc) == {
        "project_id": ["This field is required."],
        "object_type": ["This field is required."],
        "data": ["This field is required."],
    }


def test_create_rejects_null_account_id_and_null_data():
    body = {"project_id": P, "account_id": None, "object_type": "a", "data": None}
    with pytest.raises(ApiError) as exc:
        parse_create(body, HEADERS)
    assert fields_of(exc) == {
        "account_id": ["This field may not be null."],
        "data": ["This field may not be null."],
    }


@pytest.mark.parametrize(
    ("object_type", "message"),
    [
        ("", "This field may not be blank."),
        ("   ", "This field may not be blank."),
        (5, "Not a valid string."),
        ("node id", "Only latin letters, digits and underscores are allowed."),
        ("x" * 181, "Ensure this field has no more than 180 characters."),
    ],
)
def test_create_checks_the_type_name(object_type, message):
    body = {"project_id": P, "object_type": object_type, "data": 1}
    with pytest.raises(ApiError) as exc:
        parse_create(body, HEADERS)
    assert fields_of(exc) == {"object_type": [message]}


def test_create_accepts_any_non_null_json_data():
    for data in ([1, 2], "text", 0, False, {}):
        assert parse_create({"project_id": P, "object_type": "a", "data": data}, HEADERS).data == (
            data
        )


def test_a_body_project_other_than_the_header_is_403():
    body = {"project_id": A, "object_type": "a", "data": 1}
    with pytest.raises(ApiError) as exc:
        parse_create(body, HEADERS)
    assert exc.value.status == 403
    assert list(exc.value.extra["fields"]) == ["project_id"]


def test_a_body_account_other_than_the_header_is_403_when_both_are_given():
    body = {"project_id": P, "account_id": A, "object_type": "a", "data": 1}
    other = Context(project_id=P, account_id="9d7c3a52-1a7e-4c3a-9a55-5a8c4f1e2b03")
    with pytest.raises(ApiError) as exc:
        parse_create(body, other)
    assert exc.value.status == 403
    assert list(exc.value.extra["fields"]) == ["account_id"]
    assert parse_create(body, Context(project_id=P, account_id=A)).account_id == A
    assert parse_create(body, HEADERS).account_id == A


@pytest.mark.parametrize("body", [[], "x", 1, None])
def test_a_body_that_is_not_an_object_is_rejected(body):
    with pytest.raises(ApiError) as exc:
        parse_create(body, HEADERS)
    assert "non_field_errors" in fields_of(exc)


def test_put_and_patch_bodies_need_non_null_data():
    assert parse_data({"data": {"a": 1}, "other": 2}) == {"a": 1}
    with pytest.raises(ApiError) as exc:
        parse_data({})
    assert fields_of(exc) == {"data": ["This field is required."]}
    with pytest.raises(ApiError) as exc:
        parse_data({"data": None})
    assert fields_of(exc) == {"data": ["This field may not be null."]}
