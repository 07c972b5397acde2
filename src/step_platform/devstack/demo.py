"""`step-platform demo [--check]`: the whole chain from nothing, in the foreground.

`demo` starts the stack (see `stack.py`) on the seed's ports, prints what runs where with a
ready token and three curl commands through nginx, waits for step to register as a config
consumer and prints a curl of a config write that would break step (answered 422
BREAKS_CONSUMER), and stays until Ctrl-C, which stops every process it started.
`demo --check` runs the user journey (`journey.py`) through nginx: against the demo running in
another terminal when there is one, else against a stack it starts and stops itself; it exits
0 when every step passed, 1 with what failed."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from ..configs.app import DEFAULT_WRITE_ROLE
from ..core.settings import ConfigError
from .configs_loader import LoadError
from .journey import Target, report, run_journey
from .nginx import NginxMissing
from .ports import PortInUse, PortMap
from .postgres import ProviderError
from .processes import StartError
from .simulators import RaidaAdmin, user_token
from .stack import Progress, Stack, StackConfig
from .waiting import NotYet, wait_until

# A user of the raida-mock seed with applications in every status, so "my tasks" and
# "history" show something from the first request on.
DEMO_USER_ID = "2098611d-32e2-4d8f-acea-76570af65843"  # raida_mock.fixtures.DEMO_USER_ID
DEMO_TOKEN_TTL = 24 * 3600
REGISTRATION_WAIT = 20.0
# what the printed breaking write sends: a node id that is not a Raida id
BREAKING_WRITE = '{"data": {"value": "not-a-raida-id"}}'

# Failures a user can act on: reported in one line, never as a traceback.
EXPECTED = (
    PortInUse,
    NginxMissing,
    StartError,
    ProviderError,
    LoadError,
    ConfigError,
    httpx.HTTPError,
    OSError,
)


def state_dir() -> Path:
    return Path(os.environ.get("STEP_STATE_DIR") or ".step-platform")


def ports_from_env(nginx: int, value: str | None) -> PortMap:
    """The seed's ports, or `STEP_DEMO_PORTS=configs=N,registry=N,step=N[+N],raida=N,...`."""
    ports = PortMap(nginx=nginx)
    if not value:
        return ports
    changes: dict[str, Any] = {}
    for item in value.split(","):
        key, _, number = item.partition("=")
        key = key.strip().replace("-", "_")
        try:
            if key == "step":
                changes[key] = tuple(int(n) for n in number.split("+"))
            elif key in ("configs", "registry", "raida", "user_center", "nginx"):
                changes[key] = int(number)
            else:
                raise ValueError
        except ValueError:
            raise ConfigError(f"STEP_DEMO_PORTS: cannot read {item!r}") from None
    return replace(ports, **changes)


