"""ASGI factories for running the services under uvicorn (or gunicorn) with worker processes.

The seed runs each service as `gunicorn -b 0.0.0.0:PORT --workers 2 <project>.wsgi`; ours:

    uvicorn --factory step_platform.asgi:registry --host 0.0.0.0 --port 8002 --workers 2

Each worker builds its app from the environment (the seed's variable names) when the server
calls the factory, not at import time. A bad setting ends the worker with one line.

One addition for containers: when `ACCESS_TOKEN_PUBLIC_KEY` is empty and
`ACCESS_TOKEN_PUBLIC_KEY_URL` is set, the PEM is fetched from that URL at start-up (the
user-center-mock's `/public-key.pem` in `deploy/docker-compose.yml`), so the simulator's
generated key needs no copying.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.applications import Starlette

from .core.logs import configure_logging
from .core.settings import ConfigError


@dataclass(frozen=True)
class ServiceEntry:
    module: str
    port: int


SERVICES: dict[str, ServiceEntry] = {
    "registry": ServiceEntry("step_platform.registry.app", 8002),
    "configs": ServiceEntry("step_platform.configs.app", 8001),
    "step": ServiceEntry("step_platform.contests.app", 8080),
    "raida-mock": ServiceEntry("raida_mock.app", 8090),
    "user-center-mock": ServiceEntry("user_center_mock.app", 8091),
}


def fetch_public_key(url: str, attempts: int = 30) -> str:
    import httpx

    last = ""
    for _ in range(attempts):
        try:
            response = httpx.get(url, timeout=3.0, trust_env=False)
            if response.status_code == 200 and "-----BEGIN" in response.text:
                return response.text
            last = f"status {response.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(1.0)
    raise ConfigError(f"ACCESS_TOKEN_PUBLIC_KEY_URL={url!r} gave no PEM key ({last})")


def app_from_env(service: str, env: Mapping[str, str]) -> Starlette:
    """Settings read once from `env`, logging configured, the app built; `ConfigError` when a
    setting is missing or wrong (the one place `serve` and the factories below build apps)."""
    env = dict(env)
    key_url = env.get("ACCESS_TOKEN_PUBLIC_KEY_URL")
    if key_url and not env.get("ACCESS_TOKEN_PUBLIC_KEY", "").strip():
        env["ACCESS_TOKEN_PUBLIC_KEY"] = fetch_public_key(key_url)
    module = importlib.import_module(SERVICES[service].module)
    settings = module.Settings.from_env(env)
    app: Starlette = module.create_app(settings)
    configure_logging(settings.common.debug)
    # What is built by now (modules, the app, its schemas) lives as long as the process: kept out
    # of the cyclic collector, a full collection no longer walks it. Reads that parse a few
    # hundred KB of Raida JSON set one off every few requests, each pausing the worker for
    # several ms (docs/benchmarks.md, "Step reads against their floor").
    gc.freeze()
    return app


def build(service: str) -> Starlette:
    try:
        return app_from_env(service, os.environ)
    except ConfigError as exc:
        print(f"{service}: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def registry() -> Starlette:
    return build("registry")


def configs() -> Starlette:
    return build("configs")


def step() -> Starlette:
    return build("step")


def raida_mock() -> Starlette:
    return build("raida-mock")


def user_center_mock() -> Starlette:
    return build("user-center-mock")
