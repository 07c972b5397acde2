"""nginx in front of the chain, as section 7 of the seed sets it up.

One listen port, Host-based server blocks: `.cfg.<domain>` goes to the configs service,
`.<domain>` (the default server) to step. On top of the seed's `location /` block we add what
the seed leaves implicit: an `X-Request-ID` made by nginx when the client sent none and passed
upstream, a body limit one MiB above the upload limit (so step, not nginx, answers for uploads
just over its limit), a read timeout longer than the services' own upstream timeout (so a slow
Raida surfaces as step's 504 envelope, not nginx's), and JSON error pages in the services'
envelope for what nginx itself answers (413, 502, 503, 504).

`render_http(site)` gives the http-level blocks (the `conf.d` file of `deploy/nginx/`);
`render_main(site, prefix)` wraps them into a complete configuration for a private nginx run
by devstack: its own prefix, temp dirs, pid and log files, `daemon off`.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass

from ..contests.deadline import default_request_deadline

MIB = 1024 * 1024

# What nginx itself answers, in the services' envelope; `{upstream}` is the server block's.
EDGE_ERRORS: dict[int, tuple[str, str]] = {
    413: ("PAYLOAD_TOO_LARGE", "Тело запроса слишком велико."),
    502: ("UPSTREAM_ERROR", "Сервис {upstream} недоступен или ответил ошибкой."),
    503: ("UPSTREAM_UNAVAILABLE", "Сервис {upstream} недоступен."),
    504: ("UPSTREAM_TIMEOUT", "Сервис {upstream} не ответил вовремя."),
    # requests nginx refuses before any service sees them: malformed, or a header line past
    # its buffers (494, answered as 400)
    400: ("BAD_REQUEST", "Некорректный запрос."),
    494: ("HEADERS_TOO_LARGE", "Заголовки запроса слишком велики."),
}
# nginx's internal 494 is not a status to send: the client gets a 400.
EDGE_STATUS = {494: 400}


class NginxMissing(RuntimeError):
    """nginx is not installed; the message says how to get it."""


@dataclass(frozen=True)
class InternalProxy:
    """One address for several instances (`registry` on 127.0.0.1:8002 -> registry-1, -2)."""

    name: str
    listen: str
    servers: tuple[str, ...]


@dataclass(frozen=True)
class Site:
    """What the server blocks need to know about the chain behind them."""

    domain: str = "step.localhost"
    listen: str = "8000"  # "8000" (all interfaces, as the seed) or "127.0.0.1:8000"
    step_servers: tuple[str, ...] = ("127.0.0.1:8080",)
    configs_servers: tuple[str, ...] = ("127.0.0.1:8001",)
    max_upload_bytes: int = 20 * MIB
    upstream_timeout: float = 10.0
    request_deadline: float | None = None  # STEP_REQUEST_DEADLINE; default from the timeout
    # in-chain listeners balancing over several instances of one service, Host kept
    internal: tuple[InternalProxy, ...] = ()

    @property
    def step_deadline(self) -> float:
        if self.request_deadline is not None:
            return self.request_deadline
        return default_request_deadline(self.upstream_timeout)

    @property
    def client_max_body_size(self) -> int:
        """The upload limit plus one MiB for the multipart envelope and the other fields."""
        return self.max_upload_bytes + MIB

    @property
    def proxy_read_timeout(self) -> int:
        """Past step's own deadline per request (STEP_REQUEST_DEADLINE), so step answers
        first: its 504, never nginx's."""
        return math.ceil(self.step_deadline) + 10


# nginx drops an idle upstream connection before uvicorn would (its `timeout_keep_alive` is 5 s;
# nginx's default here is 60 s): otherwise a request could go out on a connection the service
# is closing, fail, and mark that instance down for a while (seen with two instances).
UPSTREAM_KEEPALIVE_TIMEOUT = 4


def _upstream(name: str, servers: Sequence[str], *, by_key: bool = False) -> str:
    # `by_key` (the public blocks): a write repeated with its Idempotency-Key reaches the
    # instance that holds its answer; without the header (an empty key) nginx balances
    # round-robin as before.
    lines = [f"upstream {name} {{"]
    if by_key:
        lines.append("    hash $http_idempotency_key consistent;")
    lines += [f"    server {server};" for server in servers]
    lines += ["    keepalive 16;", f"    keepalive_timeout {UPSTREAM_KEEPALIVE_TIMEOUT}s;", "}"]
    return "\n".join(lines)


def edge_error_body(code: int, upstream: str) -> str:
    """The envelope nginx answers with for `code`, naming the service behind it."""
    error_code, message = EDGE_ERRORS[code]
    detail = {"code": error_code, "message": message.format(upstream=upstream)}
    if code >= 500:
        detail["upstream"] = upstream
    return json.dumps({"detail": detail}, ensure_ascii=False, separators=(",", ":"))


