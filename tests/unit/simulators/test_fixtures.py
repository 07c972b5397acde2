"""The packaged seed, relative dates, `build_fixture`, and fixture validation."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from raida_mock.fixtures import (
    CONTEST_STATUS_NAMES,
    DEMO_USER_ID,
    SUPER_CONTEST_ID,
    TASK_STATUS_NAMES,
    build_fixture,
    default_seed,
    relative_date,
    resolve,
)
from raida_mock.store import FixtureError, Store
from step_platform.seed import seed_config_set

CONFIG = seed_config_set()
NOW = datetime(2025, 3, 1, 10, 15, 30, 123456, tzinfo=UTC)


def loaded(fixture):
    store = Store()
    store.load(resolve(fixture, NOW))
    return store


def seed_node():
    store = loaded(default_seed())
    assert len(store.nodes) == 1
    return next(iter(store.nodes.values()))


def test_seed_node_and_process_ids_are_the_config_sets():
    node = seed_node()
    assert node.id == CONFIG["node_id"]["value"]
    assert set(node.processes) == {
        CONFIG["contest_process_id"]["value"],
        CONFIG["task_process_id"]["value"],
    }


def test_seed_statuses_are_the_config_sets_with_russian_names():
    node = seed_node()
    contest = node.processes[CONFIG["contest_process_id"]["value"]].statuses
    task = node.processes[CONFIG["task_process_id"]["value"]].statuses
    assert contest == {CONFIG["contest_status_id"][k]: n for k, n in CONTEST_STATUS_NAMES.items()}
    assert task == {CONFIG["task_status_id"][k]: n for k, n in TASK_STATUS_NAMES.items()}
    assert task[CONFIG["task_status_id"]["completed"]] == "Задание выполнено"


def test_the_rejection_status_belongs_to_both_processes():
    node = seed_node()
    rejection = CONFIG["task_status_id"]["rejection"]
    assert all(rejection in p.statuses for p in node.processes.values())


def contests_and_applications(node):
    contest_process = CONFIG["contest_process_id"]["value"]
    contests = [t for t in node.tasks.values() if t["process"]["id"] == contest_process]
    applications = [t for t in node.tasks.values() if t["process"]["id"] != contest_process]
    return contests, applications


def test_seed_has_contests_in_every_contest_status():
    contests, _ = contests_and_applications(seed_node())
    assert {c["status"]["id"] for c in contests} == set(CONFIG["contest_status_id"].values())


def test_seed_contests_satisfy_the_original_details_route():
    contests, _ = contests_and_applications(seed_node())
    for contest in contests:
        custom = contest["custom_fields"]
        assert contest["description"] and contest["title"]
        assert contest["created_at"].endswith("Z")
        for key in ("cf_deadline", "cf_award", "cf_profession", "cf_konkurs_category", "cf_brief"):
            assert isinstance(custom[key], str) and custom[key], (contest["title"], key)


def test_open_contests_end_in_the_future_and_finished_ones_in_the_past():
    contests, _ = contests_and_applications(seed_node())
    open_ids = {CONFIG["contest_status_id"][k] for k in ("new", "acceptance_works")}
    finished = {CONFIG["contest_status_id"][k] for k in ("done", "no_winner", "voting")}
    today = NOW.strftime("%Y-%m-%d")
    for contest in contests:
        deadline = contest["custom_fields"]["cf_deadline"][:10]
        if contest["status"]["id"] in open_ids:
            assert deadline > today, contest["title"]
        if contest["status"]["id"] in finished:
            assert deadline < today, contest["title"]


def test_the_example_contest_is_accepting_works():
    node = seed_node()
    contest = node.tasks[SUPER_CONTEST_ID]
    assert contest["title"] == "Супер-конкурс"
    assert contest["status"]["id"] == CONFIG["contest_status_id"]["acceptance_works"]


def test_the_demo_user_has_applications_in_every_task_status():
    _, applications = contests_and_applications(seed_node())
    mine = [a for a in applications if a["custom_fields"]["cf_userid"] == DEMO_USER_ID]
    assert {a["status"]["id"] for a in mine} == set(CONFIG["task_status_id"].values())


def test_seed_has_applications_of_several_users_some_with_attachments():
    store = loaded(default_seed())
    node = next(iter(store.nodes.values()))
    _, applications = contests_and_applications(node)
    assert len({a["custom_fields"]["cf_userid"] for a in applications}) >= 3
    assert any(store.task_files(node, a["id"]) for a in applications)


def test_the_readme_attachment_is_on_the_demo_users_completed_application():
    store = loaded(default_seed())
    item = store.files["ce063f59-e352-4da9-939f-253644619eb4"]
    task = next(iter(store.nodes.values())).tasks[item.task_id]
    assert item.name == "f6e3f9a9-79ea-4859-82ea-b1721bff0c70-cat.jpg"
    assert item.content_type == "image/jpeg"
    assert store.blobs.get(item.id).startswith(b"\xff\xd8")
    assert task["custom_fields"]["cf_konkurs_id"] == SUPER_CONTEST_ID
    assert task["custom_fields"]["solution_link"] == "test_link"
    assert task["status"]["name"] == "Задание выполнено"


def test_no_live_duplicate_applications_in_the_seed():
    _, applications = contests_and_applications(seed_node())
    rejection = CONFIG["task_status_id"]["rejection"]
    live = Counter(
        (a["custom_fields"]["cf_userid"], a["custom_fields"]["cf_konkurs_id"])
        for a in applications
        if a["status"]["id"] != rejection
    )
    assert max(live.values()) == 1


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ("$now", "2025-03-01T10:15:30.123Z"),
        ("$now-2h", "2025-03-01T08:15:30.123Z"),
        ("$today+14d", "2025-03-15T00:00:00.000Z"),
        ("$today-1d", "2025-02-28T00:00:00.000Z"),
        ("$date+30d", "2025-03-31"),
        ("$now+90s", "2025-03-01T10:17:00.123Z"),
        ("$now+5m", "2025-03-01T10:20:30.123Z"),
        ("$later", "$later"),
        ("2024-11-28", "2024-11-28"),
    ],
)
def test_relative_dates_resolve_against_the_load_time(marker, expected):
    assert relative_date(marker, NOW) == expected


def test_build_fixture_makes_the_requested_contests_and_applications():
    fixture = build_fixture(
        contests=7, contest_status=("acceptance_works", "done"), application_status="completed"
    )
    store = loaded(fixture)
    node = store.nodes[CONFIG["node_id"]["value"]]
    contests, applications = contests_and_applications(node)
    assert len(contests) == 7 and len(applications) == 7
    statuses = Counter(c["status"]["id"] for c in contests)
    assert statuses[CONFIG["contest_status_id"]["acceptance_works"]] == 4
    assert statuses[CONFIG["contest_status_id"]["done"]] == 3
    assert {a["custom_fields"]["cf_userid"] for a in applications} == {DEMO_USER_ID}
    assert {a["custom_fields"]["cf_konkurs_id"] for a in applications} == {
        c["id"] for c in contests
    }
    assert all(len(store.task_files(node, a["id"])) == 1 for a in applications)


def test_build_fixture_with_other_users_and_no_attachments():
    fixture = build_fixture(contests=3, other_users=2, attachments=False)
    store = loaded(fixture)
    _, applications = contests_and_applications(store.nodes[CONFIG["node_id"]["value"]])
    assert len(applications) == 9
    assert not store.files


def test_build_fixture_without_applications():
    store = loaded(build_fixture(contests=4, application_status=None))
    assert store.counts()["tasks"] == 4


FILE_ID = "00000000-0000-4000-8000-000000000001"


def _minimal(**task_overrides):
    fixture = build_fixture(contests=1, application_status=None, attachments=False)
    fixture["nodes"][0]["tasks"][0].update(task_overrides)
    return fixture


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ([], "fixture must be an object"),
        ({"nodes": []}, "must not be empty"),
        ({"nodes": [{"id": "x", "processes": []}]}, "id must be a UUID"),
        (_minimal(status_id=CONFIG["task_status_id"]["new"]), "is not in its process"),
        (_minimal(process_id="00000000-0000-4000-8000-000000000000"), "unknown process"),
        (_minimal(custom_fields=[1]), "custom_fields must be an object"),
        (_minimal(attachments=[{"id": FILE_ID}]), "name is required"),
        (_minimal(attachments=[{"id": FILE_ID, "name": "a", "content_base64": "%"}]), "not base64"),
    ],
)  # fmt: skip
def test_invalid_fixtures_are_refused_with_the_item_named(document, fragment):
    with pytest.raises(FixtureError, match=fragment.replace("(", r"\(")):
        Store().load(document)


def test_a_refused_fixture_leaves_the_state_unchanged():
    store = loaded(default_seed())
    before = store.snapshot()
    with pytest.raises(FixtureError):
        store.load(_minimal(status_id="nonsense"))
    assert store.snapshot() == before


def test_duplicate_task_ids_are_refused():
    fixture = build_fixture(contests=1, application_status=None, attachments=False)
    fixture["nodes"][0]["tasks"].append(dict(fixture["nodes"][0]["tasks"][0]))
    with pytest.raises(FixtureError, match="duplicate task id"):
        Store().load(fixture)


def test_a_snapshot_loads_back_to_the_same_state():
    store = loaded(default_seed())
    again = Store()
    again.load(store.snapshot())
    assert again.snapshot() == store.snapshot()