def demo_config(args: argparse.Namespace, **changes: Any) -> StackConfig:
    return StackConfig(
        ports=ports_from_env(args.port, os.environ.get("STEP_DEMO_PORTS")),
        domain=args.domain,
        state_dir=state_dir(),
        **changes,
    )


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP end the demo, so `finally` blocks always run.

    SIGINT is set explicitly: a shell starting the demo in the background ignores it.
    """

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, interrupt) for s in signals}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def stop_quietly(stack: Stack) -> None:
    """Stop the stack; a second Ctrl-C meanwhile must not leave processes behind."""
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    old = {s: signal.signal(s, signal.SIG_IGN) for s in signals}
    try:
        stack.stop()
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def fail(message: str) -> int:
    print(f"step-platform demo: {message}", file=sys.stderr)
    return 1


# --- the summary ----------------------------------------------------------------------


def write_headers_file(path: Path, token: str, project_id: str) -> None:
    path.write_text(f"Authorization: Bearer {token}\nProject-ID: {project_id}\n", encoding="utf-8")
    path.chmod(0o600)


def wait_for_consumer(stack: Stack, token: str, name: str = "step") -> list[str] | None:
    """The types `name` registered with the configs service, once it has (None: not in time)."""
    url = f"{stack.url('configs')}/configs/_consumers/{name}/"
    with httpx.Client(trust_env=False, timeout=2.0) as client:

        def probe() -> list[str]:
            response = client.get(url, headers={"Authorization": f"Bearer {token}"})
            if response.status_code != 200:
                raise NotYet(str(response.status_code))
            return list(response.json()["consumer"]["types"])

        try:
            return wait_until(
                probe,
                deadline=time.monotonic() + REGISTRATION_WAIT,
                interval=0.2,
                timed_out=NotYet,
            )
        except NotYet:
            return None


def contracts_summary(stack: Stack, types: list[str] | None, headers_file: Path) -> str:
    c = stack.config
    if types is None:
        return (
            f"\nstep has not registered as a config consumer yet (see {c.logs}/step-1.log): "
            "config writes are not checked against it."
        )
    h = str(headers_file.resolve())
    return "\n".join(
        [
            "",
            f"step is a registered config consumer ({len(types)} types); a config write that "
            "would break it is refused with 422 BREAKS_CONSUMER:",
            f"  curl -s -X PUT -H 'Host: {c.configs_host}' -H @{h} "
            f"-H 'Content-Type: application/json' -d '{BREAKING_WRITE}' "
            f"{stack.edge_url}/configs/node_id/",
            "(consumers: GET /configs/_consumers/, dry run: POST /configs/_validate)",
        ]
    )


def summary(stack: Stack, token: str, headers_file: Path) -> str:
    c, p = stack.config, stack.ports
    edge = stack.edge_url
    h = str(headers_file.resolve())
    pg = stack.postgres
    pg_where = f"{pg.provider}, database {stack.database}" if pg else "?"
    steps = ", ".join(str(port) for port in p.step)
    lines = [
        "",
        "Step platform is running (Ctrl-C stops everything):",
        f"  nginx             {edge}   Host {c.configs_host} -> configs, "
        f"{c.step_host} (and any other) -> step",
        f"  step              127.0.0.1:{steps}",
        f"  configs           127.0.0.1:{p.configs}",
        f"  registry          127.0.0.1:{p.registry}   (Postgres: {pg_where})",
        f"  raida-mock        127.0.0.1:{p.raida}   (user {c.raida_user})",
        f"  user-center-mock  127.0.0.1:{p.user_center}",
        f"  logs              {c.logs}/",
        f"  Project-ID        {c.project_id}",
        f"  user              {DEMO_USER_ID}",
        f"  token             {token}",
        f"  curl headers      {h}  (the token and Project-ID above)",
        "",
        "Try:",
        f"  curl -s -H 'Host: {c.step_host}' -H @{h} {edge}/contests/active/",
        f"  curl -s -H 'Host: {c.step_host}' -H @{h} {edge}/contests/user/my/tasks/",
        f"  curl -s -H 'Host: {c.configs_host}' -H @{h} {edge}/configs/node_id,task_status_id/",
        "",
        "Docs in a browser (*.localhost resolves to 127.0.0.1 there): "
        f"http://{c.step_host}:{p.nginx}/docs/ (step), "
        f"http://{c.configs_host}:{p.nginx}/docs/ (configs), "
        f"http://127.0.0.1:{p.registry}/swagger-ui/ (registry)",
        "More tokens: step-platform token. A user journey: step-platform demo --check",
    ]
    return "\n".join(lines)


WATCHED = "contest_process_id"  # the journey (demo --check) compares node_id exactly


def watch_lines(stack: Stack, token: str, headers: Path) -> str:
    """A blocking read of one config type at its current index, and a write that wakes it."""
    c, edge = stack.config, stack.edge_url
    url = f"{stack.url('configs')}/configs/{WATCHED}/"
    answer = httpx.get(
        url,
        headers={"Authorization": f"Bearer {token}", "Project-ID": c.project_id},
        timeout=10,
        trust_env=False,
    )
    index = answer.headers.get("X-Config-Index", "0")
    cfg = f"-H 'Host: {c.configs_host}'"
    body = '{"data": {"note": "changed while you watched"}}'
    return "\n".join(
        [
            f"Watch a config type (blocks up to 30 s until {WATCHED} changes; run it first):",
            f"  curl -s -D - {cfg} -H @{headers.resolve()} "
            f"'{edge}/configs/{WATCHED}/?index={index}&wait=30s'",
            "Change it from another terminal (the demo token holds the configs:write role):",
            f"  curl -s -X PATCH {cfg} -H @{headers.resolve()} "
            f"-H 'Content-Type: application/json' -d '{body}' {edge}/configs/{WATCHED}/",
            f"Its history: curl -s {cfg} -H @{headers.resolve()} {edge}/configs/{WATCHED}/history/",
        ]
    )


# --- demo ---------------------------------------------------------------------------------


def run_demo(args: argparse.Namespace) -> int:
    config = demo_config(args)
    stack = Stack(config, progress=Progress(sys.stdout))
    info = config.state_dir / "demo.json"
    print("Starting the Step platform (first start takes a while):", flush=True)
    wrote_info = False
    with stop_on_signals():
        try:
            stack.start()
            # the demo user may write configs, so Swagger's "Try it out" works on every route
            token = user_token(
                stack.url("user-center-mock"),
                DEMO_USER_ID,
                roles=(DEFAULT_WRITE_ROLE,),
                ttl=DEMO_TOKEN_TTL,
            )
            headers = config.state_dir / "demo.headers"
            write_headers_file(headers, token, config.project_id)
            info.write_text(json.dumps(running_info(stack)), encoding="utf-8")
            wrote_info = True
            print(summary(stack, token, headers), flush=True)
            types = wait_for_consumer(stack, token)
            print(contracts_summary(stack, types, headers), flush=True)
            print(watch_lines(stack, token, headers), flush=True)
            while True:
                dead = stack.dead()
                if dead:
                    proc = dead[0]
                    print(
                        f"\n{proc.name} exited unexpectedly (code {proc.exit_code()}); its log "
                        f"{proc.log_path} ends with:\n{proc.tail()}\nstopping everything",
                        file=sys.stderr,
                    )
                    return 1
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("\nstopping ...", flush=True)
            return 0
        except EXPECTED as exc:
            return fail(str(exc))
        finally:
            stop_quietly(stack)
            if wrote_info:  # never another demo's: a second demo fails before writing
                with contextlib.suppress(OSError):
                    info.unlink()
            print("stopped: nothing of the demo is left running.", flush=True)


def running_info(stack: Stack) -> dict[str, Any]:
    c = stack.config
    return {
        "pid": os.getpid(),
        "edge_url": stack.edge_url,
        "step_host": c.step_host,
        "configs_host": c.configs_host,
        "project_id": c.project_id,
        "raida_url": stack.url("raida-mock"),
        "raida_user": c.raida_user,
        "raida_password": c.raida_password,
        "user_center_url": stack.url("user-center-mock"),
        "pids": {name: proc.pid for name, proc in stack.processes.items()},
    }


# --- demo --check ---------------------------------------------------------------------------


def running_demo(directory: Path) -> dict[str, Any] | None:
    """The running demo's addresses, when its process is alive and nginx answers."""
    try:
        info = json.loads((directory / "demo.json").read_text(encoding="utf-8"))
        os.kill(int(info["pid"]), 0)
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            client.get(info["edge_url"] + "/healthz", headers={"Host": info["step_host"]})
    except (OSError, ValueError, KeyError, TypeError, httpx.HTTPError):
        return None
    return dict(info)


