"""`make images`: the chain's three images, built with or without an image registry.

- `step-platform:latest` (deploy/Dockerfile): every service of the chain, from
  `python:3.11-slim`;
- `step-platform-postgres:15` (deploy/postgres/Dockerfile), from `debian:bookworm-slim`;
- `step-platform-nginx:latest` (deploy/nginx/Dockerfile), from `debian:bookworm-slim`.

A public base that is present or can be pulled is used unchanged. Where no image registry
answers, a Debian base is made here instead, once: `debootstrap --variant=minbase bookworm`
from the mirror apt already uses, imported as `step-platform-debian:bookworm`, and the
Dockerfiles install Debian's python3.11, postgresql-15 and nginx-light on it. pip inside the
build trusts the host's CA bundle (copied to deploy/ca/). Docker's layer cache makes a second
build with nothing changed take seconds. The chosen bases are also written to `deploy/.env`,
so `docker compose ... up --build` on this machine builds from the same bases.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
LOCAL_BASE = "step-platform-debian:bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
HOST_CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")


class ImageBuildError(RuntimeError):
    """An image could not be built; the message ends with the build's last lines."""


@dataclass(frozen=True)
class Image:
    name: str
    dockerfile: Path
    context: Path
    public_base: str
    base_env: str  # the deploy/.env variable compose passes as BASE_IMAGE


SERVICE = Image(
    "step-platform:latest", DEPLOY / "Dockerfile", ROOT, "python:3.11-slim", "STEP_PYTHON_IMAGE"
)
POSTGRES = Image(
    "step-platform-postgres:15",
    DEPLOY / "postgres" / "Dockerfile",
    DEPLOY / "postgres",
    "debian:bookworm-slim",
    "STEP_DEBIAN_IMAGE",
)
NGINX = Image(
    "step-platform-nginx:latest",
    DEPLOY / "nginx" / "Dockerfile",
    DEPLOY / "nginx",
    "debian:bookworm-slim",
    "STEP_DEBIAN_IMAGE",
)
IMAGES = (SERVICE, POSTGRES, NGINX)


