"""What the benchmarks share: services as real processes, percentiles, the machine line.

Services run through devstack's `ManagedProcess` (`step-platform serve NAME`), so the
benchmarks measure the same processes the demo and the integration tests start.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from step_platform.devstack.configs_loader import load_config_set
from step_platform.devstack.ports import free_ports
from step_platform.devstack.postgres import start_postgres
from step_platform.devstack.processes import ManagedProcess, serve_argv, wait_http
from step_platform.devstack.simulators import public_key_pem
from step_platform.seed import DEMO_PROJECT_ID, seed_config_set


@dataclass(frozen=True)
class Workspace:
    base_env: dict[str, str]  # what every service gets (no secrets of the caller's shell)
    registry_env: dict[str, str]  # plus the DB_* of a fresh, migrated database
    log_dir: Path


@contextmanager
def workspace(name: str) -> Iterator[Workspace]:
    """Postgres from the provider chain, a fresh migrated database and a log directory.

    The database is dropped and Postgres stopped at the end; the logs are kept (and named) only
    when the benchmark fails.
    """
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    base_env = {
        **{k: v for k, v in os.environ.items() if k in keep},
        "SECRET_KEY": "bench",
        "DEBUG": "",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    log_dir = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    server = start_postgres()
    database = server.create_database()
    try:
        registry_env = {**base_env, **server.env(database)}
        migrate(registry_env)
        yield Workspace(base_env, registry_env, log_dir)
    except BaseException:
        print(f"{name}: failed; service logs kept in {log_dir}", file=sys.stderr)
        raise
    else:
        shutil.rmtree(log_dir, ignore_errors=True)
    finally:
        server.drop_database(database)
        server.stop()


def free_port() -> int:
    return free_ports(1)[0]


@contextmanager
def service_process(
    name: str, env: Mapping[str, str], log_dir: Path, port: int | None = None
) -> Iterator[tuple[str, ManagedProcess]]:
    """`step-platform serve NAME` on 127.0.0.1 until the block ends; yields its base URL and
    the process (benchmarks that account CPU time read its pid)."""
    port = port or free_port()
    with served(name, serve_argv(name, port), env, log_dir, port) as running:
        yield running


def uvicorn_argv(target: str, port: int, workers: int) -> list[str]:
    """uvicorn with the settings of `step-platform serve` (no access log, proxy headers from
    127.0.0.1) and `workers` processes: an ASGI factory `module:function`, as deployed."""
    return [sys.executable, "-m", "uvicorn", "--factory", target, "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--no-access-log",
            "--log-level", "warning", "--proxy-headers", "--forwarded-allow-ips", "127.0.0.1",
            "--app-dir", str(Path(__file__).parent)]  # fmt: skip


@contextmanager
def workers(
    name: str, target: str, env: Mapping[str, str], log_dir: Path, count: int
) -> Iterator[str]:
    """`uvicorn --factory TARGET --workers COUNT` on a free port; yields its base URL."""
    port = free_port()
    with served(name, uvicorn_argv(target, port, count), env, log_dir, port) as (url, _):
        yield url


@contextmanager
def served(
    name: str, argv: Sequence[str], env: Mapping[str, str], log_dir: Path, port: int
) -> Iterator[tuple[str, ManagedProcess]]:
    """ARGV as a process on 127.0.0.1:PORT until the block ends, once its /healthz answers."""
    process = ManagedProcess(name, argv, env=env, log_path=log_dir / f"{name}-{port}.log")
    url = f"http://127.0.0.1:{port}"
    process.start()
    try:
        wait_http(process, f"{url}/healthz", deadline=time.monotonic() + 30)
        yield url, process
    finally:
        process.stop()


@contextmanager
def service(
    name: str, env: Mapping[str, str], log_dir: Path, port: int | None = None
) -> Iterator[str]:
    """`step-platform serve NAME` on 127.0.0.1 until the block ends; yields its base URL."""
    with service_process(name, env, log_dir, port) as (url, _):
        yield url


def migrate(env: Mapping[str, str]) -> None:
    """`step-platform migrate` with the registry's environment, in a child process."""
    subprocess.run(
        [sys.executable, "-m", "step_platform.cli", "migrate"], env=dict(env), check=True
    )


def user_center_env(base: Mapping[str, str], state_dir: Path) -> dict[str, str]:
    """A user-center-mock that keeps its key in the benchmark's own (temporary) directory."""
    return {**base, "STEP_STATE_DIR": str(state_dir)}


def token_env(user_center_url: str) -> dict[str, str]:
    """What a token-verifying service needs to trust that user-center-mock."""
    pem = public_key_pem(user_center_url)
    return {"ACCESS_TOKEN_PUBLIC_KEY": pem.replace("\n", "\\n"), "JWT_ALGORITHM": "RS256"}


def report(text: str, out: str | Path | None) -> None:
    """A benchmark's markdown: printed, and written to `--out` when given."""
    print(text)
    if out:
        Path(out).write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def percentile(samples: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `samples` in seconds, returned in milliseconds."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def load_seed_configs(registry_url: str, project_id: str = DEMO_PROJECT_ID) -> None:
    """The seed's section-8 config set for the demo project, as `configs load` writes it."""
    load_config_set(seed_config_set(), project_id=project_id, registry_url=registry_url)


def machine() -> str:
    cpu = platform.processor() or "?"
    memory = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPUs, "
        f"{memory} RAM, Python {platform.python_version()}"
    )
