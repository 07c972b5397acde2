"""`step-platform demo` as a user runs it: from nothing, printed curls work, Ctrl-C cleans up.

The demo runs as a subprocess on free ports (`STEP_DEMO_PORTS`, `--port`) with its state in a
temporary directory, and starts its own Postgres from the provider chain.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from step_platform.devstack.ports import PortMap, port_in_use

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-m", "step_platform.cli"]


@dataclass
class Demo:
    proc: subprocess.Popen[str]
    ports: PortMap
    env: dict[str, str]
    state: Path
    lines: list[str] = field(default_factory=list)
    _queue: queue.Queue[str | None] = field(default_factory=queue.Queue)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def find(self, pattern: str) -> str:
        """A line printed so far, or the next one printed, that matches `pattern`."""
        for line in self.lines:
            if re.search(pattern, line):
                return line
        return self.wait_for(pattern)

    def wait_for(self, pattern: str, timeout: float = 180.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=1.0)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("demo exited early:\n" + "\n".join(self.lines))
            self.lines.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line matching {pattern!r}:\n" + "\n".join(self.lines))

    def rest(self, timeout: float = 60.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self._queue.get(timeout=timeout)
            if line is None:
                break
            self.lines.append(line)
        return self.lines


def demo_env(ports: PortMap, state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "STEP_DATABASE"))}
    # the default state dir, relative to the working directory, as a user runs it
    env.pop("STEP_STATE_DIR", None)
    env["STEP_DEMO_PORTS"] = (
        f"configs={ports.configs},registry={ports.registry},step={ports.step[0]},"
        f"raida={ports.raida},user_center={ports.user_center}"
    )
    return env


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    ports = PortMap.free()
    state = tmp_path_factory.mktemp("demo") / ".step-platform"
    env = demo_env(ports, state)
    proc = subprocess.Popen(
        [*CLI, "demo", "--port", str(ports.nginx)],
        env=env,
        cwd=state.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    running = Demo(proc, ports, env, state)
    try:
        running.wait_for(r"^Try:")
        yield running
    finally:
        if proc.poll() is None:  # the test failed before its own Ctrl-C: send it now, so the
            proc.send_signal(signal.SIGINT)  # demo stops what it started (its own sessions)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_the_printed_curl_commands_work_as_printed(demo: Demo) -> None:
    commands = [demo.wait_for(r"^\s+curl ") for _ in range(3)]
    for command in commands:
        assert f"http://127.0.0.1:{demo.ports.nginx}/" in command
        result = subprocess.run(
            command.strip(), shell=True, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr
        body = json.loads(result.stdout)
        assert body["detail"]["code"] == "OK", (command, body)


def test_the_printed_watch_curl_is_woken_by_the_printed_change_curl(demo: Demo) -> None:
    watch = demo.find(r"^\s+curl .*wait=30s").strip()
    change = demo.find(r"^\s+curl .*-X PATCH").strip()
    started = time.monotonic()
    watcher = subprocess.Popen(watch, shell=True, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        assert watcher.poll() is None  # it blocks: nothing changed yet
        result = subprocess.run(
            change, shell=True, capture_output=True, text=True, timeout=60, check=False
        )
        assert json.loads(result.stdout)["detail"]["code"] == "OK", result.stdout
        output, _ = watcher.communicate(timeout=20)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait(10)
    assert time.monotonic() - started < 20
    head, _, body = output.replace("\r\n", "\n").partition("\n\n")
    assert head.startswith("HTTP/1.1 200")
    assert json.loads(body)["data"]["contest_process_id"]["note"] == "changed while you watched"


def test_the_printed_docs_urls_open_the_swagger_ui_of_each_service(demo: Demo) -> None:
    line = demo.find(r"^Docs in a browser")
    urls = re.findall(r"http://[\w.:-]+/[\w/-]*", line)
    assert f"http://step.localhost:{demo.ports.nginx}/docs/" in urls
    assert f"http://cfg.step.localhost:{demo.ports.nginx}/docs/" in urls
    for url in urls:
        host_port, _, path = url.removeprefix("http://").partition("/")
        port = host_port.partition(":")[2]
        # what a browser does for *.localhost: connect to 127.0.0.1, send the name as Host
        page = httpx.get(
            f"http://127.0.0.1:{port}/{path}",
            headers={"Host": host_port},
            trust_env=False,
            timeout=60,
        )
        assert page.status_code == 200, url
        assert "swagger-ui-bundle.js" in page.text, url


def test_nginx_logs_are_written_live_into_the_demos_log_directory(demo: Demo) -> None:
    rid = uuid.uuid4().hex
    httpx.get(
        f"http://127.0.0.1:{demo.ports.nginx}/healthz",
        headers={"Host": "step.localhost", "X-Request-ID": rid},
        trust_env=False,
        timeout=60,
    )
    access = demo.state / "logs" / "nginx-access.log"
    deadline = time.monotonic() + 10
    while f"rid={rid}" not in access.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)  # nginx writes its access log line after the response
    assert f"rid={rid}" in access.read_text()
    assert (demo.state / "logs" / "nginx-error.log").exists()


def test_the_demo_token_may_write_configs(demo: Demo) -> None:
    token = re.search(r"token\s+(eyJ[\w.-]+)", demo.find(r"^\s+token\s+eyJ")).group(1)
    response = httpx.patch(
        f"http://127.0.0.1:{demo.ports.nginx}/configs/node_id/",
        headers={
            "Host": "cfg.step.localhost",
            "Authorization": f"Bearer {token}",
            "Project-ID": "e3eb60a2-3bb7-4983-8e2f-47490b979eb9",
        },
        json={"data": {}},  # an empty merge patch: allowed, and the demo's set stays as it is
        trust_env=False,
        timeout=60,
    )
    assert response.status_code == 200, response.text


def test_the_printed_breaking_write_shows_the_422(demo: Demo) -> None:
    command = demo.find(r"^\s+curl -s -X PUT ")
    result = subprocess.run(
        command.strip(), shell=True, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    detail = json.loads(result.stdout)["detail"]
    assert detail["code"] == "BREAKS_CONSUMER", detail
    assert detail["violations"] == [
        {"consumer": "step", "type": "node_id", "paths": ["node_id.value"]}
    ]


def test_the_summary_names_the_project_and_a_ready_token(demo: Demo) -> None:
    text = "\n".join(demo.lines)
    assert "Project-ID        e3eb60a2-3bb7-4983-8e2f-47490b979eb9" in text
    assert re.search(r"token\s+eyJ[\w-]+\.[\w-]+\.[\w-]+", text)


def test_demo_check_runs_the_journey_against_the_running_demo(demo: Demo) -> None:
    result = subprocess.run(
        [*CLI, "demo", "--check", "--port", str(demo.ports.nginx)],
        env=demo.env, cwd=demo.state.parent, capture_output=True, text=True,
        timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the running demo" in result.stdout
    assert result.stdout.strip().endswith("check passed")


def test_a_second_demo_on_taken_ports_is_one_clear_line(demo: Demo) -> None:
    result = subprocess.run(
        [*CLI, "demo", "--port", str(demo.ports.nginx)],
        env=demo.env, cwd=demo.state.parent, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert re.match(
        r"step-platform demo: ports? \d+ \(\w+\).* on 127\.0\.0\.1 already in use", errors[0]
    )
    assert (demo.state / "demo.json").exists()  # the running demo's file is left alone


def test_ctrl_c_stops_everything_it_started(demo: Demo) -> None:
    info = json.loads((demo.state / "demo.json").read_text())
    pids = list(info["pids"].values())
    demo.proc.send_signal(signal.SIGINT)
    assert demo.proc.wait(60) == 0
    tail = demo.rest()
    assert any("nothing of the demo is left running" in line for line in tail)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not [port for _, port in demo.ports.named() if port_in_use(port)]
    assert not (demo.state / "demo.json").exists()
