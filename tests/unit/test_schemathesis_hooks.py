"""`use_after_deactivate`, the fuzzing run's check of the registry's soft delete (in place of
schemathesis' `use_after_free`, tests/integration/test_schemathesis.py): fed recorded scenarios
(cases of the registry's own document, fabricated answers), it passes the contract and fails
a record gone or still active after its DELETE."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.checks import CHECKS, CheckContext
from schemathesis.config import ChecksConfig
from schemathesis.core.transport import Response
from schemathesis.engine.recorder import ScenarioRecorder

from step_platform.registry import openapi
from tests.integration.schemathesis_hooks import contradictory, use_after_deactivate

RECORD = "/api/config/{id}/"
SCHEMA = schemathesis.openapi.from_dict(openapi.build())


def answer(status: int, body: Any) -> Response:
    request = requests.Request("GET", "http://registry.test/").prepare()
    return Response(
        status_code=status,
        headers={"content-type": ["application/json"]},
        content=json.dumps(body).encode(),
        request=request,
        elapsed=0.0,
        verify=False,
    )


def row(id: str, status: str) -> dict[str, Any]:
    return {"id": id, "meta": {"status": status, "flags": 0, "internal_id": 1}, "data": {}}


class Scenario:
    """A stateful scenario as schemathesis records it: each step a child of the one before."""

    def __init__(self, schema: Any = SCHEMA) -> None:
        self.schema = schema
        self.recorder = ScenarioRecorder(label="scenario")
        self.last: str | None = None

    def step(self, path: str, method: str, status: int, answered: Any, **case: Any) -> tuple:
        made = self.schema[path][method].Case(**case)
        response = answer(status, answered)
        self.recorder.record_case(case=made, parent_id=self.last)
        self.recorder.record_response(case_id=made.id, response=response)
        self.last = made.id
        return response, made

    def check(self, path: str, method: str, status: int, answered: Any, **case: Any) -> None:
        response, made = self.step(path, method, status, answered, **case)
        context = CheckContext(
            override=None,
            auth=None,
            headers=None,
            config=ChecksConfig(),
            transport_kwargs=None,
            recorder=self.recorder,
            response_checks=None,
        )
        use_after_deactivate(context, response, made)


@pytest.fixture
def record() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def deleted(record: str) -> Scenario:
    """A record created, then deactivated by its DELETE."""
    scenario = Scenario()
    scenario.step("/api/config/", "POST", 201, row(record, "active"), body={})
    scenario.step(RECORD, "DELETE", 200, {"message": "ok"}, path_parameters={"id": record})
    return scenario


def test_the_check_is_registered_so_checks_all_runs_it():
    assert use_after_deactivate in CHECKS.get_all()


def test_a_deactivated_record_read_as_inactive_passes(deleted, record):
    deleted.check(RECORD, "GET", 200, row(record, "inactive"), path_parameters={"id": record})


def test_a_deactivated_record_still_active_fails(deleted, record):
    with pytest.raises(AssertionError, match="not 'inactive'"):
        deleted.check(RECORD, "GET", 200, row(record, "active"), path_parameters={"id": record})


def test_a_deactivated_record_answering_404_fails(deleted, record):
    with pytest.raises(AssertionError, match="soft delete"):
        deleted.check(RECORD, "GET", 404, {"detail": {}}, path_parameters={"id": record})


def test_a_deactivated_records_history_answering_404_fails(deleted, record):
    with pytest.raises(AssertionError, match="soft delete"):
        deleted.check(f"{RECORD}history/", "GET", 404, {}, path_parameters={"id": record})


def test_a_patch_of_a_deactivated_record_answering_404_fails(deleted, record):
    with pytest.raises(AssertionError, match="soft delete"):
        deleted.check(RECORD, "PATCH", 404, {}, path_parameters={"id": record}, body={})


def test_a_patch_setting_active_must_reactivate(deleted, record):
    reactivate = {"meta": {"status": "active"}}
    with pytest.raises(AssertionError, match="reactivation"):
        deleted.check(
            RECORD,
            "PATCH",
            200,
            row(record, "inactive"),
            path_parameters={"id": record},
            body=reactivate,
        )


def test_a_reactivated_record_may_read_active(deleted, record):
    reactivate = {"meta": {"status": "active"}}
    deleted.check(
        RECORD, "PATCH", 200, row(record, "active"), path_parameters={"id": record}, body=reactivate
    )
    deleted.check(RECORD, "GET", 200, row(record, "active"), path_parameters={"id": record})


def test_a_bulk_delete_deactivates_the_records_it_lists(record):
    scenario = Scenario()
    scenario.step("/api/config/", "POST", 201, row(record, "active"), body={})
    listed = {"message": "ok", "deactivated": [record.upper()], "not_found": []}
    scenario.step("/api/configs/", "DELETE", 200, listed, query={"id": record})
    with pytest.raises(AssertionError, match="not 'inactive'"):
        scenario.check(RECORD, "GET", 200, row(record, "active"), path_parameters={"id": record})


def test_a_failed_delete_deactivates_nothing(record):
    scenario = Scenario()
    scenario.step("/api/config/", "POST", 201, row(record, "active"), body={})
    scenario.step(RECORD, "DELETE", 412, {"detail": {}}, path_parameters={"id": record})
    scenario.check(RECORD, "GET", 200, row(record, "active"), path_parameters={"id": record})


def test_another_record_is_not_judged(deleted):
    other = str(uuid.uuid4())
    deleted.check(RECORD, "GET", 404, {"detail": {}}, path_parameters={"id": other})


def test_other_documents_are_not_judged(record):
    document = copy.deepcopy(openapi.build())
    document["info"]["title"] = "Another API"
    scenario = Scenario(schemathesis.openapi.from_dict(document))
    scenario.step(RECORD, "DELETE", 204, None, path_parameters={"id": record})
    scenario.check(RECORD, "GET", 404, {"detail": {}}, path_parameters={"id": record})


@pytest.mark.parametrize(
    ("body", "dropped"),
    [
        ({"data": {"theme": {}, "0": 1}, "deactivate": ["x", "0"]}, True),
        ({"data": {"theme": {}}, "deactivate": ["other"]}, False),
        ({"data": {"theme": {}}}, False),
        ({"data": [], "deactivate": ["theme"]}, False),  # negative either way: left as made
        ([], False),
    ],
)
def test_a_dry_run_writing_and_deactivating_one_type_is_not_generated(body, dropped):
    assert contradictory(body) is dropped
