"""Step registers itself as a consumer of configs, so writes that would break it are refused.

At start-up step sends the JSON Schemas of the config types it reads (`config_format`) to
`PUT {CONFIGS_SERVICE_URL}/configs/_consumers/step/` with the token in `CONFIGS_SERVICE_TOKEN`
(a User Center token carrying the configs write role). The call runs in the background: the
service starts serving at once, whatever the configs service does. It is idempotent (the
configs service changes nothing when the schemas are the same), so every instance does it on
every start.

Transport failures, timeouts and 5xx are retried with a doubling delay (capped), until the
registration lands or the service stops. A 4xx will not heal by retrying (a bad or expired
token, a missing role, a configs service without the route): it is logged as an error once
and the task ends. Without a token step logs one warning and does not register.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from ..core.upstream import UpstreamError, call
from .config_format import type_schemas

CONSUMER_NAME = "step"
MAX_DELAY = 60.0

log = logging.getLogger("step_platform.contests.registration")


def registration_body() -> dict[str, Any]:
    return {"schemas": type_schemas()}


class Registration:
    """The background registration of one step instance; `state` is observable by tests."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        token: str,
        *,
        first_delay: float = 1.0,
        name: str = CONSUMER_NAME,
    ) -> None:
        self.http = http
        self.token = token
        self.first_delay = first_delay
        self.name = name
        self.attempts = 0
        self.state = "pending"  # -> "registered" | "refused"

    async def run(self) -> None:
        delay = self.first_delay
        while True:
            self.attempts += 1
            outcome = await self.attempt()
            if outcome is not None:
                self.state = outcome
                return
            log.warning("consumer registration failed, retrying in %.1f s", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY)

    async def attempt(self) -> str | None:
        """ "registered", "refused" (a 4xx: give up), or None to try again."""
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            response = await call(
                self.http,
                "configs",
                "PUT",
                f"configs/_consumers/{self.name}/",
                headers=headers,
                json=registration_body(),
            )
        except UpstreamError as error:
            log.info("consumer registration: %s from the configs service", error.code)
            return None
        if response.status_code in (200, 201):
            log.info("registered as config consumer %r", self.name)
            return "registered"
        if 400 <= response.status_code < 500:
            log.error(
                "the configs service refused step's consumer registration (%s): %s",
                response.status_code,
                response.text[:500],
            )
            return "refused"
        return None


def start(
    http: httpx.AsyncClient, token: str, *, first_delay: float
) -> tuple[Registration | None, asyncio.Task[None] | None]:
    """Start registering in the background; without a token, warn once and do nothing."""
    if not token:
        log.warning(
            "CONFIGS_SERVICE_TOKEN is not set: step does not register as a config consumer, "
            "so the configs service will not refuse writes that break step"
        )
        return None, None
    registration = Registration(http, token, first_delay=first_delay)
    return registration, asyncio.create_task(registration.run(), name="consumer-registration")