def target_from(info: dict[str, Any]) -> Target:
    uc = info["user_center_url"]
    return Target(
        edge_url=info["edge_url"],
        step_host=info["step_host"],
        configs_host=info["configs_host"],
        project_id=info["project_id"],
        raida=RaidaAdmin(info["raida_url"], info["raida_user"], info["raida_password"]),
        token_for=lambda user_id: user_token(uc, user_id),
    )


def check(target: Target, where: str) -> int:
    print(f"User journey through nginx ({where}):", flush=True)
    passed, lines = report(run_journey(target))
    print(lines)
    print("check passed" if passed else "check FAILED", flush=True)
    return 0 if passed else 1


def run_check(args: argparse.Namespace) -> int:
    info = running_demo(state_dir())
    if info is not None:
        return check(target_from(info), f"the running demo at {info['edge_url']}")
    config = demo_config(
        args, persist_raida=False, log_dir=state_dir() / "logs" / "check", database=None
    )
    stack = Stack(config, progress=Progress(sys.stdout))
    print("No demo is running: starting one for the check.", flush=True)
    with stop_on_signals():
        try:
            stack.start()
            return check(
                target_from(running_info(stack)), f"a stack started for it, {stack.edge_url}"
            )
        except KeyboardInterrupt:
            return 1
        except EXPECTED as exc:
            return fail(str(exc))
        finally:
            stop_quietly(stack)


def demo_command(args: argparse.Namespace) -> int:
    return run_check(args) if args.check else run_demo(args)