def docker(*args: str, timeout: float = 120.0, check: bool = True) -> str:
    """Run the docker CLI; its stdout, or `ImageBuildError` with its last lines."""
    try:
        result = subprocess.run(
            ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise ImageBuildError("the docker CLI is not installed (scripts/ensure-docker)") from None
    except subprocess.TimeoutExpired:
        raise ImageBuildError(f"`docker {' '.join(args)}` took over {timeout:.0f} s") from None
    if check and result.returncode != 0:
        raise ImageBuildError(
            f"`docker {' '.join(args[:2])}` failed: " + _tail(result.stderr or result.stdout)
        )
    return result.stdout


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def image_exists(name: str) -> bool:
    try:
        docker("image", "inspect", "--format", "{{.Id}}", name, timeout=30)
    except ImageBuildError:
        return False
    return True


def pullable(name: str) -> bool:
    """Present, or pulled now. No registry answers: False (the answer comes within seconds)."""
    if image_exists(name):
        return True
    try:
        docker("pull", "-q", name, timeout=120)
    except ImageBuildError:
        return False
    return True


def apt_mirror(sources: Sequence[Path] | None = None) -> str:
    """The Debian mirror apt already uses here (deb822 `URIs:` or one-line `deb` entries):
    the first address whose path ends in `/debian`."""
    if sources is None:
        sources = [
            Path("/etc/apt/sources.list"),
            *sorted(Path("/etc/apt/sources.list.d").glob("*")),
        ]
    for path in sources:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            match = re.match(r"\s*(?:URIs:|deb(?:\s+\[[^\]]*\])?)\s+(\S+)", line)
            # Debian's own archive (not -security, not a vendor's repository)
            if match and re.search(r"/debian/?$", match.group(1)):
                return match.group(1).rstrip("/")
    return DEFAULT_MIRROR


def build_local_base(mirror: str | None = None, log: Callable[[str], object] = print) -> None:
    """`step-platform-debian:bookworm` from Debian's packages: debootstrap, then import."""
    if shutil.which("debootstrap") is None:
        raise ImageBuildError(
            "no image registry answers and debootstrap is missing: "
            "'apt-get install debootstrap' (scripts/ensure-docker does it as root)"
        )
    mirror = mirror or apt_mirror()
    work = tempfile.mkdtemp(prefix="step-debootstrap-")
    rootfs = os.path.join(work, "rootfs")
    log(f"images: no image registry answers: building {LOCAL_BASE} with debootstrap ({mirror})")
    try:
        result = subprocess.run(
            ["debootstrap", "--variant=minbase", "bookworm", rootfs, mirror],
            capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise ImageBuildError("debootstrap failed: " + _tail(result.stdout + result.stderr))
        _trim_rootfs(Path(rootfs))
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            ["docker", "import", "-c", "ENV LANG=C.UTF-8", "-c", 'CMD ["bash"]', "-",
             LOCAL_BASE],
            stdin=tar.stdout, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        tar.wait()
        if imported.returncode != 0:
            raise ImageBuildError("docker import failed: " + _tail(imported.stderr))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _trim_rootfs(rootfs: Path) -> None:
    """No package cache in the image, and no service starts during package installs."""
    for cached in (rootfs / "var/cache/apt/archives").glob("*.deb"):
        cached.unlink()
    shutil.rmtree(rootfs / "var/lib/apt/lists", ignore_errors=True)
    (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)
    policy = rootfs / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\n# no service starts inside image builds\nexit 101\n")
    policy.chmod(0o755)


def choose_bases(log: Callable[[str], object] = print) -> dict[str, str]:
    """{deploy/.env variable: base image}: the public one where possible, else the local one."""
    bases: dict[str, str] = {}
    need_local = False
    for image in IMAGES:
        if image.base_env in bases:
            continue
        if pullable(image.public_base):
            bases[image.base_env] = image.public_base
        else:
            bases[image.base_env] = LOCAL_BASE
            need_local = True
    if need_local and not image_exists(LOCAL_BASE):
        build_local_base(log=log)
    return bases


def host_ca_bundle(env: Mapping[str, str]) -> Path | None:
    for candidate in (env.get("PIP_CERT"), env.get("REQUESTS_CA_BUNDLE"), *HOST_CA_BUNDLES):
        if candidate and os.path.isfile(candidate):
            return Path(candidate)
    return None


def stage_ca(env: Mapping[str, str]) -> None:
    """Copy the host's CA bundle into the build context (rewritten only when it changed)."""
    target = DEPLOY / "ca" / "host-ca.crt"
    source = host_ca_bundle(env)
    data = source.read_bytes() if source else b""
    if not target.exists() or target.read_bytes() != data:
        target.write_bytes(data)


def write_compose_env(bases: Mapping[str, str]) -> None:
    """deploy/.env: compose reads it, so `up --build` uses the same bases as `make images`."""
    lines = ["# Written by `make images`: the base images this machine can build from.\n"]
    lines += [f"{name}={value}\n" for name, value in sorted(bases.items())]
    (DEPLOY / ".env").write_text("".join(lines))


def build(image: Image, base: str, log: Callable[[str], object] = print) -> float:
    started = time.monotonic()
    docker(
        "build", "-q", "--force-rm", "-f", str(image.dockerfile),
        "--build-arg", f"BASE_IMAGE={base}",
        "-t", image.name, str(image.context),
        timeout=1200,
    )  # fmt: skip
    took = time.monotonic() - started
    log(f"images: {image.name} ready ({took:.1f}s, base {base})")
    return took


def ensure_images(
    env: Mapping[str, str] | None = None, log: Callable[[str], object] = print
) -> dict[str, str]:
    """Build (or refresh from the cache) every image; returns the bases used."""
    env = os.environ if env is None else env
    bases = choose_bases(log=log)
    stage_ca(env)
    write_compose_env(bases)
    for image in IMAGES:
        build(image, bases[image.base_env], log=log)
    # the images these builds replaced (untagged now): ours only, by their label
    docker("image", "prune", "-f", "--filter", "label=org.step-platform.image", check=False)
    return bases


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="step-platform images", description=__doc__)
    parser.parse_args(argv)
    try:
        ensure_images()
    except ImageBuildError as exc:
        print(f"images: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
