"""Schemathesis with all its checks over the five OpenAPI documents, against the services over
sockets: every phase (the
documents' examples, coverage, fuzzing, stateful sequences) and every check (server errors,
response schema and status conformance, schema-valid requests accepted,
schema-violating requests rejected, `Allow` headers, use after delete (the registry: use after
deactivate, below), ...) must pass.

It runs schemathesis' own CLI (`st run --checks all`), as a user of the documents would. A stack
of its own, so generated writes never touch the data of the other integration tests; the
simulators' `/__admin` routes (test controls, which inject faults on purpose) are left out.
Bounded: a fixed seed (the run is reproducible; `STEP_FUZZ_SEED` picks another), a few examples
per operation, no shrinking, and a hard time limit per document.

Order matters only for coverage, not correctness: step is fuzzed first, while its project's
config set is intact; the configs service is fuzzed in a project of its own.

The registry keeps the original's soft delete (docs/compat.md): its DELETE deactivates, the
record stays readable, listed and writable (a PATCH setting `meta.status` "active" reactivates
it). Schemathesis' `use_after_free` expects a deleted record to answer 404, so for the
registry's document it is replaced by the contract's own check, `use_after_deactivate`
(schemathesis_hooks.py; `--checks all` runs it): after a successful DELETE the record's GET
answers 200 with `meta.status` "inactive", its history and writes never 404, and a PATCH or PUT
setting "active" reactivates it (tests/unit/test_schemathesis_hooks.py shows it failing).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from step_platform.devstack.postgres import PostgresServer
from step_platform.devstack.stack import Stack

from .conftest import make_stack

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ST = Path(sys.executable).with_name("st")
HOOKS = "tests.integration.schemathesis_hooks"
EXAMPLES = 10
TIME_LIMIT = 240  # seconds per document; a run takes well under a minute
SEED = int(os.environ.get("STEP_FUZZ_SEED", "20261205"))
DOCUMENTS = {
    "step-1": "/docs/schema",
    "raida-mock": "/docs/schema",
    "user-center-mock": "/docs/schema",
    "configs": "/docs/schema",
    "registry": "/schema",
}
# the registry's soft delete: `use_after_free` gives way to `use_after_deactivate` (above)
EXCLUDED_CHECKS = {"registry": ("use_after_free",)}


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
    bearer = {"Authorization": f"Bearer {user}"}
    return {
        "configs": {**bearer, "Project-ID": str(uuid.uuid4())},
        "step-1": {**bearer, "Project-ID": fuzzed.config.project_id},
        "raida-mock": {"Authorization": f"Bearer {raida}"},
        "user-center-mock": {},
        "registry": {},
    }


def schemathesis_run(service: str, base: str, headers: dict[str, str]) -> list[str]:
    """The CLI command for one document: all checks, all phases, bounded."""
    document = DOCUMENTS[service]
    command = [
        str(ST),
        "run",
        f"{base}{document}?format=json",
        f"--url={base}",
        "--checks=all",
        f"--max-examples={EXAMPLES}",
        f"--seed={SEED}",
        "--no-shrink",
        "--no-color",
        "--request-timeout=30",
        "--exclude-path-regex=^/__admin",
    ]
    command += [f"--exclude-checks={name}" for name in EXCLUDED_CHECKS.get(service, ())]
    for name, value in headers.items():
        command.append(f"--header={name}: {value}")
    return command


@pytest.mark.parametrize("service", list(DOCUMENTS))
def test_every_check_passes_on_every_document(
    fuzzed: Stack, credentials: dict[str, dict[str, str]], service: str
) -> None:
    command = schemathesis_run(service, fuzzed.url(service), credentials[service])
    env = {**os.environ, "SCHEMATHESIS_HOOKS": HOOKS, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIME_LIMIT
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, f"schemathesis on {service} (seed {SEED}):\n{report[-60000:]}"
    assert " passed" in report and "failure" not in report.lower(), report[-4000:]
