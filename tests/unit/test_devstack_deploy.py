"""`deploy/`: the seed's env files, one image, entrypoints like the seed's, a healthy compose."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).parents[2] / "deploy"

# The tables of sections 4, 5 and 6 of the deployment guide: names and example values.
SEED_ENV = {
    "registry": {
        "SECRET_KEY": "some_key",
        "DEBUG": "True",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DB_NAME": "configs",
        "DB_USER": "configs_user",
        "DB_PASSWORD": "some_password",
        "DB_HOST": "10.0.1.16",
        "DB_PORT": "5432",
    },
    "configs": {
        "SECRET_KEY": "some_key",
        "DEBUG": "True",
        "ALLOWED_HOSTS": "127.0.0.1,cfg.step.skroy.ru",
        "REGISTRY_URL": "http://127.0.0.1",
        "REGISTRY_PORT": "8002",
        "ACCESS_TOKEN_PUBLIC_KEY": "public_key",
        "JWT_ALGORITHM": "RS256",
    },
    "step": {
        "SECRET_KEY": "some_key",
        "DEBUG": "1",
        "DJANGO_ALLOWED_HOSTS": "api.step.skroy.ru 127.0.0.1 step.skroy.ru",
        "DJANGO_CORS_ALLOWED_ORIGINS": "http://127.0.0.1 https://step.skroy.ru",
        "BASE_URL": "https://api.beta.raida-dev.ru",
        "USER_RAIDA": "raida@raida.com",
        "PASSWD_RAIDA": "raida",
        "ACCESS_TOKEN_PUBLIC_KEY": "public_key",
        "JWT_ALGORITHM": "RS256",
        "CONFIGS_SERVICE_URL": "https://cfg.step.skroy.ru/",
        "LANGUAGE_CODE": "ru",
        "TIME_ZONE": "Europe/Moscow",
    },
}

SEED_PORTS = {"registry": 8002, "configs": 8001, "step": 8080}


def read_env(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("service", sorted(SEED_ENV))
def test_env_examples_have_exactly_the_seeds_names_and_examples(service: str) -> None:
    assert read_env(DEPLOY / "env" / f"{service}.env.example") == SEED_ENV[service]


@pytest.mark.parametrize(("service", "port"), sorted(SEED_PORTS.items()))
def test_entrypoints_run_two_workers_on_the_seeds_port(service: str, port: int) -> None:
    script = DEPLOY / "entrypoints" / f"{service}.sh"
    text = script.read_text(encoding="utf-8")
    assert os.access(script, os.X_OK)
    assert f"--port {port} --workers 2 --factory step_platform.asgi:{service}" in text


def test_the_registry_migrates_before_it_serves() -> None:
    text = (DEPLOY / "entrypoints" / "registry.sh").read_text(encoding="utf-8")
    assert text.index("step-platform migrate") < text.index("exec uvicorn")


def test_compose_runs_the_whole_stack() -> None:
    services = compose()["services"]
    assert set(services) >= {
        "postgres", "registry", "configs", "step", "raida-mock", "user-center-mock", "nginx",
    }  # fmt: skip


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, service in compose()["services"].items():
        if service.get("restart") != "no":
            assert "test" in service.get("healthcheck", {}), name


def test_the_services_read_the_seeds_env_files() -> None:
    services = compose()["services"]
    for name in SEED_ENV:
        assert services[name]["env_file"] == [f"env/{name}.env.example"]


def test_every_service_image_is_the_one_dockerfile() -> None:
    for name, service in compose()["services"].items():
        if name not in ("postgres", "nginx"):
            assert service["build"]["dockerfile"] == "deploy/Dockerfile", name
            assert (DEPLOY / "entrypoints").is_dir()


def test_compose_entrypoints_exist() -> None:
    for name, service in compose()["services"].items():
        entry = service.get("entrypoint")
        if isinstance(entry, list) and entry[0].startswith("/entrypoints/"):
            assert (DEPLOY / entry[0].lstrip("/")).is_file(), name


def test_nginx_mounts_the_rendered_server_blocks() -> None:
    nginx = compose()["services"]["nginx"]
    assert "./nginx/templates:/etc/nginx/templates:ro" in nginx["volumes"]
    assert nginx["ports"] == ["127.0.0.1:${NGINX_HOST_PORT:-8000}:8000"]


def test_compose_sets_one_registry_token_for_the_registry_and_its_callers() -> None:
    services = compose()["services"]
    tokens = {
        services[name]["environment"]["REGISTRY_API_TOKEN"]
        for name in ("registry", "configs", "configs-load")
    }
    assert len(tokens) == 1 and tokens.pop()
