"""Pooled HTTP clients for upstream services and the small exception tree they raise.

    UpstreamError (ApiError)          a call to `registry`, `configs` or `raida` failed
    ├── UpstreamUnavailable   503      connection refused / reset / dropped
    ├── UpstreamTimeout       504      connect or read timeout
    └── UpstreamBadResponse   502      5xx, or a body that is not what the contract says

Each carries `detail.upstream` naming the service. Callers decide what a 4xx means (it is part
of each contract), so 4xx responses are returned, not raised. Every call forwards the current
request id as `X-Request-ID`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from . import context
from .errors import ApiError
from .metrics import Metrics

log = logging.getLogger("step_platform.upstream")

MESSAGES = {
    "UPSTREAM_UNAVAILABLE": "Сервис {upstream} недоступен.",
    "UPSTREAM_TIMEOUT": "Сервис {upstream} не ответил вовремя.",
    "UPSTREAM_ERROR": "Сервис {upstream} ответил ошибкой.",
}


class UpstreamError(ApiError):
    status_code = 502
    error_code = "UPSTREAM_ERROR"

    def __init__(self, upstream: str, reason: str = "") -> None:
        super().__init__(
            self.status_code,
            self.error_code,
            MESSAGES[self.error_code].format(upstream=upstream),
            upstream=upstream,
        )
        self.upstream = upstream
        self.reason = reason


class UpstreamUnavailable(UpstreamError):
    status_code = 503
    error_code = "UPSTREAM_UNAVAILABLE"


class UpstreamTimeout(UpstreamError):
    status_code = 504
    error_code = "UPSTREAM_TIMEOUT"


class UpstreamBadResponse(UpstreamError):
    status_code = 502
    error_code = "UPSTREAM_ERROR"


async def _add_request_id(request: httpx.Request) -> None:
    rid = context.request_id.get()
    if rid and "x-request-id" not in request.headers:
        request.headers["X-Request-ID"] = rid


# An idle pooled connection is dropped before the upstream's server may close it: uvicorn closes
# keep-alive connections idle for 5 s (`timeout_keep_alive`), exactly httpx's default expiry,
# so under load a request could go out on a connection the server was closing and fail with
# "Server disconnected without sending a response" (a 503 for a healthy upstream; seen by
# `make bench`). Two seconds keeps the pool warm under steady load.
KEEPALIVE_EXPIRY = 2.0


def registry_auth(token: str) -> dict[str, str]:
    """The header a registry with `REGISTRY_API_TOKEN` set asks for (none when unset)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


class MeteredTransport(httpx.AsyncBaseTransport):
    """Counts every call to one upstream by outcome and times it to the response headers.

    It wraps the transport rather than `call` so that every request a client sends is counted,
    retries and health checks included: the figures are what the upstream actually received.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, *, upstream: str, metrics: Metrics):
        self.inner = inner
        self.upstream = upstream
        self.metrics = metrics

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        outcome = "unavailable"
        try:
            response = await self.inner.handle_async_request(request)
            outcome = f"{response.status_code // 100}xx"
            return response
        except httpx.TimeoutException:
            outcome = "timeout"
            raise
        except asyncio.CancelledError:  # our caller gave up (e.g. its client went away)
            outcome = "cancelled"
            raise
        finally:
            self.metrics.upstream_call(self.upstream, outcome, time.perf_counter() - started)

    async def aclose(self) -> None:
        await self.inner.aclose()


def create_client(
    base_url: str,
    *,
    connect_timeout: float = 2.0,
    timeout: float = 10.0,
    max_connections: int = 100,
    transport: httpx.AsyncBaseTransport | None = None,
    headers: Mapping[str, str] | None = None,
    upstream: str = "",
    metrics: Metrics | None = None,
) -> httpx.AsyncClient:
    """One client per upstream, opened in the lifespan and shared by all requests; with
    `metrics`, its calls are counted under `upstream`."""
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=KEEPALIVE_EXPIRY,
    )
    if metrics is not None:
        inner = transport or httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
        transport = MeteredTransport(inner, upstream=upstream, metrics=metrics)
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        limits=limits,
        event_hooks={"request": [_add_request_id]},
        transport=transport,
        headers=headers,
        follow_redirects=False,
        trust_env=False,
    )


async def call(
    client: httpx.AsyncClient, upstream: str, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    """Send a request; transport failures and 5xx become `UpstreamError`s."""
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        log.warning("%s %s %s: timeout %r", upstream, method, url, exc)
        raise UpstreamTimeout(upstream, repr(exc)) from None
    except httpx.TransportError as exc:
        log.warning("%s %s %s: transport error %r", upstream, method, url, exc)
        raise UpstreamUnavailable(upstream, repr(exc)) from None
    if response.status_code >= 500:
        log.warning("%s %s %s: status %s", upstream, method, url, response.status_code)
        raise UpstreamBadResponse(upstream, f"status {response.status_code}")
    return response


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"number {text} is out of range")
    return number


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# What orjson reads differently from `json` when it reads it at all: integers beyond 64 bits
# (as floats: any such literal has 19 digits or more) and nesting between `json`'s reach and
# orjson's 1,024 levels. A body with a run of 19 digits anywhere, or nested deeper than orjson
# renders (254 levels), is left to `json`.
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_DIGITS = b"0" * 19


def loads(body: bytes) -> Any:
    """A JSON body; `NaN`, `Infinity` and numbers out of float range (`1e400`) are not JSON
    (RFC 8259) and raise `ValueError`, so what is rendered from an upstream's answer has finite
    numbers only (`core.responses.dumps_parsed` relies on it).

    orjson parses first (step's Raida answers at 200 contests: about 1 ms where `json` takes
    2.5); it answers only where its answer is `json`'s. Everything it refuses (NaN, `1e400`,
    a BOM, lone surrogates, broken JSON) and the two cases above go to `json`, which gives the
    answer or the error they always had (a `RecursionError` for nesting past its reach).
    """
    if _NINETEEN_DIGITS not in body.translate(_DIGITS_TO_ZERO):
        try:
            parsed = orjson.loads(body)
            orjson.dumps(parsed)  # raises past 254 levels; the rest of it cannot fail here
        except (orjson.JSONDecodeError, orjson.JSONEncodeError):
            pass
        else:
            return parsed
    return loads_by_json(body)


def loads_by_json(body: bytes) -> Any:
    """`loads` by `json` alone: the answer (or error) `loads` gives for every body."""
    return json.loads(body, parse_constant=_constant, parse_float=_finite)


def json_of(response: httpx.Response, upstream: str) -> Any:
    """The parsed body, or 502 when the upstream sent something that is not JSON (or JSON
    nested deeper than this process can parse)."""
    try:
        return loads(response.content)
    except ValueError:
        log.warning("%s answered %s with a non-JSON body", upstream, response.status_code)
        raise UpstreamBadResponse(upstream, "non-JSON body") from None
    except RecursionError:  # e.g. a row stored before the depth cap, nested ~1000 deep
        log.warning("%s answered %s with a body nested too deep", upstream, response.status_code)
        raise UpstreamBadResponse(upstream, "body nested too deep") from None
