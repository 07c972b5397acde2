"""raida-mock's admin API: reset, seed, state, journal, faults, tokens; health and docs."""

from __future__ import annotations

import httpx
import pytest

from raida_mock.fixtures import SUPER_CONTEST_ID, build_fixture

from .conftest import CONTEST_PROCESS, CS, NODE, TASK_PROCESS, TS

pytestmark = pytest.mark.anyio

CONTEST_URL = f"/api/tasks/{NODE}/{SUPER_CONTEST_ID}"
ACTIVE = f"process.id = '{CONTEST_PROCESS}' AND status.id = '{CS['acceptance_works']}'"


async def count_tasks(admin):
    return len((await admin.state())["nodes"][0]["tasks"])


async def test_reset_goes_back_to_the_seed(raida_client, raida_admin, auth):
    seeded = await count_tasks(raida_admin)
    await raida_client.post(f"/api/tasks/{NODE}/{TASK_PROCESS}", json={}, headers=auth)
    assert await count_tasks(raida_admin) == seeded + 1
    result = await raida_admin.reset()
    assert result["tasks"] == seeded
    assert await count_tasks(raida_admin) == seeded


async def test_reset_keeps_issued_tokens(raida_client, raida_admin, auth):
    await raida_admin.reset()
    assert (await raida_client.get(CONTEST_URL, headers=auth)).status_code == 200


async def test_seed_loads_a_built_fixture(raida_client, raida_admin, auth):
    result = await raida_admin.seed(build_fixture(contests=12))
    response = await raida_client.post(
        f"/api/tasks/rql/{NODE}", json={"rql": ACTIVE, "fields": []}, headers=auth
    )
    assert result == {"status": "ok", "nodes": 1, "tasks": 24, "attachments": 12}
    assert len(response.json()["data"]) == 12


async def test_seed_resolves_relative_dates(raida_admin):
    await raida_admin.seed(build_fixture(contests=1, application_status=None))
    (contest,) = (await raida_admin.state())["nodes"][0]["tasks"]
    assert not contest["created_at"].startswith("$")
    assert contest["custom_fields"]["cf_deadline"].endswith("T00:00:00.000Z")


async def test_an_invalid_fixture_is_400_and_changes_nothing(raida_client, raida_admin):
    before = await raida_admin.state()
    response = await raida_client.post("/__admin/seed", json={"nodes": [{"id": "x"}]})
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "INVALID_FIXTURE"
    assert "nodes[0]" in response.json()["detail"]["message"]
    assert await raida_admin.state() == before


async def test_a_malformed_seed_body_is_400(raida_client):
    response = await raida_client.post("/__admin/seed", content=b"{nodes")
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "BAD_REQUEST"


async def test_the_state_can_be_seeded_back(raida_client, raida_admin, auth):
    await raida_client.post(f"/api/tasks/{NODE}/{TASK_PROCESS}", json={}, headers=auth)
    state = await raida_admin.state()
    await raida_admin.reset()
    await raida_admin.seed(state)
    assert await raida_admin.state() == state


async def test_the_journal_records_api_calls_in_order(raida_client, raida_admin, auth):
    await raida_client.get(CONTEST_URL, headers=auth)
    await raida_client.post(
        f"/api/tasks/rql/{NODE}", json={"rql": ACTIVE, "fields": []}, headers=auth
    )
    await raida_client.get(f"/api/tasks/{NODE}/00000000-0000-4000-8000-000000000000", headers=auth)
    await raida_client.post(f"/api/attachments/{NODE}/{SUPER_CONTEST_ID}?type=task", headers=auth)
    entries = await raida_admin.journal()
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", CONTEST_URL, 200),
        ("POST", f"/api/tasks/rql/{NODE}", 200),
        ("GET", f"/api/tasks/{NODE}/00000000-0000-4000-8000-000000000000", 404),
        ("POST", f"/api/attachments/{NODE}/{SUPER_CONTEST_ID}", 400),
    ]
    assert entries[1]["rql"] == ACTIVE
    assert entries[3]["query"] == "type=task"
    assert all(e["at"].endswith("Z") for e in entries)


async def test_the_journal_keeps_the_path_as_sent(raida_client, raida_admin):
    await raida_client.post("/api/users/token/", data={"username": "u", "password": "p"})
    (entry,) = await raida_admin.journal()
    assert entry["path"] == "/api/users/token/"


async def test_admin_health_and_docs_calls_are_not_journaled(raida_client, raida_admin):
    await raida_admin.state()
    await raida_client.get("/healthz")
    await raida_client.get("/docs/schema")
    assert await raida_admin.journal() == []


async def test_clearing_the_journal(raida_client, raida_admin, auth):
    await raida_client.get(CONTEST_URL, headers=auth)
    await raida_admin.clear_journal()
    assert await raida_admin.journal() == []


