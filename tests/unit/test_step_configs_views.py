"""Step's cached configs answers: each route's view is validated once, a broken set every time."""

from __future__ import annotations

import pytest

from step_platform.contests import config_format as cf
from step_platform.contests.configs_client import Fetched
from step_platform.core.errors import ApiError
from step_platform.seed import seed_config_set


def test_a_route_reuses_the_view_validated_from_the_same_answer() -> None:
    fetched = Fetched(seed_config_set())
    first = fetched.view(cf.MY_TASKS)
    assert fetched.view(cf.MY_TASKS) is first
    assert first["node_id.value"] == seed_config_set()["node_id"]["value"]


def test_routes_reading_other_paths_get_their_own_view() -> None:
    fetched = Fetched(seed_config_set())
    assert fetched.view(cf.ACTIVE) is not fetched.view(cf.MY_TASKS)


def test_a_broken_answer_is_refused_on_every_request() -> None:
    data = seed_config_set()
    del data["node_id"]
    fetched = Fetched(data)
    for _ in range(2):
        with pytest.raises(ApiError) as info:
            fetched.view(cf.ACTIVE)
        assert info.value.code == "SERVICE_ERROR"
    assert fetched.views == {}
