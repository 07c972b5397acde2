"""The admin API under `/__admin/`: what tests and the demo use to steer the simulator.

JSON in and out, our error envelope (`{"detail": {"code", "message"}}`); never journaled or
faulted, never authenticated (a simulator binds to 127.0.0.1).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from step_platform.core.errors import bad_request
from step_platform.core.responses import JSON

from .api import new_token
from .simulator import Simulator
from .store import FixtureError
from .traffic import parse_fault


def _sim(request: Request) -> Simulator:
    simulator: Simulator = request.app.state.simulator
    return simulator


async def _body(request: Request, *, optional: bool = False) -> Any:
    raw = await request.body()
    if optional and not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"Malformed JSON body: {exc}") from None


async def reset(request: Request) -> Response:
    """Back to the seed (relative dates resolved anew); journal and faults are kept."""
    return JSON({"status": "ok", **_sim(request).reset()})


async def seed(request: Request) -> Response:
    """Replace the whole state with the fixture in the body (see `fixtures.py`)."""
    document = await _body(request)
    try:
        counts = _sim(request).load(document)
    except FixtureError as exc:
        raise bad_request(str(exc), code="INVALID_FIXTURE") from None
    return JSON({"status": "ok", **counts})


async def state(request: Request) -> Response:
    """The current state as a fixture (file contents omitted), e.g. to inspect or re-seed."""
    return JSON(_sim(request).store.snapshot())


async def add_fault(request: Request) -> Response:
    try:
        rule = parse_fault(await _body(request, optional=True))
    except ValueError as exc:
        raise bad_request(f"Invalid fault: {exc}", code="INVALID_FAULT") from None
    faults = _sim(request).faults
    faults.add(rule)
    return JSON({"faults": faults.public()})


async def list_faults(request: Request) -> Response:
    return JSON({"faults": _sim(request).faults.public()})


async def clear_faults(request: Request) -> Response:
    _sim(request).faults.clear()
    return JSON({"faults": []})


async def journal(request: Request) -> Response:
    return JSON({"entries": _sim(request).journal.list()})


async def clear_journal(request: Request) -> Response:
    _sim(request).journal.clear()
    return JSON({"entries": []})


async def revoke_tokens(request: Request) -> Response:
    """Invalidate every issued Raida token (to exercise a client's refresh after a 401)."""
    sim = _sim(request)
    revoked = sim.store.revoke_tokens()
    sim.save()
    return JSON({"revoked": revoked})


async def issue_token(request: Request) -> Response:
    """A service-account token without the token endpoint (so the journal is not touched)."""
    return JSON(new_token(request))


def routes() -> list[Route]:
    return [
        Route("/__admin/reset", reset, methods=["POST"]),
        Route("/__admin/seed", seed, methods=["POST"]),
        Route("/__admin/state", state, methods=["GET"]),
        Route("/__admin/faults", add_fault, methods=["POST"]),
        Route("/__admin/faults", list_faults, methods=["GET"]),
        Route("/__admin/faults", clear_faults, methods=["DELETE"]),
        Route("/__admin/journal", journal, methods=["GET"]),
        Route("/__admin/journal", clear_journal, methods=["DELETE"]),
        Route("/__admin/tokens", issue_token, methods=["POST"]),
        Route("/__admin/tokens", revoke_tokens, methods=["DELETE"]),
    ]
