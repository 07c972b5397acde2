"""ASGI factories for running the services under uvicorn or gunicorn directly.

    uvicorn --factory step_platform.asgi:registry --port 8002
    gunicorn -k uvicorn_worker.UvicornWorker -w 2 -b 0.0.0.0:8002 'step_platform.asgi:registry()'

Each reads its settings from the environment (the seed's names) when the server calls it, not
at import time.
"""

from __future__ import annotations

import importlib
import os

from starlette.applications import Starlette

from .cli import SERVICES
from .core.logs import configure_logging


def _build(name: str) -> Starlette:
    module = importlib.import_module(SERVICES[name].module)
    settings = module.Settings.from_env(dict(os.environ))
    configure_logging(getattr(settings, "debug", False))
    return module.create_app(settings)


def registry() -> Starlette:
    return _build("registry")


def configs() -> Starlette:
    return _build("configs")


def step() -> Starlette:
    return _build("step")


def raida_mock() -> Starlette:
    return _build("raida-mock")


def user_center_mock() -> Starlette:
    return _build("user-center-mock")
