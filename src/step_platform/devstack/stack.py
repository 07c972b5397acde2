"""The whole chain as local processes: Postgres, migrations, five services, nginx.

`Stack(config).start()` brings everything up in dependency order, wiring each service with the
seed's environment names (the user-center key, the registry and configs URLs, the raida-mock
credentials), loads the config set, and renders and starts nginx. `stop()` stops everything it
started, in reverse order, and nothing else. The demo and the integration tests both use it, so
what the tests check is what `make demo` runs.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..seed import DEMO_PROJECT_ID, seed_config_set
from . import nginx as nginx_conf
from .configs_loader import load_config_set
from .ports import LISTEN_HOST, PortMap, check_free
from .postgres import PostgresServer, start_postgres
from .processes import ManagedProcess, StartError, serve_argv, wait_http
from .simulators import RaidaAdmin, public_key_pem, step_service_token, user_token

MIB = 1024 * 1024

# The raida-mock service account of the demo (the seed's example values of section 6).
RAIDA_USER = "raida@raida.com"
RAIDA_PASSWORD = "raida"


@dataclass(frozen=True)
class StackConfig:
    """What differs between the demo (fixed seed ports, `.step-platform/`) and a test stack."""

    ports: PortMap = field(default_factory=PortMap)
    domain: str = "step.localhost"
    state_dir: Path = Path(".step-platform")
    log_dir: Path | None = None  # default: <state_dir>/logs
    database: str | None = "configs"  # None: a fresh, randomly named database
    project_id: str = DEMO_PROJECT_ID
    config_set: Mapping[str, Any] | None = None  # None: the seed's section 8
    upstream_timeout: float = 10.0
    max_upload_bytes: int = 20 * MIB
    raida_user: str = RAIDA_USER
    raida_password: str = RAIDA_PASSWORD
    persist_raida: bool = True  # keep raida-mock's state in <state_dir>/raida-state.json
    ready_timeout: float = 90.0
    service_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # start only these services (nginx always); None: all. Tests that stop things use a part.
    only: frozenset[str] | None = None

    def runs(self, service: str) -> bool:
        return self.only is None or service in self.only

    @property
    def logs(self) -> Path:
        return self.log_dir or self.state_dir / "logs"

    @property
    def step_host(self) -> str:
        return self.domain

    @property
    def configs_host(self) -> str:
        return f"cfg.{self.domain}"


class Progress:
    """One line per long step: what is starting, then `ok` and how long it took."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def _write(self, text: str) -> None:
        if self.stream is not None:
            self.stream.write(text)
            self.stream.flush()

    @contextlib.contextmanager
    def step(self, label: str) -> Iterator[Callable[[str], None]]:
        """Yields a setter for a short note shown after `ok` (e.g. the provider chosen)."""
        notes: list[str] = []
        self._write(f"  {label:<34}")
        started = time.monotonic()
        try:
            yield notes.append
        except BaseException:
            self._write("failed\n")
            raise
        took = time.monotonic() - started
        note = f", {notes[-1]}" if notes else ""
        self._write(f"ok ({took:.1f}s{note})\n")


class Addresses:
    """Where a stack's parts answer, and tokens from its user-center-mock: the interface the
    local-process `Stack` and the containers' `ChainContainers` share (the tests use both)."""

    config: StackConfig
    # services reachable from the host; None: all of them
    published: frozenset[str] | None = None

    @property
    def ports(self) -> PortMap:
        return self.config.ports

    @property
    def edge_url(self) -> str:
        return f"http://{LISTEN_HOST}:{self.ports.nginx}"

    def url(self, service: str) -> str:
        """`registry`, `configs`, `raida-mock`, `user-center-mock`, `step` / `step-N`, and
        `registry-N` / `configs-N` when there are several (`registry` is then nginx's
        in-chain address for them)."""
        port = {
            "registry": self.ports.registry,
            "configs": self.ports.configs,
            "raida-mock": self.ports.raida,
            "user-center-mock": self.ports.user_center,
        }.get(service)
        instance = re.fullmatch(r"(step|registry|configs)(?:-(\d+))?", service)
        if instance and (port is None or instance.group(2)):
            index = int(instance.group(2) or 1) - 1
            listeners = {
                "step": self.ports.step,
                "registry": self.ports.registry_instances,
                "configs": self.ports.configs_instances,
            }[instance.group(1)]
            port = listeners[index] if index < len(listeners) else None
        if port is None or (self.published is not None and service not in self.published):
            raise KeyError(f"{service} is not reachable from the host in this stack")
        return f"http://{LISTEN_HOST}:{port}"

    def token(self, user_id: str, *, roles: tuple[str, ...] = (), ttl: int = 3600) -> str:
        return user_token(self.url("user-center-mock"), user_id, roles=roles, ttl=ttl)

    def raida(self) -> RaidaAdmin:
        """The chain's raida-mock: seed it, inject faults, read its journal."""
        return RaidaAdmin(
            self.url("raida-mock"), self.config.raida_user, self.config.raida_password
        )


