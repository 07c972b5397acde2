"""Two registry, two configs and two step instances, each tier behind one address, as replicas
behind Kubernetes Services: nginx balances the edge's hosts over the configs and step
instances, and its in-chain listeners give configs one registry address and step one configs
address. The instances share nothing but Postgres and raida-mock, so the join race, the single
send and conditional writes must hold across them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from step_platform.devstack.postgres import PostgresServer
from step_platform.devstack.simulators import RaidaAdmin
from step_platform.devstack.stack import Stack
from step_platform.seed import seed_config_set
from tests.metrics import value

from .conftest import Edge, make_stack, raida_admin

pytestmark = pytest.mark.integration

IDS = seed_config_set()
NODE = IDS["node_id"]["value"]
CONTEST_PROCESS = IDS["contest_process_id"]["value"]
TASK_PROCESS = IDS["task_process_id"]["value"]
WRITE_ROLE = "configs:write"


@pytest.fixture(scope="module")
def scaled(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    # local processes whatever the backend: the compose stack scales step only
    with make_stack(
        "local",
        postgres_server,
        tmp_path_factory.mktemp("scaled"),
        step_instances=2,
        registry_instances=2,
        configs_instances=2,
    ) as stack:
        yield stack


@pytest.fixture
def raida(scaled: Stack) -> Iterator[RaidaAdmin]:
    with raida_admin(scaled) as admin:
        yield admin


def served_by(client: httpx.Client, url: str, times: int = 8) -> set[str]:
    return {client.get(url).headers["x-served-by"] for _ in range(times)}


def at_once(calls: list) -> list[httpx.Response]:
    """Run the calls in threads, all in flight together."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def make_contest(raida: RaidaAdmin) -> str:
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(days=14)).strftime("%Y-%m-%dT00:00:00Z")
    contest = raida.create_task(
        NODE,
        CONTEST_PROCESS,
        {
            "title": f"Scaled {uuid.uuid4().hex[:6]}",
            "description": "A contest of the multi-instance tests.",
            "author": None,
            "assignee": None,
            "status_id": IDS["contest_status_id"]["acceptance_works"],
            "custom_fields": {"cf_deadline": deadline},
        },
    )
    return str(contest["id"])


def test_every_tier_runs_two_instances_behind_one_address(scaled: Stack) -> None:
    with httpx.Client(trust_env=False, timeout=10) as client:
        assert served_by(client, scaled.url("registry") + "/healthz") == {
            "registry/registry-1",
            "registry/registry-2",
        }
        assert served_by(client, scaled.url("configs") + "/healthz") == {
            "configs/configs-1",
            "configs/configs-2",
        }
    with Edge(scaled).configs() as configs:
        assert served_by(configs, "/healthz") == {"configs/configs-1", "configs/configs-2"}
    with Edge(scaled).step() as step:
        assert served_by(step, "/healthz") == {"step/step-1", "step/step-2"}


def test_configs_reads_are_spread_over_both_registry_instances(scaled: Stack) -> None:
    token = scaled.token(str(uuid.uuid4()))
    with Edge(scaled).configs(token) as configs:
        for _ in range(8):
            assert configs.get("/configs/node_id/").status_code == 200
    with httpx.Client(trust_env=False, timeout=10) as client:
        counts = [
            value(
                client.get(scaled.url(name) + "/metrics").text,
                "http_requests_total",
                route="/api/configs",
                status="200",
            )
            for name in ("registry-1", "registry-2")
        ]
    assert all(count > 0 for count in counts), counts