async def test_fail_next_fails_that_many_calls_then_recovers(raida_client, raida_admin, auth):
    await raida_admin.faults(fail_next=2, error_status=503)
    statuses = [(await raida_client.get(CONTEST_URL, headers=auth)).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    entries = await raida_admin.journal()
    assert [e.get("fault") for e in entries] == ["error", "error", None]
    assert [e["status"] for e in entries] == [503, 503, 200]


async def test_an_injected_error_has_a_raida_style_body(raida_client, raida_admin, auth):
    await raida_admin.faults(fail_next=1)
    response = await raida_client.get(CONTEST_URL, headers=auth)
    assert response.status_code == 500
    assert isinstance(response.json()["detail"], str)


async def test_a_rule_applies_only_to_its_route_prefix(raida_client, raida_admin, auth):
    await raida_admin.faults(route="/api/tasks/rql", fail_next=5)
    read = await raida_client.get(CONTEST_URL, headers=auth)
    search = await raida_client.post(
        f"/api/tasks/rql/{NODE}", json={"rql": ACTIVE, "fields": []}, headers=auth
    )
    assert (read.status_code, search.status_code) == (200, 500)


async def test_a_rule_can_be_limited_to_a_method(raida_client, raida_admin, auth):
    await raida_admin.faults(method="patch", fail_next=1)
    read = await raida_client.get(CONTEST_URL, headers=auth)
    patch = await raida_client.patch(CONTEST_URL, json={}, headers=auth)
    assert (read.status_code, patch.status_code) == (200, 500)


@pytest.mark.parametrize(("rate", "expected"), [(1, 502), (0, 200)])
async def test_error_rate_fails_calls_with_that_probability(
    raida_client, raida_admin, auth, rate, expected
):
    await raida_admin.faults(error_rate=rate, error_status=502)
    statuses = {(await raida_client.get(CONTEST_URL, headers=auth)).status_code for _ in range(5)}
    assert statuses == {expected}


async def test_drop_next_closes_without_a_response_in_process(raida_client, raida_admin, auth):
    await raida_admin.faults(drop_next=1)
    with pytest.raises(httpx.RemoteProtocolError):
        await raida_client.get(CONTEST_URL, headers=auth)
    assert (await raida_client.get(CONTEST_URL, headers=auth)).status_code == 200
    entries = await raida_admin.journal()
    assert [(e.get("fault"), e["status"]) for e in entries] == [("drop", None), (None, 200)]


async def test_latency_is_recorded_and_the_call_still_answers(raida_client, raida_admin, auth):
    await raida_admin.faults(latency_ms=20)
    response = await raida_client.get(CONTEST_URL, headers=auth)
    (entry,) = await raida_admin.journal()
    assert response.status_code == 200
    assert entry["latency_ms"] == 20


async def test_faults_spare_health_routes_unless_named(raida_client, raida_admin):
    await raida_admin.faults(error_rate=1)
    assert (await raida_client.get("/healthz")).status_code == 200
    await raida_admin.faults(route="/healthz", fail_next=1)
    assert (await raida_client.get("/healthz")).status_code == 500


async def test_faults_are_listed_and_cleared(raida_client, raida_admin, auth):
    listed = await raida_admin.faults(route="/api", fail_next=3)
    assert listed == [
        {
            "route": "/api",
            "method": "",
            "latency_ms": 0,
            "error_rate": 0,
            "error_status": 500,
            "fail_next": 3,
            "drop_next": 0,
        }
    ]
    assert (await raida_client.get("/__admin/faults")).json() == {"faults": listed}
    await raida_admin.clear_faults()
    assert (await raida_client.get(CONTEST_URL, headers=auth)).status_code == 200


@pytest.mark.parametrize(
    "rule",
    [
        {"fail_next": -1},
        {"error_rate": 2},
        {"error_status": 200},
        {"latency_ms": "slow"},
        {"route": "api"},
        {"drop_next": 1.5},
        {"colour": "red"},
        {"fail_next": True},
    ],
)
async def test_an_invalid_fault_is_400(raida_client, rule):
    response = await raida_client.post("/__admin/faults", json=rule)
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "INVALID_FAULT"


async def test_admin_calls_are_never_faulted(raida_client, raida_admin):
    await raida_admin.faults(error_rate=1, route="/")
    assert (await raida_client.get("/__admin/journal")).status_code == 200


async def test_health_ready_and_context_headers(raida_client):
    health = await raida_client.get("/healthz", headers={"X-Request-ID": "abc-1"})
    ready = await raida_client.get("/readyz")
    assert health.json() == {"status": "ok"}
    assert health.headers["x-request-id"] == "abc-1"
    assert health.headers["x-served-by"].startswith("raida-mock/")
    assert ready.json() == {"status": "ok", "checks": {"store": "ok"}}


async def test_the_openapi_document_lists_the_raida_routes(raida_client):
    doc = (await raida_client.get("/docs/schema?format=json")).json()
    assert doc["openapi"] == "3.0.3"
    assert {"/api/users/token/", "/api/tasks/rql/{node}", "/api/attachments/{node}/{task}"} <= set(
        doc["paths"]
    )


async def test_the_state_lists_statuses_per_process_with_the_shared_rejection(raida_admin):
    processes = (await raida_admin.state())["nodes"][0]["processes"]
    with_rejection = [
        p["id"] for p in processes if TS["rejection"] in {s["id"] for s in p["statuses"]}
    ]
    assert sorted(with_rejection) == sorted([CONTEST_PROCESS, TASK_PROCESS])
