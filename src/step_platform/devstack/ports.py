"""Which port each part of the chain listens on, and the check that they are free.

The demo uses the seed's fixed ports; tests ask for free ones so that they never collide with a
running demo or with each other.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, fields

LISTEN_HOST = "127.0.0.1"


class PortInUse(RuntimeError):
    """A port the chain needs is taken; the message is one line with a way out."""


@dataclass(frozen=True)
class PortMap:
    nginx: int = 8000
    configs: int = 8001
    registry: int = 8002
    step: tuple[int, ...] = (8080,)
    raida: int = 8090
    user_center: int = 8091
    # Several registry / configs instances: each listens on one of these, and `registry` /
    # `configs` above become nginx's in-chain listeners balancing over them (as a Kubernetes
    # Service does), so REGISTRY_URL and CONFIGS_SERVICE_URL still name one address.
    registry_instances: tuple[int, ...] = ()
    configs_instances: tuple[int, ...] = ()

    @classmethod
    def free(
        cls, step_instances: int = 1, registry_instances: int = 0, configs_instances: int = 0
    ) -> PortMap:
        """Ports the kernel hands out now: all distinct, for tests running beside a demo."""
        ports = free_ports(5 + step_instances + registry_instances + configs_instances)
        rest = ports[5 + step_instances :]
        return cls(
            nginx=ports[0],
            configs=ports[1],
            registry=ports[2],
            raida=ports[3],
            user_center=ports[4],
            step=tuple(ports[5 : 5 + step_instances]),
            registry_instances=tuple(rest[:registry_instances]),
            configs_instances=tuple(rest[registry_instances:]),
        )

    def named(self) -> list[tuple[str, int]]:
        """(what, port) for every listener, step instances numbered from 1."""
        out: list[tuple[str, int]] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                out += [(f"{f.name}-{i}", port) for i, port in enumerate(value, 1)]
            else:
                out.append((f.name, value))
        return out


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports, all held open until every one is chosen."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind((LISTEN_HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_in_use(port: int, host: str = LISTEN_HOST) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def check_free(ports: PortMap, host: str = LISTEN_HOST) -> None:
    """Raise `PortInUse` naming every taken port, what needs it and the way out, in one line.

    nginx's port moves with `--port N` (`make demo ARGS='--port N'`); the backends' ports move
    with `STEP_DEMO_PORTS=configs=N,registry=N,step=N,raida=N,user_center=N`.
    """
    taken = [(what, port) for what, port in ports.named() if port_in_use(port, host)]
    if not taken:
        return
    names = ", ".join(f"{port} ({what})" for what, port in taken)
    plural = "s" if len(taken) > 1 else ""
    ways: list[str] = []
    if any(what == "nginx" for what, _ in taken):
        ways.append("choose another with --port N (make demo ARGS='--port N')")
    backends = [(what.split("-")[0], port) for what, port in taken if what != "nginx"]
    if backends:
        spare = free_ports(len(backends))  # ports free right now, so the hint works as shown
        example = ",".join(f"{what}={new}" for (what, _), new in zip(backends, spare, strict=True))
        ways.append(f"move the backends with STEP_DEMO_PORTS={example}")
    raise PortInUse(
        f"port{plural} {names} on {host} already in use: is a demo already running? "
        f"Stop it, or {' and '.join(ways)}."
    )
