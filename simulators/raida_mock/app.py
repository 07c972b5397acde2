"""raida-mock: a stateful simulator of the Raida task tracker (`step-platform serve raida-mock`).

Settings (environment):

| variable | default | meaning |
|---|---|---|
| `USER_RAIDA` / `PASSWD_RAIDA` | `raida@raida.com` / `raida` | accepted credentials |
| `RAIDA_TOKEN_TTL` | `3600` | token lifetime, seconds |
| `RAIDA_SEED_FILE` | packaged seed | fixture loaded at start and by `/__admin/reset` |
| `RAIDA_STATE_FILE` | none (memory only) | persist the state there (files in `<file>.files/`) |
| `RAIDA_PUBLIC_URL` | none (relative urls) | base prefixed to attachment urls |
| `RAIDA_MISSING_TASK` | `404` | `404`, or `null` for `200 {"data": null}` on an unknown task |
| `RAIDA_JOURNAL_SIZE` | `10000` | journal entries kept |
| `RAIDA_MAX_BODY_BYTES` | 64 MiB | request body limit (uploads) |
| `ALLOWED_HOSTS`, `DEBUG`, `INSTANCE_ID` | `*`, off, host-pid | as for every service |

The seed and state files are read by `create_app`, not in the lifespan, so that a bad file
stops `serve` with one line naming it instead of a failed-startup traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request

from step_platform.core import settings as env
from step_platform.core.app import CommonSettings, build_app
from step_platform.core.docs import docs_routes
from step_platform.core.health import health_routes
from step_platform.core.middleware import instance_id_from

from . import admin, api
from .openapi import openapi
from .simulator import Simulator
from .traffic import TrafficMiddleware

SERVICE = "raida-mock"
MAX_BODY = 64 * 1024 * 1024


def _common() -> CommonSettings:
    return CommonSettings(max_body_bytes=MAX_BODY)


@dataclass(frozen=True)
class Settings:
    username: str = "raida@raida.com"
    password: str = "raida"
    token_ttl: float = 3600.0
    seed_file: Path | None = None
    state_file: Path | None = None
    public_url: str = ""
    missing_task: str = "404"
    journal_size: int = 10000
    common: CommonSettings = field(default_factory=_common)

    @classmethod
    def from_env(cls, e: env.Env) -> Settings:
        missing = env.optional(e, "RAIDA_MISSING_TASK", "404") or "404"
        if missing not in ("404", "null"):
            raise env.ConfigError(f"RAIDA_MISSING_TASK={missing!r} must be 404 or null")
        seed = env.optional(e, "RAIDA_SEED_FILE")
        state = env.optional(e, "RAIDA_STATE_FILE")
        if seed and not Path(seed).is_file():
            raise env.ConfigError(f"RAIDA_SEED_FILE={seed!r}: no such file")
        ttl = env.number(e, "RAIDA_TOKEN_TTL", 3600.0)
        if ttl <= 0:
            raise env.ConfigError("RAIDA_TOKEN_TTL must be a number > 0")
        return cls(
            username=env.optional(e, "USER_RAIDA", "raida@raida.com") or "raida@raida.com",
            password=env.optional(e, "PASSWD_RAIDA", "raida") or "raida",
            token_ttl=ttl,
            seed_file=Path(seed) if seed else None,
            state_file=Path(state) if state else None,
            public_url=env.optional(e, "RAIDA_PUBLIC_URL"),
            missing_task=missing,
            journal_size=env.integer(e, "RAIDA_JOURNAL_SIZE", 10000, minimum=1),
            common=CommonSettings(
                debug=env.boolean(e, "DEBUG"),
                allowed_hosts=env.word_list(e, "ALLOWED_HOSTS", sep=",", default=("*",)),
                instance_id=instance_id_from(e),
                max_body_bytes=env.integer(e, "RAIDA_MAX_BODY_BYTES", MAX_BODY, minimum=1),
            ),
        )


def create_app(settings: Settings) -> Starlette:
    simulator = Simulator.open(
        seed_file=settings.seed_file,
        state_file=settings.state_file,
        public_url=settings.public_url,
        journal_size=settings.journal_size,
    )

    async def store_loaded(request: Request) -> None:
        if not simulator.store.nodes:
            raise RuntimeError("no nodes loaded")

    routes = [
        *api.routes(),
        *admin.routes(),
        *health_routes({"store": store_loaded}),
        *docs_routes(openapi, title="raida-mock", ui_path="/docs", schema_path="/docs/schema"),
    ]
    app = build_app(service=SERVICE, routes=routes, common=settings.common)
    app.add_exception_handler(api.RaidaError, api.on_raida_error)
    app.add_exception_handler(HTTPException, api.on_http_exception)
    # Added last, so it runs first: it must see requests as sent and be able to drop them.
    app.add_middleware(TrafficMiddleware, journal=simulator.journal, faults=simulator.faults)
    app.state.settings = settings
    app.state.simulator = simulator
    return app
