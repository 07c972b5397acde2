"""The Postgres provider chain: the first provider that works wins.

1. an explicit database (`STEP_DATABASE_URL`, or `DB_HOST` and friends);
2. testcontainers' Postgres module, only when a Docker daemon answers (probed directly);
3. `initdb`/`pg_ctl` on PATH or under `/usr/lib/postgresql/*/bin`, in a temp dir on a free
   port (run as the `postgres` user when we are root: initdb refuses root);
4. the `pgserver` wheel (Postgres binaries installed by pip; the `pgserver` extra, part of
   `.[test]`), the embedded default.

Tests and `make demo` both use it, so CI and a developer's laptop start the same way.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from .ports import free_ports
from .waiting import NotYet, wait_until

log = logging.getLogger("step_platform.devstack")


class ProviderError(RuntimeError):
    """No provider could start Postgres; the message says what each one said."""


@dataclass
class PostgresServer:
    provider: str
    host: str  # a TCP host or a Unix socket directory
    port: int
    user: str
    password: str = ""
    admin_db: str = "postgres"
    stop: Callable[[], None] = field(default=lambda: None, repr=False)

    def url(self, database: str | None = None) -> str:
        db = database or self.admin_db
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        if self.host.startswith("/"):
            return f"postgresql://{auth}@/{db}?host={quote(self.host, safe='')}&port={self.port}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{db}"

    def env(self, database: str) -> dict[str, str]:
        """The registry's seed variables for this server."""
        return {
            "DB_NAME": database,
            "DB_USER": self.user,
            "DB_PASSWORD": self.password,
            "DB_HOST": self.host,
            "DB_PORT": str(self.port),
        }

    def _admin(self, sql: str) -> None:
        import asyncio

        import asyncpg

        async def run() -> None:
            conn = await asyncpg.connect(self.url())
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        asyncio.run(run())

    def create_database(self, name: str | None = None) -> str:
        name = name or f"step_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- 1. explicit -----------------------------------------------------------------------------


def from_url(url: str) -> PostgresServer:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or "127.0.0.1"])[0]
    port = int(query.get("port", [parts.port or 5432])[0])
    return PostgresServer(
        provider="explicit",
        host=unquote(host),
        port=port,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
        admin_db=(parts.path or "/postgres").lstrip("/") or "postgres",
    )


def explicit(env: Mapping[str, str]) -> PostgresServer | None:
    if env.get("STEP_DATABASE_URL"):
        return from_url(env["STEP_DATABASE_URL"])
    if env.get("DB_HOST"):
        return PostgresServer(
            provider="explicit",
            host=env["DB_HOST"],
            port=int(env.get("DB_PORT") or 5432),
            user=env.get("DB_USER") or "postgres",
            password=env.get("DB_PASSWORD", ""),
            admin_db=env.get("DB_ADMIN_NAME") or "postgres",
        )
    return None


# --- 2. testcontainers -------------------------------------------------------------------------


def docker_available(env: Mapping[str, str]) -> bool:
    """True only when a Docker daemon answers `/_ping` (a client binary alone is not enough)."""
    docker_host = env.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        if docker_host.startswith("unix://"):
            path = docker_host[len("unix://") :]
            if not os.path.exists(path):
                return False
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(1.0)
            sock.connect(path)
        elif docker_host.startswith("tcp://"):
            hostport = docker_host[len("tcp://") :].split("/", 1)[0]
            host, _, port = hostport.rpartition(":")
            sock = socket.create_connection((host, int(port)), timeout=1.0)
        else:
            return False
        with sock:
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            answer = sock.recv(1024)
        return answer.startswith(b"HTTP/") and b" 200 " in answer.split(b"\r\n", 1)[0] + b" "
    except OSError:
        return False


def testcontainers_provider(env: Mapping[str, str]) -> PostgresServer | None:
    """testcontainers' PostgresContainer on `STEP_POSTGRES_IMAGE`, by default the
    `step-platform-postgres:15` image `make images` builds from Debian's packages (no image
    registry needed; it takes the official image's variables). Only when that image is there:
    the demo does not wait for an image build."""
    if not docker_available(env):
        return None
    from testcontainers.community.postgres import PostgresContainer

    from step_platform.testing.daemon import configure_testcontainers, image_present

    image = env.get("STEP_POSTGRES_IMAGE") or "step-platform-postgres:15"
    if not image_present(image):  # building it would take minutes: the next provider, fast
        raise ProviderError(f"image {image} is missing (`make images` builds it)")
    configure_testcontainers()
    container = PostgresContainer(image, username="postgres", password="postgres")
    container.with_bind_ports(5432, None)
    container.ports["5432/tcp"] = ("127.0.0.1", None)  # type: ignore[assignment]
    container.with_command("postgres -c fsync=off -c synchronous_commit=off -c max_connections=200")
    container.start()
    return PostgresServer(
        provider="testcontainers",
        host="127.0.0.1",
        port=int(container.get_exposed_port(5432)),
        user="postgres",
        password="postgres",
        stop=container.stop,
    )


