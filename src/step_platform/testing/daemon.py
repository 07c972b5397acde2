"""The Docker daemon as the kit sees it: is one there, are the images there, did it go away.

testcontainers talks to the daemon through docker-py; when the daemon disappears mid-run,
docker-py raises connection errors of several kinds (or waits for its own long timeout).
`daemon_calls(what)` turns all of them into one `DockerGone` that names the daemon and what
was being done, so a run ends with one clear line instead of a traceback or a hang.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

from step_platform.devstack.postgres import docker_available

SERVICE_IMAGE = "step-platform:latest"
POSTGRES_IMAGE = "step-platform-postgres:15"
NGINX_IMAGE = "step-platform-nginx:latest"
IMAGES = (SERVICE_IMAGE, POSTGRES_IMAGE, NGINX_IMAGE)

# seconds docker-py waits for one answer of the daemon (its own default is 60)
DAEMON_TIMEOUT = 20


class DockerUnavailable(RuntimeError):
    """No Docker daemon answers, or an image is missing; the message says what to do."""


class DockerGone(DockerUnavailable):
    """The daemon stopped answering while the kit was using it."""


class ContainerStartError(RuntimeError):
    """A container exited or did not become ready; the message ends with its last log lines."""


def docker_host(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def is_local_daemon(env: Mapping[str, str] | None = None) -> bool:
    """A daemon on this machine: ports can be published on 127.0.0.1 only."""
    return docker_host(env).startswith("unix://")


def require_daemon(env: Mapping[str, str] | None = None) -> None:
    env = os.environ if env is None else env
    if not docker_available(env):
        raise DockerUnavailable(
            f"no Docker daemon answers at {docker_host(env)}: start one "
            "(in the step-platform repository: scripts/ensure-docker start)"
        )


@contextlib.contextmanager
def daemon_calls(what: str) -> Iterator[None]:
    """Any failure to reach the daemon inside the block becomes one `DockerGone`."""
    import docker.errors
    import requests.exceptions

    try:
        yield
    except docker.errors.APIError:
        raise  # the daemon answered (with an error): not gone
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout, OSError) as exc:
        raise DockerGone(
            f"the Docker daemon at {docker_host()} stopped answering while {what}: "
            f"{type(exc).__name__}"
        ) from exc
    except docker.errors.DockerException as exc:
        raise DockerGone(
            f"the Docker daemon at {docker_host()} stopped answering while {what}: {exc}"
        ) from exc


def configure_testcontainers() -> None:
    """Ryuk (testcontainers' reaper) needs its image from a registry: without it locally, the
    kit removes its containers itself. TESTCONTAINERS_RYUK_DISABLED set by the user wins."""
    from testcontainers.core.config import testcontainers_config as config

    if "TESTCONTAINERS_RYUK_DISABLED" in os.environ:
        return
    config.ryuk_disabled = not image_present(config.ryuk_image)


def client() -> Any:  # a docker.DockerClient; the docker package has no type information
    import docker

    return docker.from_env(timeout=DAEMON_TIMEOUT)


def image_present(name: str) -> bool:
    import docker.errors

    with daemon_calls(f"looking for image {name}"), contextlib.closing(client()) as docker_:
        try:
            docker_.images.get(name)
        except docker.errors.ImageNotFound:
            return False
    return True


def require_images(names: tuple[str, ...] = IMAGES) -> None:
    """The chain's images exist, or they are built now from this checkout's `deploy/`
    (`make images`); installed from a wheel, the kit says how to get them instead."""
    require_daemon()
    missing = [name for name in names if not image_present(name)]
    if not missing:
        return
    from step_platform.devstack import images

    if not images.SERVICE.dockerfile.exists():
        raise DockerUnavailable(
            f"images {', '.join(missing)} are missing: build them with `make images` in the "
            "step-platform repository (or load them from your registry)"
        )
    try:
        images.ensure_images()
    except images.ImageBuildError as exc:
        raise DockerUnavailable(f"building the images failed: {exc}") from exc
