"""The step service (contests API): settings and the app factory.

`step-platform serve step` reads `Settings.from_env(os.environ)` (the seed's variable names, so
its `.env` works unchanged) and serves `create_app(settings)` on port 8080. Tests chain it in
process with `transports={"configs": ASGITransport(configs_app), "raida": ASGITransport(...)}`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Scope

from ..core import settings as env
from ..core.app import CommonSettings, Cors, build_app
from ..core.auth import AuthSettings
from ..core.changes import ChangeSignal
from ..core.docs import docs_routes
from ..core.feed import FeedFollower
from ..core.hardening_docs import with_hardening
from ..core.health import health_routes
from ..core.idempotency import IdempotencyMiddleware, MemoryKeys
from ..core.responses import JSON
from ..core.tasks import cancel_and_wait
from ..core.upstream import create_client
from .configs_client import CHANGES_PATH, ConfigsClient
from .deadline import DeadlineMiddleware, default_request_deadline
from .openapi import TITLE, openapi_document
from .raida_client import RaidaClient
from .registration import Registration, registration_body
from .registration import start as start_registration
from .routes import StepApi, configs_of, raida_of
from .submission import claim_lease

SERVICE = "step"
# The writes that take an Idempotency-Key: join and send_solution.
IDEMPOTENT = frozenset({"/contests/user/my/task", "/contests/user/my/task/send_solution"})


def idempotent_operation(method: str, path: str) -> bool:
    return method == "POST" and path in IDEMPOTENT


def idempotent_route(scope: Scope) -> bool:
    return idempotent_operation(scope["method"], scope["path"])


DEFAULT_MAX_UPLOAD = 20 * 1024 * 1024
# Room for the multipart envelope around the file (boundaries, part headers, text fields).
MULTIPART_ALLOWANCE = 256 * 1024
FEED_CACHE_TTL = 5.0  # CONFIG_CACHE_TTL's default when a change feed is followed


@dataclass(frozen=True)
class Settings:
    raida_url: str
    raida_user: str
    raida_password: str
    auth: AuthSettings
    configs_url: str
    cors_origins: tuple[str, ...] = ()
    language_code: str = "ru"
    time_zone: str = "UTC"
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD
    # seconds a config set may be reused; from the environment 5 (FEED_CACHE_TTL) with a
    # CONFIGS_SERVICE_TOKEN, whose change feed drops a changed project at once (the cache is
    # trusted only while that feed is live), and 0 (off) without one: nothing could tell a
    # cached set is stale, so only an explicit CONFIG_CACHE_TTL accepts that staleness
    config_cache_ttl: float = 0.0
    # a User Center token with the configs write role: step registers itself as a config
    # consumer with it (registration.py) and follows the configs change feed with it;
    # "" = no registration (one warning) and no change feed
    configs_service_token: str = ""
    registration_retry: float = 1.0  # first delay between registration attempts, s
    common: CommonSettings = field(default_factory=CommonSettings)
    request_deadline: float | None = None  # None: default_request_deadline(timeout)

    @property
    def deadline(self) -> float:
        if self.request_deadline is not None:
            return self.request_deadline
        return default_request_deadline(self.common.timeout, self.common.connect_timeout)

    @classmethod
    def from_env(cls, e: Mapping[str, str]) -> Settings:
        common = CommonSettings.from_env(e, hosts_var="DJANGO_ALLOWED_HOSTS", sep=None)
        time_zone = env.optional(e, "TIME_ZONE") or "UTC"
        _zone(time_zone)
        token = env.optional(e, "CONFIGS_SERVICE_TOKEN")
        return cls(
            raida_url=env.required(e, "BASE_URL").rstrip("/"),
            raida_user=env.required(e, "USER_RAIDA"),
            raida_password=env.required(e, "PASSWD_RAIDA"),
            auth=AuthSettings.from_env(e),
            configs_url=env.required(e, "CONFIGS_SERVICE_URL").rstrip("/"),
            cors_origins=env.word_list(e, "DJANGO_CORS_ALLOWED_ORIGINS", sep=None),
            language_code=env.optional(e, "LANGUAGE_CODE") or "ru",
            time_zone=time_zone,
            max_upload_bytes=env.integer(e, "STEP_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD, minimum=1),
            config_cache_ttl=env.number(e, "CONFIG_CACHE_TTL", FEED_CACHE_TTL if token else 0.0),
            configs_service_token=token,
            common=common,
            request_deadline=env.number(
                e,
                "STEP_REQUEST_DEADLINE",
                default_request_deadline(common.timeout, common.connect_timeout),
                minimum=0.1,
            ),
        )


class State(TypedDict):
    """What the lifespan opens; Starlette copies it into each request (`request.state.<key>`)."""

    configs: ConfigsClient
    raida: RaidaClient
    # None: no CONFIGS_SERVICE_TOKEN (no registration, no change feed) or no cache
    registration: Registration | None
    configs_feed: FeedFollower | None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise env.ConfigError(f"TIME_ZONE={name!r} is not a known time zone") from None


def create_app(
    settings: Settings, *, transports: Mapping[str, httpx.AsyncBaseTransport] | None = None
) -> Starlette:
    transports = transports or {}
    common = replace(
        settings.common, max_body_bytes=settings.max_upload_bytes + MULTIPART_ALLOWANCE
    )
    deadline = common.connect_timeout + common.timeout
    metrics = common.metrics()
    api = StepApi(
        verifier=settings.auth.verifier(),
        tz=_zone(settings.time_zone),
        max_upload_bytes=settings.max_upload_bytes,
        claim_lease=claim_lease(deadline),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        configs_http = create_client(
            settings.configs_url.rstrip("/") + "/",
            connect_timeout=common.connect_timeout,
            timeout=common.timeout,
            transport=transports.get("configs"),
            upstream="configs",
            metrics=metrics,
        )
        raida_http = create_client(
            settings.raida_url.rstrip("/"),
            connect_timeout=common.connect_timeout,
            timeout=common.timeout,
            transport=transports.get("raida"),
            upstream="raida",
            metrics=metrics,
        )
        async with configs_http, raida_http:
            configs = ConfigsClient(
                configs_http, cache_ttl=settings.config_cache_ttl, deadline=deadline
            )
            feed = None
            if settings.configs_service_token and settings.config_cache_ttl > 0:
                # one long-poll of the configs service's change feed drops changed projects
                signal = ChangeSignal()
                signal.add_listener(configs.cache.forget)
                feed = FeedFollower(
                    configs_http,
                    CHANGES_PATH,
                    signal,
                    headers={"Authorization": f"Bearer {settings.configs_service_token}"},
                    timeout=common.timeout,
                    on_resume=configs.cache.clear,
                )
                configs.cache.trust_while(lambda: feed.live)
                await feed.start(ready_timeout=common.connect_timeout)
            raida = RaidaClient(
                raida_http,
                username=settings.raida_user,
                password=settings.raida_password,
                deadline=deadline,
            )
            registration, registering = start_registration(
                configs_http,
                settings.configs_service_token,
                first_delay=settings.registration_retry,
            )
            try:
                yield State(
                    configs=configs, raida=raida, registration=registration, configs_feed=feed
                )
            finally:
                if feed is not None:
                    await feed.stop()
                await cancel_and_wait(registering)

    async def raida_ready(request: Request) -> None:
        await raida_of(request).ready()

    async def configs_ready(request: Request) -> None:
        await configs_of(request).ready()

    async def config_schema(request: Request) -> Response:
        """The published config format: the JSON Schema of each type step reads."""
        return JSON(registration_body())

    routes = [
        Route("/config-schema", config_schema, methods=["GET"]),
        *api.routes(),
        *health_routes({"raida": raida_ready, "configs": configs_ready}),
        *docs_routes(
            with_hardening(openapi_document, idempotent=idempotent_operation),
            title=TITLE,
            ui_path="/docs",
            schema_path="/docs/schema",
            examples=settings.common.docs_examples(),
        ),
    ]
    return build_app(
        service=SERVICE,
        routes=routes,
        common=common,
        lifespan=lifespan,
        language="ru",
        cors=Cors(settings.cors_origins),
        inner=[
            Middleware(DeadlineMiddleware, seconds=settings.deadline),
            Middleware(
                IdempotencyMiddleware,
                store=MemoryKeys(),
                applies=idempotent_route,
                credentials_required=True,
            ),
        ],
        metrics=metrics,
    )
