"""ASGI factories for running the services under a process manager with several workers.

The seed runs each service as `gunicorn -b 0.0.0.0:PORT --workers 2 <project>.wsgi`; our
containers run `uvicorn --factory step_platform.devstack.asgi:<service> --workers 2`, where
each worker builds its app from the environment (the seed's variable names) here.

One addition for containers: when `ACCESS_TOKEN_PUBLIC_KEY` is empty and
`ACCESS_TOKEN_PUBLIC_KEY_URL` is set, the PEM is fetched from that URL at start-up (the
user-center-mock's `/public-key.pem` in `deploy/docker-compose.yml`), so the simulator's
generated key needs no copying. A bad setting ends the worker with one line, no traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
import time

from starlette.applications import Starlette

from ..core.settings import ConfigError

MODULES = {
    "registry": "step_platform.registry.app",
    "configs": "step_platform.configs.app",
    "step": "step_platform.contests.app",
    "raida_mock": "raida_mock.app",
    "user_center_mock": "user_center_mock.app",
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


def build(service: str) -> Starlette:
    env = dict(os.environ)
    try:
        if not env.get("ACCESS_TOKEN_PUBLIC_KEY", "").strip() and env.get(
            "ACCESS_TOKEN_PUBLIC_KEY_URL"
        ):
            env["ACCESS_TOKEN_PUBLIC_KEY"] = fetch_public_key(env["ACCESS_TOKEN_PUBLIC_KEY_URL"])
        module = importlib.import_module(MODULES[service])
        settings = module.Settings.from_env(env)
        app = module.create_app(settings)
    except ConfigError as exc:
        print(f"{service}: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    from ..core.logs import configure_logging

    configure_logging(getattr(settings, "debug", False))
    return app


def registry() -> Starlette:
    return build("registry")


def configs() -> Starlette:
    return build("configs")


def step() -> Starlette:
    return build("step")


def raida_mock() -> Starlette:
    return build("raida_mock")


def user_center_mock() -> Starlette:
    return build("user_center_mock")
