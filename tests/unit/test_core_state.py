"""The lifespan's resources as handlers read them (`core.state.resource`)."""

import pytest
from starlette.requests import Request

from step_platform.core.state import resource


def request_with(state: dict[str, object]) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [], "state": state})


class Pool:
    pass


def test_a_resource_is_read_from_the_lifespan_state():
    pool = Pool()
    assert resource(request_with({"pool": pool}), "pool", Pool) is pool


def test_a_missing_resource_names_itself():
    with pytest.raises(TypeError, match="'pool' is NoneType, expected Pool"):
        resource(request_with({}), "pool", Pool)


def test_a_resource_of_another_type_names_both_types():
    with pytest.raises(TypeError, match="'pool' is str, expected Pool"):
        resource(request_with({"pool": "not a pool"}), "pool", Pool)
