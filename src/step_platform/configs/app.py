"""Assembly of the configs service: settings from the seed's env names, lifespan, routes.

`step-platform serve configs` calls `Settings.from_env(os.environ)` then `create_app(settings)`.
Tests build `Settings(...)` directly and pass `transports={"registry": ASGITransport(...)}` to
chain a registry running in the same process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypedDict

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware

from ..core import settings as env
from ..core.app import CommonSettings, build_app
from ..core.auth import AuthSettings
from ..core.cache import TtlCache
from ..core.changes import ChangeSignal
from ..core.docs import docs_routes
from ..core.feed import FeedFollower
from ..core.hardening_docs import with_hardening, writes
from ..core.health import health_routes
from ..core.idempotency import IdempotencyMiddleware, MemoryKeys
from ..core.upstream import create_client, registry_auth
from .consumer_routes import ConsumerEndpoints
from .openapi import TITLE, document
from .registry_client import CHANGES_PATH, RegistryClient
from .routes import CacheKey, ConfigsEndpoints, Fetched, project_of, registry_ready

SERVICE = "configs"
DEFAULT_WRITE_ROLE = "configs:write"
DEFAULT_OVERRIDE_ROLE = "configs:override"
# an upper bound only: a cached set is dropped as soon as the registry's change feed names its
# project, and none is served while the feed is down or behind (`core.feed.FeedFollower.live`)
DEFAULT_CACHE_TTL = 30.0


class State(TypedDict):
    """What the lifespan opens; handlers read it from `request.state` (Starlette copies it into
    every request's scope).

    registry  the registry client (its HTTP connection pool closes on shutdown)
    feed      the follower of the registry's change feed, on that same client
    """

    registry: RegistryClient
    feed: FeedFollower


@dataclass(frozen=True)
class Settings:
    """Everything the configs service reads from its environment, parsed once at start-up.

    registry_url   base URL of the registry (`REGISTRY_URL` joined with `REGISTRY_PORT`)
    auth           token verification: the User Center's public key, the one accepted
                   algorithm, the optional issuer (`core.auth.AuthSettings`)
    write_role     role needed for POST/PUT/PATCH/DELETE (`CONFIGS_WRITE_ROLE`); "" lets any
                   valid token write, as the original does
    override_role  role that may force a write that breaks a registered consumer with
                   `X-Consumer-Override: <reason>` (`CONFIGS_OVERRIDE_ROLE`); "" disables it
    cache_ttl      seconds a resolved config set may be reused at most (`CONFIGS_CACHE_TTL`,
                   DEFAULT_CACHE_TTL); served only while the change feed is live; 0 turns
                   the cache off
    cache_max_entries  bound on cached config sets (oldest dropped first)
    common         DEBUG, ALLOWED_HOSTS, instance id, body limit, upstream timeouts
    """

    registry_url: str
    auth: AuthSettings
    write_role: str = DEFAULT_WRITE_ROLE
    override_role: str = DEFAULT_OVERRIDE_ROLE
    cache_ttl: float = DEFAULT_CACHE_TTL
    cache_max_entries: int = 10_000
    common: CommonSettings = field(default_factory=CommonSettings)
    registry_token: str = field(default="", repr=False)  # REGISTRY_API_TOKEN, sent when set

    @classmethod
    def from_env(cls, e: Mapping[str, str]) -> Settings:
        registry_url = env.join_url(
            env.required(e, "REGISTRY_URL"), env.optional(e, "REGISTRY_PORT") or None
        )
        if not registry_url.startswith(("http://", "https://")):
            raise env.ConfigError(
                f"REGISTRY_URL={e.get('REGISTRY_URL')!r} must start with http:// or https://"
            )
        return cls(
            registry_url=registry_url,
            auth=AuthSettings.from_env(e),
            write_role=env.optional(e, "CONFIGS_WRITE_ROLE", DEFAULT_WRITE_ROLE),
            override_role=env.optional(e, "CONFIGS_OVERRIDE_ROLE", DEFAULT_OVERRIDE_ROLE),
            cache_ttl=env.number(e, "CONFIGS_CACHE_TTL", DEFAULT_CACHE_TTL),
            common=CommonSettings.from_env(e, hosts_var="ALLOWED_HOSTS", sep=","),
            registry_token=env.optional(e, "REGISTRY_API_TOKEN") or "",
        )


def create_app(
    settings: Settings, *, transports: Mapping[str, httpx.AsyncBaseTransport] | None = None
) -> Starlette:
    """The configs service; the registry client opens in the lifespan and closes on shutdown.

    Raises `ConfigError` for an unusable key or algorithm, before anything is served.
    """
    transports = transports or {}
    verifier = settings.auth.verifier()
    cache: TtlCache[CacheKey, Fetched] = TtlCache(
        settings.cache_ttl, group=project_of, max_entries=settings.cache_max_entries
    )
    # "something changed for project P", from the registry's change feed: wakes blocking
    # reads and drops cached sets, whichever instance made the change
    signal = ChangeSignal()
    signal.add_listener(cache.forget)
    endpoints = ConfigsEndpoints(
        verifier=verifier,
        cache=cache,
        write_role=settings.write_role,
        override_role=settings.override_role,
        signal=signal,
    )
    metrics = settings.common.metrics()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        http = create_client(
            settings.registry_url,
            connect_timeout=settings.common.connect_timeout,
            timeout=settings.common.timeout,
            transport=transports.get("registry"),
            headers=registry_auth(settings.registry_token),
            upstream="registry",
            metrics=metrics,
        )
        async with http:
            # the first answer after a start or an outage drops every cached set: changes may
            # have gone unheard meanwhile
            feed = FeedFollower(
                http,
                CHANGES_PATH,
                signal,
                timeout=settings.common.timeout,
                on_resume=cache.clear,
            )
            # a cached set is served only while the feed would have told us of any change to
            # it; otherwise every read asks the registry
            cache.trust_while(lambda: feed.live)
            if cache.enabled:  # cached sets are dropped through the feed: follow it now
                await feed.start(ready_timeout=settings.common.connect_timeout)
            try:
                yield {"registry": RegistryClient(http), "feed": feed}
            finally:
                await feed.stop()

    routes = [
        *ConsumerEndpoints(endpoints).routes(),  # before `/configs/{types}`, which they match
        *endpoints.routes(),
        *docs_routes(
            with_hardening(document, idempotent=writes),
            title=TITLE,
            ui_path="/docs",
            schema_path="/docs/schema",
            examples=settings.common.docs_examples(),
        ),
        *health_routes({"registry": registry_ready}),
    ]
    app = build_app(
        service=SERVICE,
        routes=routes,
        common=settings.common,
        lifespan=lifespan,
        language="ru",
        inner=[Middleware(IdempotencyMiddleware, store=MemoryKeys(), credentials_required=True)],
        metrics=metrics,
    )
    return app