# --- 3. local binaries ------------------------------------------------------------------------


def find_pg_bin() -> str | None:
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return os.path.dirname(os.path.realpath(on_path))
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return os.path.dirname(candidates[0]) if candidates else None


def _as_postgres_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ProviderError("running as root and `runuser` is missing: initdb refuses root")
    import pwd

    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise ProviderError("running as root and there is no `postgres` user for initdb") from None
    return [runuser, "-u", "postgres", "--"]


def local_binaries_provider(env: Mapping[str, str]) -> PostgresServer | None:
    bindir = find_pg_bin()
    if bindir is None:
        return None
    prefix = _as_postgres_user()
    base = tempfile.mkdtemp(prefix="step-pg-")
    data, sockdir = os.path.join(base, "data"), os.path.join(base, "sock")
    os.makedirs(sockdir)
    if prefix:
        shutil.chown(base, "postgres")
        shutil.chown(sockdir, "postgres")
        os.chmod(base, 0o755)
    (port,) = free_ports(1)
    run: dict[str, Any] = dict(capture_output=True, text=True, check=False)
    init = subprocess.run(
        [*prefix, f"{bindir}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
         "--no-sync", "--locale=C"],
        **run,
    )  # fmt: skip
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise ProviderError(f"initdb failed: {init.stderr.strip()[-300:]}")
    opts = (
        f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={sockdir} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c timezone=UTC "
        "-c max_connections=200"
    )
    start = subprocess.run(
        [*prefix, f"{bindir}/pg_ctl", "-D", data, "-o", opts, "-l", f"{base}/postgres.log",
         "-w", "-t", "60", "start"],
        **run,
    )  # fmt: skip
    if start.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise ProviderError(f"pg_ctl start failed: {start.stderr.strip()[-300:]}")

    def stop() -> None:
        subprocess.run(
            [*prefix, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], **run
        )
        shutil.rmtree(base, ignore_errors=True)

    return PostgresServer(
        provider="initdb", host="127.0.0.1", port=port, user="postgres", stop=stop
    )


# --- 4. pgserver --------------------------------------------------------------------------------


def pgserver_provider(env: Mapping[str, str]) -> PostgresServer | None:
    # pgserver (platformdirs) warns unless XDG_RUNTIME_DIR is a private directory
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="step-xdg-"))
    try:
        import pgserver
    except ImportError:
        raise ProviderError(
            "not installed (pip install 'step-platform[pgserver]', part of '.[test]')"
        ) from None
    base = tempfile.mkdtemp(prefix="step-pgserver-")
    server = pgserver.get_server(base, cleanup_mode="stop")  # type: ignore[attr-defined]
    parsed = from_url(server.get_uri())

    def stop() -> None:
        with contextlib.suppress(Exception):
            server.cleanup()
        shutil.rmtree(base, ignore_errors=True)

    parsed.provider = "pgserver"
    parsed.stop = stop
    return parsed


PROVIDERS: list[tuple[str, Callable[[Mapping[str, str]], PostgresServer | None]]] = [
    ("explicit", explicit),
    ("testcontainers", testcontainers_provider),
    ("initdb", local_binaries_provider),
    ("pgserver", pgserver_provider),
]


def start_postgres(
    env: Mapping[str, str] | None = None, *, exclude: frozenset[str] = frozenset()
) -> PostgresServer:
    """Walk the chain (less the providers named in `exclude`); log which provider was chosen
    and why the others were not."""
    env = os.environ if env is None else env
    reasons: list[str] = []
    for name, provider in PROVIDERS:
        if name in exclude:
            continue
        try:
            server = provider(env)
        except Exception as exc:  # a failing provider hands over to the next one
            reasons.append(f"{name}: {exc}")
            continue
        if server is not None:
            try:
                wait_ready(server)
            except ProviderError:
                server.stop()  # never leave a started server behind
                raise
            log.info("postgres from provider %s at %s:%s", name, server.host, server.port)
            return server
        reasons.append(f"{name}: not available")
    raise ProviderError("no Postgres provider worked: " + "; ".join(reasons))


def wait_ready(server: PostgresServer, timeout: float = 30.0) -> None:

    def probe() -> None:
        try:
            server._admin("SELECT 1")
        except Exception as exc:  # whatever the driver raises while the server starts
            raise NotYet(repr(exc)) from None

    wait_until(
        probe,
        deadline=time.monotonic() + timeout,
        interval=0.2,
        timed_out=lambda last: ProviderError(
            f"Postgres from {server.provider} did not answer: {last}"
        ),
    )
