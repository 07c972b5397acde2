"""The nginx configuration devstack renders: section 7 of the seed plus the edge's extras."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette

from step_platform.devstack.nginx import (
    EDGE_ERRORS,
    EDGE_STATUS,
    MIB,
    InternalProxy,
    NginxMissing,
    Site,
    edge_error_body,
    find_nginx,
    prepare_prefix,
    render_http,
    render_main,
)

SITE = Site(
    domain="step.localhost",
    listen="127.0.0.1:18000",
    step_servers=("127.0.0.1:18080", "127.0.0.1:18081"),
    configs_servers=("127.0.0.1:18001",),
    max_upload_bytes=5 * MIB,
    upstream_timeout=2.0,
)


def server_blocks(text: str) -> list[str]:
    return re.findall(r"server \{.*?\n\}", text, flags=re.S)


def test_configs_block_takes_the_cfg_subdomains() -> None:
    configs, _ = server_blocks(render_http(SITE))
    assert "server_name .cfg.step.localhost;" in configs
    assert "proxy_pass http://configs_backend;" in configs
    assert "default_server" not in configs


def test_step_block_takes_the_domain_and_is_the_default_server() -> None:
    _, step = server_blocks(render_http(SITE))
    assert "server_name .step.localhost;" in step
    assert "listen 127.0.0.1:18000 default_server;" in step
    assert "proxy_pass http://step_backend;" in step


def test_both_blocks_keep_the_seed_proxy_headers() -> None:
    for block in server_blocks(render_http(SITE)):
        for line in (
            "proxy_set_header Host $host;",
            "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
            "proxy_set_header X-Forwarded-Proto $scheme;",
            "proxy_redirect off;",
        ):
            assert line in block


def test_request_id_is_the_clients_or_made_by_nginx_and_passed_upstream() -> None:
    text = render_http(SITE)
    assert re.search(
        r"map \$http_x_request_id \$step_request_id \{\s*default \$http_x_request_id;"
        r'\s*"" \$request_id;\s*\}',
        text,
    )
    for block in server_blocks(text):
        assert "proxy_set_header X-Request-ID $step_request_id;" in block


def test_every_step_instance_is_an_upstream_server() -> None:
    upstream = re.search(r"upstream step_backend \{(.*?)\}", render_http(SITE), flags=re.S)
    assert upstream is not None
    assert re.findall(r"server (\S+);", upstream.group(1)) == [
        "127.0.0.1:18080",
        "127.0.0.1:18081",
    ]


def test_body_limit_is_the_upload_limit_plus_one_mib() -> None:
    for block in server_blocks(render_http(SITE)):
        assert f"client_max_body_size {6 * MIB};" in block


def test_read_timeout_is_longer_than_the_services_upstream_timeout() -> None:
    match = re.search(r"proxy_read_timeout (\d+)s;", render_http(SITE))
    assert match is not None and int(match.group(1)) > SITE.upstream_timeout


@pytest.mark.parametrize("code", sorted(EDGE_ERRORS))
def test_edge_errors_answer_the_json_envelope(code: int) -> None:
    body = json.loads(edge_error_body(code, "step"))
    assert set(body) == {"detail"}
    assert body["detail"]["code"] == EDGE_ERRORS[code][0]
    assert isinstance(body["detail"]["message"], str)
    text = render_http(SITE)
    assert f"error_page {code} @edge_{code};" in text
    status = EDGE_STATUS.get(code, code)
    assert f"return {status} '{edge_error_body(code, 'step')}';" in text


def test_upstream_errors_name_the_service_of_the_block() -> None:
    assert json.loads(edge_error_body(502, "configs"))["detail"]["upstream"] == "configs"
    assert "upstream" not in json.loads(edge_error_body(413, "configs"))["detail"]


def test_main_config_keeps_everything_inside_the_prefix(tmp_path: Path) -> None:
    text = render_main(SITE, str(tmp_path), as_root=False)
    assert "daemon off;" in text
    assert f"pid {tmp_path}/nginx.pid;" in text
    assert f"error_log {tmp_path}/logs/nginx-error.log" in text
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        assert f"{kind}_temp_path {tmp_path}/temp/{kind};" in text
    assert "user root;" not in text


def test_logs_go_live_to_the_given_log_directory(tmp_path: Path) -> None:
    text = render_main(SITE, str(tmp_path / "prefix"), logs=str(tmp_path / "logs"), as_root=False)
    assert f"error_log {tmp_path}/logs/nginx-error.log warn;" in text
    assert f"access_log {tmp_path}/logs/nginx-access.log step;" in text


def test_main_config_as_root_runs_workers_as_root(tmp_path: Path) -> None:
    assert render_main(SITE, str(tmp_path), as_root=True).startswith("user root;")


SCALED = replace(
    SITE,
    configs_servers=("127.0.0.1:18011", "127.0.0.1:18012"),
    internal=(
        InternalProxy("registry", "127.0.0.1:18002", ("127.0.0.1:18021", "127.0.0.1:18022")),
        InternalProxy("configs", "127.0.0.1:18001", ("127.0.0.1:18011", "127.0.0.1:18012")),
    ),
)


@pytest.mark.parametrize("site", [SITE, SCALED], ids=["one-instance", "in-chain-listeners"])
def test_rendered_config_passes_nginx_t(tmp_path: Path, site: Site) -> None:
    prepare_prefix(str(tmp_path))
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_main(site, str(tmp_path)), encoding="utf-8")
    result = subprocess.run(
        [find_nginx(), "-t", "-q", "-p", str(tmp_path), "-c", str(conf),
         "-e", str(tmp_path / "logs" / "error.log")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_missing_nginx_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr("os.access", lambda path, mode: False)
    with pytest.raises(NginxMissing, match=r"^nginx is not installed: run `make nginx`"):
        find_nginx()


def test_deploy_conf_is_the_rendered_template() -> None:
    """deploy/nginx/ holds the same blocks, with the domain left to the container's env."""
    from step_platform.devstack.deploy_files import nginx_template

    path = Path(__file__).parents[2] / "deploy" / "nginx" / "templates" / "step.conf.template"
    assert path.read_text(encoding="utf-8") == nginx_template()


def test_idle_upstream_connections_close_before_uvicorn_closes_them() -> None:
    for block in re.findall(r"upstream \w+ \{(.*?)\}", render_http(SITE), flags=re.S):
        timeout = re.search(r"keepalive_timeout (\d+)s;", block)
        assert timeout is not None
        assert int(timeout.group(1)) < uvicorn.Config(Starlette()).timeout_keep_alive
