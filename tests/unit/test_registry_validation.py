"""Validation of one body item: what is stored, and the original's messages."""

from __future__ import annotations

import uuid

import pytest

from step_platform.registry.kinds import CONFIGS, LINKS
from step_platform.registry.validation import DataMode, Mode, validate_item, validate_items

ID = uuid.UUID("aaaaaaaa-0000-4000-8000-000000000001")


def test_create_fills_defaults_and_fresh_meta():
    item, errors = validate_item(CONFIGS, {"name": " x ", "meta": {"internal_id": 5}}, Mode.CREATE)
    assert errors == {}
    assert item.values["name"] == "x" and item.values["project_id"] is None
    assert item.meta == {"status": "active", "flags": 0}
    assert (item.data_mode, item.data) == (DataMode.REPLACE, {})
    assert item.id is None


def test_put_sets_every_writable_column_and_patch_only_the_given_ones():
    put, _ = validate_item(
        LINKS, {"link_type": "t", "object1": str(ID), "object2": str(ID)}, Mode.PUT, url_id=ID
    )
    assert set(put.values) == {c.name for c in LINKS.writable}
    assert (put.values["weight"], put.values["direction"]) == (0.0, 1)
    patch, _ = validate_item(LINKS, {"weight": 0.5}, Mode.PATCH, url_id=ID)
    assert patch.values == {"weight": 0.5}
    assert patch.data_mode is DataMode.KEEP and patch.meta == {}


def test_patch_data_object_is_a_merge():
    item, _ = validate_item(CONFIGS, {"data": {"a": 1}}, Mode.PATCH, url_id=ID)
    assert (item.data_mode, item.data) == (DataMode.MERGE, {"a": 1})


def test_integral_float_flags_become_integers():
    item, _ = validate_item(CONFIGS, {"meta": {"flags": 4.0}}, Mode.CREATE)
    assert item.meta["flags"] == 4 and isinstance(item.meta["flags"], int)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"weight": 1e309}, {"weight": ["A valid number is required."]}),
        ({"direction": "9" * 2000}, {"direction": ["A valid integer is required."]}),
        (
            {"link_code": "\ud800"},
            {"link_code": ["Text must be valid Unicode without null characters."]},
        ),
        (
            {"meta": {"k": "\x00"}},
            {"meta": ["Text must be valid Unicode without null characters."]},
        ),
        ({"data": {"\x00": 1}}, {"data": ["Text must be valid Unicode without null characters."]}),
    ],
)
def test_values_postgres_cannot_store_are_refused(body, errors):
    base = {"link_type": "t", "object1": str(ID), "object2": str(ID)}
    assert validate_item(LINKS, {**base, **body}, Mode.CREATE)[1] == errors


def test_bulk_duplicates_are_refused_for_updates_only():
    body = [{"id": str(ID)}, {"id": str(ID).upper()}]
    _, errors, _ = validate_items(CONFIGS, body, Mode.PATCH)
    assert errors == [{}, {"id": ["This id appears more than once in the request."]}]
    items, errors, _ = validate_items(CONFIGS, body, Mode.CREATE)
    assert errors is None and len(items) == 2
