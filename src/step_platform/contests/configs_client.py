"""Reading a project's config set from the configs service, with the caller's credentials.

The configs service authorises with the caller's token, so its answer belongs to that caller:
the short-lived cache is keyed by user id, Project-ID, Account-ID and the types asked for, and
is never shared across users. A project's entries are dropped as soon as the configs
service's change feed names the project (`core.feed`, followed when `CONFIGS_SERVICE_TOKEN`
is set), so a config write reaches every step instance within the feed's latency. With a feed,
the cache is served and filled only while the feed is live (`FeedFollower.live`) and cleared
when it comes back, so a feed that is down or behind costs a configs call per read, never a
stale answer; without one, the TTL (off unless `CONFIG_CACHE_TTL` is set) is the only bound.

The path is `/configs/{types}/` with its final slash (the original asked without it and paid a
301 hop on every request), joined to `CONFIGS_SERVICE_URL` whether or not that ends with a
slash.

How its answers reach our client: 401/403 pass through with its code; 404 (no config of
any type the route needs: an unknown project) is 404 PROJECT_NOT_FOUND naming the project and
the types; other 4xx, 5xx and
transport failures are upstream errors with `detail.upstream = configs`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..core.auth import MESSAGES as AUTH_MESSAGES
from ..core.cache import TtlCache
from ..core.errors import ApiError
from ..core.headers import Context
from ..core.upstream import UpstreamBadResponse, UpstreamTimeout, call, json_of
from .config_format import ConfigSet, Need, project_not_found, service_error, validate

log = logging.getLogger("step_platform.contests.configs")

UPSTREAM = "configs"
MAX_ENTRIES = 4096

CHANGES_PATH = "configs/_changes/"

CacheKey = tuple[str, str, str | None, tuple[str, ...]]


def project_of(key: CacheKey) -> str:
    return key[1]


@dataclass
class Fetched:
    """One answer of the configs service as cached, with each route's validated view of it.

    Validating is done once per route and answer, not on every request (it was a tenth of a
    small list's CPU): a view exists only for a set that passed, so a broken set is checked,
    and refused, every time.
    """

    data: dict[str, Any]
    views: dict[Need, ConfigSet] = field(default_factory=dict)

    def view(self, need: Need) -> ConfigSet:
        found = self.views.get(need)
        if found is None:
            found = self.views[need] = validate(self.data, need)
        return found


class ConfigsClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        cache_ttl: float,
        deadline: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.deadline = deadline
        self.cache: TtlCache[CacheKey, Fetched] = TtlCache(
            cache_ttl, group=project_of, max_entries=MAX_ENTRIES, clock=clock
        )
        self.fetches = 0  # observable by tests and the benchmark

    async def config_set(
        self, *, user_id: str, context: Context, authorization: str, need: Need
    ) -> ConfigSet:
        """The route's validated config values, or the error the client should see."""
        key: CacheKey = (user_id, context.project_id, context.account_id, need.types)
        fetched = self.cache.get(key)
        if fetched is None:
            generation = self.cache.generation(context.project_id)
            fetched = Fetched(await self._fetch(context, authorization, need))
            self.cache.put(key, fetched, generation)
        return fetched.view(need)

    async def _fetch(self, context: Context, authorization: str, need: Need) -> dict[str, Any]:
        headers = {"Authorization": authorization, "Project-ID": context.project_id}
        if context.account_id:
            headers["Account-ID"] = context.account_id
        url = f"configs/{','.join(need.types)}/"
        self.fetches += 1
        try:
            async with asyncio.timeout(self.deadline):
                response = await call(self.http, UPSTREAM, "GET", url, headers=headers)
        except TimeoutError:
            raise UpstreamTimeout(UPSTREAM, "deadline") from None
        status = response.status_code
        if status in (401, 403):
            raise _passed_through(response)
        if status == 404:
            raise project_not_found(context.project_id, list(need.types))
        if status != 200:
            log.warning("configs answered %s", status)
            raise UpstreamBadResponse(UPSTREAM, f"status {status}")
        body = json_of(response, UPSTREAM)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            # The original's rule: an answer without `data` is an unusable config set.
            raise service_error(list(need.types))
        return data

    async def ready(self) -> None:
        try:
            async with asyncio.timeout(self.deadline):
                response = await call(self.http, UPSTREAM, "GET", "healthz")
        except TimeoutError:
            raise UpstreamTimeout(UPSTREAM, "deadline") from None
        if response.status_code != 200:
            raise UpstreamBadResponse(UPSTREAM, f"healthz status {response.status_code}")


def _passed_through(response: httpx.Response) -> ApiError:
    """The configs service's own 401/403, with its code and message when it sent them."""
    status = response.status_code
    code, message = ("TOKEN_INCORRECT", AUTH_MESSAGES["TOKEN_INCORRECT"])
    if status == 403:
        code, message = ("FORBIDDEN", AUTH_MESSAGES["FORBIDDEN"])
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, dict):
        if isinstance(detail.get("code"), str):
            code = detail["code"]
        if isinstance(detail.get("message"), str):
            message = detail["message"]
    elif isinstance(detail, str):
        message = detail
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return ApiError(status, code, message, headers=headers, upstream=UPSTREAM)
