"""The step service's client of Raida: one pooled connection set, one service-account token.

The original fetched a token per worker, reused it for a fixed hour whatever Raida said, sent
`Bearer None` after a failed login and never retried a 401. Here the token is cached until the
expiry Raida announces (less a small skew), fetched by one request at a time however many are
waiting (single flight), and fetched again once when Raida rejects it with 401. Every call has a
total deadline on top of httpx's connect/read timeouts (an in-process transport has no socket
timeouts at all). Failures map by one table for every client: connection 503, timeout 504,
5xx / a body that breaks the contract / a rejected service account 502 — each with
`detail.upstream = raida`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass
from typing import IO, Any

import httpx

from ..core.upstream import (
    UpstreamBadResponse,
    UpstreamTimeout,
    call,
    json_of,
)

log = logging.getLogger("step_platform.contests.raida")

UPSTREAM = "raida"
TOKEN_PATH = "/api/users/token/"
DEFAULT_TOKEN_TTL = 3600.0  # what the original assumed when Raida does not say


@dataclass
class _Token:
    value: str
    expires_at: float


@dataclass(frozen=True)
class Upload:
    """A file to attach: re-readable, so a retried request can send it again."""

    filename: str
    file: IO[bytes]
    content_type: str


class RaidaAuth(httpx.Auth):
    """The service-account token on every Raida request, refreshed once on a 401.

    An httpx auth flow, so the retry resends the very request httpx built (body included:
    `requires_request_body` buffers it, uploads too) and the token logic stays out of the
    calls. The token itself comes from `RaidaClient.token` (cached, single flight).
    """

    requires_request_body = True

    def __init__(self, client: RaidaClient) -> None:
        self.client = client

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.client.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            log.info("raida refused the service token; refreshing it once")
            token = await self.client.token(stale=token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("RaidaAuth works with httpx.AsyncClient only")
        yield request  # pragma: no cover - makes this a generator


class RaidaClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        username: str,
        password: str,
        deadline: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.username = username
        self.password = password
        self.deadline = deadline
        self.clock = clock
        self._token: _Token | None = None
        self._lock = asyncio.Lock()
        self.token_fetches = 0  # observable by tests and the benchmark
        self.auth = RaidaAuth(self)

    # --- transport ------------------------------------------------------------------------

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            async with asyncio.timeout(self.deadline):
                return await call(self.http, UPSTREAM, method, url, **kwargs)
        except TimeoutError:
            log.warning("raida %s %s: no answer within %ss", method, url, self.deadline)
            raise UpstreamTimeout(UPSTREAM, "deadline") from None

    # --- token ----------------------------------------------------------------------------

    def _valid(self, stale: str | None) -> str | None:
        token = self._token
        if token is None or token.value == stale or self.clock() >= token.expires_at:
            return None
        return token.value

    async def token(self, *, stale: str | None = None) -> str:
        """The cached token, or a fresh one; `stale` is a token Raida just refused."""
        value = self._valid(stale)
        if value is not None:
            return value
        async with self._lock:
            value = self._valid(stale)  # another request may have refreshed it meanwhile
            if value is not None:
                return value
            if stale is not None and self._token is not None and self._token.value == stale:
                self._token = None
            self._token = await self._fetch_token()
            return self._token.value

    async def _fetch_token(self) -> _Token:
        self.token_fetches += 1
        started = self.clock()
        response = await self._send(
            "POST", TOKEN_PATH, data={"username": self.username, "password": self.password}
        )
        if response.status_code != 200:
            # A rejected service account is our misconfiguration, not the caller's fault.
            log.error("raida token request answered %s", response.status_code)
            raise UpstreamBadResponse(UPSTREAM, f"token status {response.status_code}")
        body = json_of(response, UPSTREAM)
        value = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise UpstreamBadResponse(UPSTREAM, "token response without access_token")
        ttl = body.get("expires_in")
        if not isinstance(ttl, int | float) or isinstance(ttl, bool) or ttl <= 0:
            ttl = DEFAULT_TOKEN_TTL
        skew = min(30.0, ttl * 0.1)
        return _Token(value, started + ttl - skew)

    # --- authenticated requests -------------------------------------------------------------

    async def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        upload: Upload | None = None,
    ) -> httpx.Response:
        """One authenticated call (`RaidaAuth` adds the token and retries a 401 once).

        4xx other than a final 401 are returned: what they mean depends on the call.
        """
        kwargs: dict[str, Any] = {"auth": self.auth}
        if json is not None:
            kwargs["json"] = json
        if params is not None:
            kwargs["params"] = params
        if upload is not None:
            upload.file.seek(0)
            kwargs["files"] = {"attachment": (upload.filename, upload.file, upload.content_type)}
        response = await self._send(method, url, **kwargs)
        if response.status_code == 401:
            log.error("raida refused a freshly issued service token")
            raise UpstreamBadResponse(UPSTREAM, "401 with a fresh token")
        return response

    def _data(self, response: httpx.Response, what: str) -> Any:
        if response.status_code >= 400:
            log.warning("raida %s answered %s", what, response.status_code)
            raise UpstreamBadResponse(UPSTREAM, f"{what}: status {response.status_code}")
        body = json_of(response, UPSTREAM)
        if not isinstance(body, dict):
            raise UpstreamBadResponse(UPSTREAM, f"{what}: body is not an object")
        return body.get("data")

    # --- the calls step makes -----------------------------------------------------------------

    async def get_task(self, node: str, task_id: str) -> dict[str, Any] | None:
        """One task, or None when Raida does not know it (404 or `data: null`, both styles)."""
        response = await self.request("GET", f"/api/tasks/{node}/{task_id}")
        if response.status_code == 404:
            return None
        data = self._data(response, "task read")
        if data is None or data == {}:
            return None
        if not isinstance(data, dict):
            raise UpstreamBadResponse(UPSTREAM, "task read: data is not an object")
        return data

    async def search(self, node: str, rql: str) -> list[dict[str, Any]]:
        """All tasks matching an RQL query, whole objects (attachments included)."""
        response = await self.request(
            "POST", f"/api/tasks/rql/{node}", json={"rql": rql, "fields": []}
        )
        data = self._data(response, "search")
        if data is None:
            return []
        if not isinstance(data, list):
            raise UpstreamBadResponse(UPSTREAM, "search: data is not a list")
        return [item for item in data if isinstance(item, dict)]

    async def create_task(self, node: str, process: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.request("POST", f"/api/tasks/{node}/{process}", json=body)
        data = self._data(response, "task create")
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise UpstreamBadResponse(UPSTREAM, "task create: no data.id")
        return data

    async def patch_task(
        self, node: str, task_id: str, body: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The task as Raida answers it right after the update (None if it does not say)."""
        response = await self.request("PATCH", f"/api/tasks/{node}/{task_id}", json=body)
        data = self._data(response, "task update")
        return data if isinstance(data, dict) else None

    async def upload_attachment(self, node: str, task_id: str, upload: Upload) -> None:
        response = await self.request(
            "POST", f"/api/attachments/{node}/{task_id}", params={"type": "task"}, upload=upload
        )
        self._data(response, "attachment upload")

    async def attachments(self, node: str, task_id: str) -> list[dict[str, Any]] | None:
        """A task's attachments, for a Raida whose search results do not carry them."""
        response = await self.request("GET", f"/api/attachments/{node}/{task_id}")
        if response.status_code == 404:
            return None
        data = self._data(response, "attachment list")
        return [a for a in data if isinstance(a, dict)] if isinstance(data, list) else None

    async def ready(self) -> None:
        """Raida answers now: a cached token proves only that it answered once, so a request
        goes out every time: HEAD on the token route, which any answering Raida refuses
        cheaply (405) without doing work."""
        token = await self.token()
        response = await self._send(
            "HEAD", TOKEN_PATH, headers={"Authorization": f"Bearer {token}"}
        )
        if response.status_code >= 500:
            raise UpstreamBadResponse(UPSTREAM, f"status {response.status_code}")