def _error_locations(upstream: str) -> str:
    # only what nginx answers itself: the services' own 502/503/504 pass through untouched
    # (proxy_intercept_errors stays off)
    out = [f"    error_page {code} @edge_{code};" for code in EDGE_ERRORS]
    for code in EDGE_ERRORS:
        out.append(
            f"    location @edge_{code} {{\n"
            f"        default_type application/json;\n"
            f"        add_header X-Request-ID $step_request_id always;\n"
            f"        add_header X-Served-By edge/nginx always;\n"
            f"        return {EDGE_STATUS.get(code, code)} '{edge_error_body(code, upstream)}';\n"
            f"    }}"
        )
    return "\n".join(out)


def _server(site: Site, *, server_name: str, backend: str, upstream: str, default: bool) -> str:
    listen = site.listen + (" default_server" if default else "")
    return f"""server {{
    listen {listen};

    server_name {server_name};

    client_max_body_size {site.client_max_body_size};

    location / {{
        proxy_pass http://{backend};
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Request-ID $step_request_id;
        proxy_redirect off;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_read_timeout {site.proxy_read_timeout}s;
        proxy_send_timeout {site.proxy_read_timeout}s;
    }}

{_error_locations(upstream)}
}}"""


def _internal(site: Site, proxy: InternalProxy) -> str:
    return f"""# {proxy.name}: one in-chain address for its instances
server {{
    listen {proxy.listen};

    client_max_body_size {site.client_max_body_size};

    location / {{
        proxy_pass http://{proxy.name}_instances;
        proxy_set_header Host $http_host;
        proxy_set_header X-Request-ID $step_request_id;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_read_timeout {site.proxy_read_timeout}s;
    }}
}}"""


def render_http(site: Site) -> str:
    """The http-level part: request-id map, upstreams and the two server blocks of section 7."""
    return "\n\n".join(
        [
            "# Rendered by step_platform.devstack.nginx: section 7 of the deployment guide.\n"
            "# The client's X-Request-ID is kept; nginx makes one when there is none.\n"
            "map $http_x_request_id $step_request_id {\n"
            '    default $http_x_request_id;\n    "" $request_id;\n}',
            _upstream("step_backend", site.step_servers, by_key=True),
            _upstream("configs_backend", site.configs_servers, by_key=True),
            "# configs_service\n"
            + _server(
                site,
                server_name=f".cfg.{site.domain}",
                backend="configs_backend",
                upstream="configs",
                default=False,
            ),
            "# step (also the default server: any other Host reaches step, which checks it)\n"
            + _server(
                site,
                server_name=f".{site.domain}",
                backend="step_backend",
                upstream="step",
                default=True,
            ),
            *(_upstream(f"{p.name}_instances", p.servers) for p in site.internal),
            *(_internal(site, p) for p in site.internal),
        ]
    )


TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def render_main(
    site: Site, prefix: str, *, logs: str | None = None, as_root: bool | None = None
) -> str:
    """A complete configuration for a private nginx under `prefix` (kept in the foreground).

    Its error and access logs are written live to `logs` (the stack's log directory) as
    `nginx-error.log` and `nginx-access.log`; without `logs`, under `prefix/logs`.
    """
    logs = logs or f"{prefix}/logs"
    if as_root is None:
        as_root = os.geteuid() == 0
    temp = "\n".join(f"    {name}_temp_path {prefix}/temp/{name};" for name in TEMP_DIRS)
    http = "\n".join(("    " + line) if line else "" for line in render_http(site).splitlines())
    # as root, workers would run as `nobody` and could not use temp dirs made by root
    user = "user root;\n" if as_root else ""
    return f"""{user}worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {logs}/nginx-error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    default_type application/octet-stream;
    log_format step '$remote_addr "$host" "$request" $status $body_bytes_sent '
                    'rid=$step_request_id upstream=$upstream_addr rt=$request_time';
    access_log {logs}/nginx-access.log step;
    sendfile on;
    keepalive_timeout 65;
{temp}

{http}
}}
"""


def find_nginx() -> str:
    """The nginx binary, or `NginxMissing` with how to install it."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if found is None:
        raise NginxMissing(
            "nginx is not installed: run `make nginx` (or `sudo apt-get install nginx-light`)"
        )
    return found


def prepare_prefix(prefix: str) -> None:
    """The directories a private nginx writes to (logs, temp files)."""
    os.makedirs(os.path.join(prefix, "logs"), exist_ok=True)
    for name in TEMP_DIRS:
        os.makedirs(os.path.join(prefix, "temp", name), exist_ok=True)
