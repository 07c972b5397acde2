"""Assembling a service: the same middleware stack and error handling for every one.

A service module provides its routes, lifespan and settings; `build_app` wraps them so that
request ids, access logs, host checks, body limits, path normalisation and the error envelope
behave identically across the registry, the configs service and step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute
from starlette.types import Lifespan

from . import settings as env
from .errors import install_error_handlers
from .ids import canonical_uuid
from .metrics import Metrics, MetricsMiddleware, metrics_route
from .middleware import (
    AllowedHostsMiddleware,
    BodyLimitMiddleware,
    HeaderLimitMiddleware,
    PathNormalizeMiddleware,
    RequestContextMiddleware,
    instance_id_from,
)

DEFAULT_MAX_BODY = 10 * 1024 * 1024


@dataclass(frozen=True)
class CommonSettings:
    """What every service reads: DEBUG, allowed hosts, instance id, body limit, timeouts."""

    debug: bool = False
    allowed_hosts: tuple[str, ...] = ("*",)
    instance_id: str = "local"
    max_body_bytes: int = DEFAULT_MAX_BODY
    connect_timeout: float = 2.0
    timeout: float = 10.0
    # Swagger UI's "Try it out" pre-fills this Project-ID (the demo sets its project)
    docs_project_id: str | None = None
    # where worker processes of one host pool their metrics; empty: one process (see metrics.py)
    metrics_multiprocess_dir: str = ""

    @classmethod
    def from_env(
        cls, e: env.Env, *, hosts_var: str, sep: str | None, max_body_var: str | None = None
    ) -> CommonSettings:
        hosts = env.word_list(e, hosts_var, sep=sep)
        if not hosts:
            raise env.ConfigError(f"{hosts_var} is not set: it is required")
        return cls(
            debug=env.boolean(e, "DEBUG"),
            allowed_hosts=hosts,
            instance_id=instance_id_from(e),
            max_body_bytes=env.integer(e, max_body_var, DEFAULT_MAX_BODY, minimum=1)
            if max_body_var
            else DEFAULT_MAX_BODY,
            connect_timeout=env.number(e, "UPSTREAM_CONNECT_TIMEOUT", 2.0),
            timeout=env.number(e, "UPSTREAM_TIMEOUT", 10.0),
            docs_project_id=docs_project_id(e),
            metrics_multiprocess_dir=env.optional(e, "PROMETHEUS_MULTIPROC_DIR"),
        )

    def docs_examples(self) -> dict[str, str]:
        """Header examples for the OpenAPI document (what Swagger UI pre-fills)."""
        return {"Project-ID": self.docs_project_id} if self.docs_project_id else {}

    def metrics(self) -> Metrics:
        """A fresh set of metric families for one app."""
        return Metrics(self.metrics_multiprocess_dir)


def docs_project_id(e: env.Env) -> str | None:
    value = env.optional(e, "DOCS_PROJECT_ID")
    if not value:
        return None
    canonical = canonical_uuid(value)
    if canonical is None:
        raise env.ConfigError(f"DOCS_PROJECT_ID={value!r} is not a UUID")
    return canonical


@dataclass(frozen=True)
class Cors:
    origins: tuple[str, ...]
    headers: tuple[str, ...] = (
        "Authorization",
        "Content-Type",
        "Project-ID",
        "Account-ID",
        "X-Request-ID",
    )
    methods: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def build_app(
    *,
    service: str,
    routes: Sequence[BaseRoute],
    common: CommonSettings,
    lifespan: Lifespan[Any] | None = None,
    language: str = "en",
    cors: Cors | None = None,
    inner: Sequence[Middleware] = (),
    metrics: Metrics | None = None,
) -> Starlette:
    """`inner` middleware runs last, just before the routes (e.g. idempotency keys).
    `metrics`: the app's metric families when the service also feeds them elsewhere (its
    upstream clients, its pool); else a fresh set."""
    metrics = metrics or common.metrics()
    routes = [*routes, metrics_route(metrics)]
    middleware = [
        Middleware(MetricsMiddleware, metrics=metrics, routes=routes),
        Middleware(
            RequestContextMiddleware,
            service=service,
            instance_id=common.instance_id,
            language=language,
        ),
    ]
    if cors is not None:
        # First in the chain (after the request context) so that every answer, errors and
        # host rejections included, carries the CORS headers.
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(cors.origins),
                allow_methods=list(cors.methods),
                allow_headers=list(cors.headers),
                allow_credentials=True,
                expose_headers=["X-Request-ID"],
            )
        )
    middleware += [
        Middleware(HeaderLimitMiddleware, language=language),
        Middleware(AllowedHostsMiddleware, allowed=common.allowed_hosts, language=language),
        Middleware(BodyLimitMiddleware, max_bytes=common.max_body_bytes, language=language),
        Middleware(PathNormalizeMiddleware),
        *inner,
    ]
    app = Starlette(debug=False, routes=list(routes), middleware=middleware, lifespan=lifespan)
    app.router.redirect_slashes = False
    install_error_handlers(app, language)
    app.state.service = service
    app.state.metrics = metrics
    return app
