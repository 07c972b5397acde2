"""Schemathesis over all five OpenAPI documents, against the services over sockets: every
generated request (valid and invalid by the document) must be answered without a 5xx.

A stack of its own, so generated writes never touch the data of the other integration
tests; raida-mock's and user-center-mock's `/__admin` routes (test controls, which inject
faults on purpose) are left out. Bounded: a few examples per operation, no shrinking.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from step_platform.devstack.postgres import PostgresServer
from step_platform.devstack.stack import Stack

from .conftest import make_stack

pytestmark = pytest.mark.integration

EXAMPLES = 8
DOCUMENTS = {
    "registry": "/schema?format=json",
    "configs": "/docs/schema?format=json",
    "step-1": "/docs/schema?format=json",
    "raida-mock": "/docs/schema?format=json",
    "user-center-mock": "/docs/schema?format=json",
}
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def fuzzed(
    backend: str, postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    stack = make_stack(
        backend, postgres_server, tmp_path_factory.mktemp("fuzzed"), step_instances=1
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def credentials(fuzzed: Stack) -> dict[str, dict[str, str]]:
    """Valid credentials per service, so generation reaches past authentication."""
    user = fuzzed.token(str(uuid.uuid4()), roles=("configs:write",))
    raida = httpx.post(
        fuzzed.url("raida-mock") + "/api/users/token/",
        data={"username": fuzzed.config.raida_user, "password": fuzzed.config.raida_password},
        trust_env=False,
    ).json()["access_token"]
    jwt = {"Authorization": f"Bearer {user}", "Project-ID": fuzzed.config.project_id}
    return {
        "registry": {},
        "configs": jwt,
        "step-1": jwt,
        "raida-mock": {"Authorization": f"Bearer {raida}"},
        "user-center-mock": {},
    }


def operations(fuzzed: Stack, service: str) -> list[Any]:
    schema = schemathesis.openapi.from_url(fuzzed.url(service) + DOCUMENTS[service])
    found = [result.ok() for result in schema.get_all_operations()]
    return [op for op in found if not op.path.startswith("/__admin")]


def documented(response: Any) -> bool:
    """step's 500 `SERVICE_ERROR` for a project whose config set is incomplete is the
    original's documented answer (a generated Project-ID has no configs), not a crash."""
    try:
        return response.json()["detail"]["code"] == "SERVICE_ERROR"
    except (ValueError, KeyError, TypeError):
        return False


def fuzz(fuzzed: Stack, service: str, credentials: dict[str, dict[str, str]]) -> None:
    """Each operation of the document, with valid and invalid generated requests."""
    failures: list[str] = []
    ops = operations(fuzzed, service)
    assert ops, f"{service} documents no operation"
    for op in ops:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @BOUNDED
            @given(case=op.as_strategy(generation_mode=mode))
            def check(case: Any) -> None:
                headers = {**credentials[service], **(case.headers or {})}
                response = case.call(base_url=fuzzed.url(service), headers=headers, timeout=30)
                if response.status_code >= 500 and not documented(response):
                    failures.append(
                        f"{case.method} {response.request.url} -> {response.status_code} "
                        f"{response.text[:200]}"
                    )

            try:
                check()
            except Unsatisfiable:
                # nothing in this operation can be made invalid (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE, op.label
    assert failures == [], "\n".join(failures[:10])


@pytest.mark.parametrize("service", list(DOCUMENTS))
def test_every_generated_request_is_answered_without_a_5xx(
    fuzzed: Stack, credentials: dict[str, dict[str, str]], service: str
) -> None:
    fuzz(fuzzed, service, credentials)
