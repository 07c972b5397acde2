"""`/metrics` on an app built like a service: requests by route template and status, latency
histograms, requests in progress, and upstream calls by outcome through the metered client."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from step_platform.core.app import CommonSettings, build_app
from step_platform.core.metrics import Metrics
from step_platform.core.responses import JSON
from step_platform.core.upstream import UpstreamUnavailable, call, create_client
from tests.metrics import value

pytestmark = pytest.mark.anyio


async def thing(request: Request) -> Response:
    return JSON({"id": request.path_params["thing_id"]})


async def boom(request: Request) -> Response:
    raise RuntimeError("secret internals")


def make_app(metrics: Metrics | None = None):
    routes = [Route("/things/{thing_id}", thing), Route("/boom", boom)]
    common = CommonSettings(allowed_hosts=("testserver",), instance_id="i1", max_body_bytes=10)
    return build_app(service="things", routes=routes, common=common, metrics=metrics)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


async def test_requests_are_counted_by_route_template_not_by_path(client) -> None:
    for thing_id in ("a", "b", "c"):
        assert (await client.get(f"/things/{thing_id}/")).status_code == 200
    text = await scrape(client)
    route = {"route": "/things/{thing_id}", "method": "GET"}
    assert value(text, "http_requests_total", **route, status="200") == 3
    assert value(text, "http_request_duration_seconds_count", **route) == 3
    assert "/things/a" not in text


async def test_unknown_paths_share_one_label(client) -> None:
    await client.get("/nothing/1")
    await client.get("/nothing/2")
    text = await scrape(client)
    assert value(text, "http_requests_total", route="<unmatched>", status="404") == 2


async def test_errors_are_counted_with_their_status(client) -> None:
    assert (await client.get("/boom")).status_code == 500
    assert (await client.get("/things/x", headers={"Host": "evil.example"})).status_code == 400
    assert (await client.post("/things/x", content=b"x" * 11)).status_code == 413
    text = await scrape(client)
    assert value(text, "http_requests_total", route="/boom", status="500") == 1
    assert value(text, "http_requests_total", route="/things/{thing_id}", status="400") == 1
    assert value(text, "http_requests_total", route="/things/{thing_id}", status="413") == 1


async def test_metrics_answer_any_host_so_scrapers_can_use_the_pod_ip(client) -> None:
    response = await client.get("/metrics", headers={"Host": "10.1.2.3:8002"})
    assert response.status_code == 200


async def test_each_app_counts_only_its_own_requests() -> None:
    first, second = make_app(), make_app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=first), base_url="http://testserver"
    ) as a, httpx.AsyncClient(
        transport=httpx.ASGITransport(app=second), base_url="http://testserver"
    ) as b:  # fmt: skip
        await a.get("/things/1")
        assert value(await scrape(b), "http_requests_total", route="/things/{thing_id}") == 0
        assert value(await scrape(a), "http_requests_total", route="/things/{thing_id}") == 1


async def test_requests_in_progress_rise_while_answering() -> None:
    release = asyncio.Event()
    entered = asyncio.Event()

    async def slow(request: Request) -> Response:
        entered.set()
        await release.wait()
        return JSON({})

    metrics = Metrics()
    app = build_app(
        service="slow", routes=[Route("/slow", slow)], common=CommonSettings(), metrics=metrics
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        pending = asyncio.create_task(client.get("/slow"))
        await entered.wait()
        # the scrape is a request in progress too
        assert value(await scrape(client), "http_requests_in_progress") == 2
        release.set()
        await pending
        assert value(await scrape(client), "http_requests_in_progress") == 1


async def test_upstream_calls_are_counted_by_outcome() -> None:
    metrics = Metrics()
    upstream = make_app()
    client = create_client(
        "http://testserver",
        transport=httpx.ASGITransport(app=upstream),
        upstream="things",
        metrics=metrics,
    )
    async with client:
        await call(client, "things", "GET", "/things/1")
        await call(client, "things", "GET", "/nothing")
    text = metrics.exposition().decode()
    assert value(text, "upstream_requests_total", upstream="things", outcome="2xx") == 1
    assert value(text, "upstream_requests_total", upstream="things", outcome="4xx") == 1
    assert value(text, "upstream_request_duration_seconds_count", upstream="things") == 2


async def test_refused_upstream_is_counted_as_unavailable() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    metrics = Metrics()
    client = create_client(f"http://127.0.0.1:{port}", upstream="things", metrics=metrics)
    async with client:
        with pytest.raises(UpstreamUnavailable):
            await call(client, "things", "GET", "/things/1")
    text = metrics.exposition().decode()
    assert value(text, "upstream_requests_total", upstream="things", outcome="unavailable") == 1


async def test_a_call_its_caller_gave_up_on_is_counted_as_cancelled() -> None:
    started = asyncio.Event()

    async def hang(request: Request) -> Response:
        started.set()
        await asyncio.sleep(60)
        return JSON({})

    upstream = build_app(service="slow", routes=[Route("/hang", hang)], common=CommonSettings())
    metrics = Metrics()
    client = create_client(
        "http://testserver",
        transport=httpx.ASGITransport(app=upstream),
        upstream="slow",
        metrics=metrics,
    )
    async with client:
        pending = asyncio.create_task(call(client, "slow", "GET", "/hang"))
        await started.wait()
        pending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pending
    text = metrics.exposition().decode()
    assert value(text, "upstream_requests_total", upstream="slow", outcome="cancelled") == 1


async def test_a_scrape_racing_a_starting_worker_waits_for_its_file(tmp_path) -> None:
    # a worker that is starting has created its file but not yet written its header
    starting = tmp_path / "counter_4242.db"
    starting.write_bytes(b"")
    metrics = Metrics(str(tmp_path))

    async def worker_writes_its_header() -> None:
        await asyncio.sleep(0.03)
        starting.unlink()  # (or filled in): either way the next read succeeds

    writer = asyncio.create_task(worker_writes_its_header())
    text = await metrics.exposition_retrying(attempts=50, pause=0.01)
    await writer
    assert isinstance(text, bytes)


async def test_a_file_that_stays_broken_is_an_error_not_a_hang(tmp_path) -> None:
    (tmp_path / "counter_4242.db").write_bytes(b"")
    with pytest.raises(struct.error):
        await Metrics(str(tmp_path)).exposition_retrying(attempts=3, pause=0.001)