class Stack(Addresses):
    """Starts and stops the chain; see the module docstring."""

    def __init__(
        self,
        config: StackConfig,
        *,
        postgres: PostgresServer | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.config = config
        self.progress = progress or Progress()
        self.processes: dict[str, ManagedProcess] = {}
        self.public_key: str | None = None
        self._postgres = postgres
        self._own_postgres = False
        self._database: str | None = None
        self._nginx_prefix: str | None = None
        self._secret = secrets.token_hex(24)
        self.step_service_token: str | None = None

    @property
    def postgres(self) -> PostgresServer | None:
        return self._postgres

    @property
    def database(self) -> str | None:
        return self._database

    # --- environment of each service (the seed's names) ---------------------------------

    def _common_env(self, instance: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DB_", "STEP_DATABASE_URL", "RAIDA_", "USER_CENTER_"))
        }
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                "SECRET_KEY": self._secret,
                "DEBUG": "0",
                "INSTANCE_ID": instance,
                "UPSTREAM_TIMEOUT": str(self.config.upstream_timeout),
                "STEP_STATE_DIR": str(self.config.state_dir.resolve()),
            }
        )
        return env

    def service_env(self, name: str) -> dict[str, str]:
        """The environment `step-platform serve` gets for `name` (`step-1`, `step-2`, ...)."""
        c, p = self.config, self.ports
        hosts = (f".{c.domain}", "127.0.0.1", "localhost")
        env = self._common_env(name)
        base = base_of(name)
        if base == "registry":
            assert self._postgres is not None and self._database is not None
            env.update(self._postgres.env(self._database))
            env["ALLOWED_HOSTS"] = ",".join(hosts)
        elif base == "configs":
            env.update(
                {
                    "REGISTRY_URL": f"http://{LISTEN_HOST}",
                    "REGISTRY_PORT": str(p.registry),
                    "ACCESS_TOKEN_PUBLIC_KEY": self._key(),
                    "JWT_ALGORITHM": "RS256",
                    "ALLOWED_HOSTS": ",".join(hosts),
                    "DOCS_PROJECT_ID": c.project_id,
                }
            )
        elif base == "step":
            env.update(
                {
                    "BASE_URL": self.url("raida-mock"),
                    "USER_RAIDA": c.raida_user,
                    "PASSWD_RAIDA": c.raida_password,
                    "ACCESS_TOKEN_PUBLIC_KEY": self._key(),
                    "JWT_ALGORITHM": "RS256",
                    "CONFIGS_SERVICE_URL": self.url("configs") + "/",
                    "DJANGO_ALLOWED_HOSTS": " ".join(hosts),
                    "DJANGO_CORS_ALLOWED_ORIGINS": " ".join(
                        (f"http://127.0.0.1:{p.nginx}", f"http://{c.domain}:{p.nginx}")
                    ),
                    "LANGUAGE_CODE": "ru",
                    "TIME_ZONE": "Europe/Moscow",
                    "STEP_MAX_UPLOAD_BYTES": str(c.max_upload_bytes),
                    "DOCS_PROJECT_ID": c.project_id,
                }
            )
            if self.step_service_token:
                env["CONFIGS_SERVICE_TOKEN"] = self.step_service_token
        elif base == "raida-mock":
            env.update({"USER_RAIDA": c.raida_user, "PASSWD_RAIDA": c.raida_password})
            if c.persist_raida:
                env["RAIDA_STATE_FILE"] = str((c.state_dir / "raida-state.json").resolve())
        elif base == "user-center-mock":
            # the key lives in STEP_STATE_DIR, where `step-platform token` finds it too
            env["USER_CENTER_ISSUER"] = self.url("user-center-mock")
        env.update(c.service_env.get(base, {}))
        env.update(c.service_env.get(name, {}))
        return env

    def _key(self) -> str:
        if self.public_key is None:
            raise StartError("the user-center public key is not known yet")
        return self.public_key

    # --- starting ----------------------------------------------------------------------

    def _spawn(self, name: str) -> ManagedProcess:
        base = base_of(name)
        port = int(self.url(name).rsplit(":", 1)[1])
        proc = ManagedProcess(
            name,
            serve_argv(base, port),
            env=self.service_env(name),
            log_path=self.config.logs / f"{name}.log",
        )
        proc.start()
        self.processes[name] = proc
        return proc

    def _wait_ready(self, names: list[str]) -> None:
        deadline = time.monotonic() + self.config.ready_timeout
        for name in names:
            wait_http(self.processes[name], self.url(name) + "/readyz", deadline=deadline)

    def step_names(self) -> list[str]:
        return [f"step-{i}" for i in range(1, len(self.ports.step) + 1)]

    def instance_names(self, service: str) -> list[str]:
        """`registry` / `configs`, or `registry-1`, `registry-2`... when there are several."""
        ports = {
            "registry": self.ports.registry_instances,
            "configs": self.ports.configs_instances,
        }[service]
        return [f"{service}-{i}" for i in range(1, len(ports) + 1)] or [service]

    def internal_proxies(self) -> tuple[nginx_conf.InternalProxy, ...]:
        """nginx's in-chain listeners, one per service that runs as several instances."""
        return tuple(
            nginx_conf.InternalProxy(
                name=service,
                listen=f"{LISTEN_HOST}:{port}",
                servers=tuple(f"{LISTEN_HOST}:{p}" for p in instances),
            )
            for service, port, instances in (
                ("registry", self.ports.registry, self.ports.registry_instances),
                ("configs", self.ports.configs, self.ports.configs_instances),
            )
            if instances
        )

    def start(self) -> Stack:
        """Bring the chain up; on any failure stop what was started and re-raise."""
        c = self.config
        try:
            check_free(self.ports)
            nginx_bin = nginx_conf.find_nginx()
            c.state_dir.mkdir(parents=True, exist_ok=True)
            c.logs.mkdir(parents=True, exist_ok=True)
            self._start_postgres()
            with self.progress.step("migrations"):
                self._migrate()
            first = [
                n
                for n in (*self.instance_names("registry"), "user-center-mock", "raida-mock")
                if c.runs(base_of(n))
            ]
            with self.progress.step("registry, simulators") as note:
                for name in first:
                    self._spawn(name)
                self._wait_ready(first)
                self.public_key = public_key_pem(self.url("user-center-mock"))
                self.step_service_token = step_service_token(self.url("user-center-mock"))
                note(f"ports {self.ports.registry}, {self.ports.user_center}, {self.ports.raida}")
            if self.internal_proxies():
                # the instances reach each other through nginx: it starts before they do
                with self.progress.step("nginx (in-chain)"):
                    self._start_nginx(nginx_bin)
            second = [
                n
                for n in (*self.instance_names("configs"), *self.step_names())
                if c.runs(base_of(n))
            ]
            with self.progress.step("configs, step") as note:
                configs = [n for n in second if base_of(n) == "configs"]
                for name in configs:
                    self._spawn(name)
                if self.internal_proxies():
                    # step reaches configs through nginx, which rests (for 10 s) an instance
                    # that refused a connection: let every configs instance listen first
                    self._wait_ready(configs)
                for name in second:
                    if name not in configs:
                        self._spawn(name)
                self._wait_ready(second)
                note(f"ports {self.ports.configs}, {', '.join(map(str, self.ports.step))}")
            with self.progress.step("config set") as note:
                config_set = c.config_set if c.config_set is not None else seed_config_set()
                loaded = load_config_set(
                    config_set, project_id=c.project_id, registry_url=self.url("registry")
                )
                note(f"{len(loaded)} types")
            with self.progress.step("nginx") as note:
                if "nginx" not in self.processes:
                    self._start_nginx(nginx_bin)
                self._wait_edge()
                note(f"port {self.ports.nginx}")
        except BaseException:
            self.stop()
            raise
        return self

    def _start_postgres(self) -> None:
        with self.progress.step("postgres") as note:
            if self._postgres is None:
                self._postgres = start_postgres()
                self._own_postgres = True
            name = self.config.database
            if name is None:
                self._database = self._postgres.create_database()
            else:
                with contextlib.suppress(Exception):  # it exists: keep it (migrations adopt it)
                    self._postgres.create_database(name)
                self._database = name
            note(f"{self._postgres.provider}, database {self._database}")

    def _migrate(self) -> None:
        assert self._postgres is not None and self._database is not None
        env = self._common_env("migrate")
        env.update(self._postgres.env(self._database))
        log = self.config.logs / "migrate.log"
        with open(log, "ab") as out:
            result = subprocess.run(
                [sys.executable, "-m", "step_platform.cli", "migrate"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=self.config.ready_timeout,
                check=False,
            )
        if result.returncode != 0:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise StartError(f"migrations failed (see {log}): " + " / ".join(tail))

    def nginx_site(self) -> nginx_conf.Site:
        configs = self.ports.configs_instances or (self.ports.configs,)
        return nginx_conf.Site(
            domain=self.config.domain,
            listen=f"{LISTEN_HOST}:{self.ports.nginx}",
            step_servers=tuple(f"{LISTEN_HOST}:{port}" for port in self.ports.step),
            configs_servers=tuple(f"{LISTEN_HOST}:{port}" for port in configs),
            max_upload_bytes=self.config.max_upload_bytes,
            upstream_timeout=self.config.upstream_timeout,
            request_deadline=self._step_deadline(),
            internal=self.internal_proxies(),
        )

    def _step_deadline(self) -> float | None:
        """STEP_REQUEST_DEADLINE when the stack sets it for step (nginx waits longer)."""
        value = self.config.service_env.get("step", {}).get("STEP_REQUEST_DEADLINE")
        return float(value) if value else None

    def _start_nginx(self, binary: str) -> None:
        prefix = tempfile.mkdtemp(prefix="step-nginx-")
        os.chmod(prefix, 0o755)
        self._nginx_prefix = prefix
        nginx_conf.prepare_prefix(prefix)
        conf = os.path.join(prefix, "nginx.conf")
        logs = self.config.logs.resolve()  # nginx reads relative paths from its prefix
        for name in ("nginx-error.log", "nginx-access.log"):  # one run, one log
            (logs / name).write_bytes(b"")
        rendered = nginx_conf.render_main(self.nginx_site(), prefix, logs=str(logs))
        Path(conf).write_text(rendered, encoding="utf-8")
        argv = [binary, "-p", prefix, "-c", conf, "-e", str(logs / "nginx-error.log")]
        check = subprocess.run([*argv, "-t", "-q"], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise StartError(f"nginx rejected its configuration: {check.stderr.strip()[-300:]}")
        proc = ManagedProcess(
            "nginx", argv, env=dict(os.environ), log_path=self.config.logs / "nginx.log"
        )
        proc.start()
        self.processes["nginx"] = proc

    def _wait_edge(self) -> None:
        proc = self.processes["nginx"]
        deadline = time.monotonic() + self.config.ready_timeout
        for service, host in (
            ("step", self.config.step_host),
            ("configs", self.config.configs_host),
        ):
            if self.config.runs(service):
                wait_http(
                    proc, self.edge_url + "/healthz", deadline=deadline, headers={"Host": host}
                )

    # --- one service at a time (tests stop and restart the registry) -------------------

    def stop_service(self, name: str) -> None:
        proc = self.processes.get(name)
        if proc is not None:
            proc.stop()

    def start_service(self, name: str) -> None:
        proc = self.processes[name]
        if proc.alive():
            return
        proc.start()
        if name == "nginx":
            deadline = time.monotonic() + self.config.ready_timeout
            wait_http(proc, self.edge_url + "/healthz", deadline=deadline,
                      headers={"Host": self.config.configs_host})  # fmt: skip
        else:
            self._wait_ready([name])

    def service_log(self, service: str) -> list[str]:
        """Log lines of every instance of `service` (`step` covers `step-1`, `step-2`, ...)."""
        lines: list[str] = []
        for name, proc in self.processes.items():
            if name == service or name.startswith(f"{service}-"):
                with contextlib.suppress(OSError):
                    lines += proc.log_path.read_text(errors="replace").splitlines()
        return lines

    def dead(self) -> list[ManagedProcess]:
        """Processes that exited on their own (the demo's watch loop reports them)."""
        return [p for p in self.processes.values() if p.popen is not None and not p.alive()]

    # --- stopping ------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop everything this stack started, newest first; safe to call more than once."""
        for name in reversed(list(self.processes)):
            self.processes[name].stop()
        if self._nginx_prefix:
            shutil.rmtree(self._nginx_prefix, ignore_errors=True)
            self._nginx_prefix = None
        if self._postgres is not None:
            if self._own_postgres:
                self._postgres.stop()
                self._postgres = None
            elif self._database and self.config.database is None:
                with contextlib.suppress(Exception):
                    self._postgres.drop_database(self._database)
        self._database = None

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def base_of(name: str) -> str:
    """The service an instance name belongs to: `step-2` -> `step`, `raida-mock` stays."""
    return re.sub(r"-\d+$", "", name)