def test_concurrent_joins_through_both_step_instances_leave_one_application(
    scaled: Stack, raida: RaidaAdmin
) -> None:
    contest = make_contest(raida)
    # a slow creation keeps every join's check in flight while the others create
    raida.set_faults(route=f"/api/tasks/{NODE}/{TASK_PROCESS}", method="POST", latency_ms=200)
    token = scaled.token(str(uuid.uuid4()))
    with Edge(scaled).step(token) as step:
        responses = at_once(
            [
                lambda: step.post("/contests/user/my/task/", json={"contest_id": contest})
                for _ in range(6)
            ]
        )
        assert {r.headers["x-served-by"] for r in responses} == {"step/step-1", "step/step-2"}
        assert sorted(r.status_code for r in responses) == [201] + [409] * 5
        [created] = [r.json()["data"]["task_id"] for r in responses if r.status_code == 201]
        raida.clear_faults()
        mine = step.get("/contests/user/my/tasks/").json()["data"]
    live = [item for item in mine if item["id"] == contest]
    assert len(live) == 1
    assert live[0]["application_status"]["application_id"] == created


def test_sends_through_both_step_instances_complete_the_application_once(
    scaled: Stack, raida: RaidaAdmin
) -> None:
    contest = make_contest(raida)
    token = scaled.token(str(uuid.uuid4()))
    with Edge(scaled).step(token) as step:
        joined = step.post("/contests/user/my/task/", json={"contest_id": contest})
        assert joined.status_code == 201, joined.text
        task = joined.json()["data"]["task_id"]
        # a slow claim keeps every sender's read of the application "still open"
        raida.set_faults(route=f"/api/tasks/{NODE}/{task}", method="PATCH", latency_ms=300)
        before = len(raida.journal())

        def send(n: int):
            return lambda: step.post(
                "/contests/user/my/task/send_solution",
                data={"task_id": task, "solution_link": f"https://example.org/{n}"},
                files={"solution_file": (f"s{n}.txt", f"solution {n}".encode(), "text/plain")},
            )

        responses = at_once([send(n) for n in range(4)])
    assert {r.headers["x-served-by"] for r in responses} == {"step/step-1", "step/step-2"}
    assert sorted(r.status_code for r in responses) == [200] + [400] * 3
    assert all(
        r.json()["detail"]["code"] == "TASK_COMPLETED" for r in responses if r.status_code == 400
    )
    uploads = [
        e
        for e in raida.journal()[before:]
        if e["method"] == "POST" and "/attachments/" in e["path"]
    ]
    assert len(uploads) == 1


def test_a_stale_etag_is_refused_by_the_other_registry_instance(scaled: Stack) -> None:
    with httpx.Client(trust_env=False, timeout=10) as client:
        one, two = scaled.url("registry-1"), scaled.url("registry-2")
        created = client.post(
            one + "/api/config/",
            json={
                "project_id": str(uuid.uuid4()),
                "object_type": "scaled",
                "meta": {"status": "active"},
                "data": {"v": 0},
            },
        )
        assert created.status_code == 201, created.text
        url = f"/api/config/{created.json()['id']}/"
        etag = client.get(two + url).headers["etag"]
        first = client.patch(one + url, json={"data": {"v": 1}}, headers={"If-Match": etag})
        assert first.status_code == 200, first.text
        stale = client.patch(two + url, json={"data": {"v": 2}}, headers={"If-Match": etag})
        assert stale.status_code == 412, stale.text
        assert client.get(one + url).json()["data"] == {"v": 1}


def test_concurrent_config_patches_through_both_configs_instances_all_land(
    scaled: Stack,
) -> None:
    project = str(uuid.uuid4())
    token = scaled.token(str(uuid.uuid4()), roles=(WRITE_ROLE,))
    with Edge(scaled).configs(token, project) as configs:
        created = configs.post(
            "/configs/", json={"project_id": project, "object_type": "scaled", "data": {}}
        )
        assert created.status_code == 201, created.text
        # at most ATTEMPTS - 1 = 4 writes can outpace one: 8 writes over two instances land
        responses = at_once(
            [
                (lambda i=i: configs.patch("/configs/scaled/", json={"data": {f"k{i}": i}}))
                for i in range(8)
            ]
        )
        assert [r.status_code for r in responses] == [200] * 8, [r.text for r in responses]
        assert {r.headers["x-served-by"] for r in responses} == {
            "configs/configs-1",
            "configs/configs-2",
        }
        data = configs.get("/configs/scaled/").json()["data"]["scaled"]
    assert data == {f"k{i}": i for i in range(8)}
