"""Child processes of the chain: started in their own process group, logged to a file, stopped.

Each service runs as `step-platform serve NAME` in a new session, so a Ctrl-C in the demo's
terminal reaches only the demo, which then stops its children in order; and stopping a child
signals its process group (nginx's workers, uvicorn's reloader if any) and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx

from .waiting import NotYet, wait_until


class StartError(RuntimeError):
    """A part of the chain did not come up; the message is short and names its log."""


class ManagedProcess:
    """One child process we started, with its log file; only its own group is ever signalled."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log_path: Path,
        cwd: str | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_path
        self.cwd = cwd
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the child; its log is emptied on the first start (each run keeps its own log,
        which never grows across runs) and appended to on restarts within the run."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab" if self.popen is not None else "wb") as log:
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def exit_code(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the child's group, SIGKILL after `timeout`; reaps the child."""
        popen = self.popen
        if popen is None:
            return
        if popen.poll() is None:
            self._signal_group(popen.pid, signal.SIGTERM)
            try:
                popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(popen.pid, signal.SIGKILL)
                popen.wait(5)
        # leftovers of the group (e.g. workers of a killed master) go too
        self._signal_group(popen.pid, signal.SIGKILL)
        self.popen = None

    @staticmethod
    def _signal_group(pgid: int, sig: signal.Signals) -> None:
        # the child leads its own session, so its pid is the group id and the group is ours
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)

    def tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


def serve_argv(name: str, port: int, host: str = "127.0.0.1") -> list[str]:
    """`step-platform serve NAME` with this interpreter (works without the script on PATH)."""
    return [sys.executable, "-m", "step_platform.cli", "serve", name, "--host", host, "--port",
            str(port)]  # fmt: skip


def wait_http(
    proc: ManagedProcess,
    url: str,
    *,
    deadline: float,
    headers: Mapping[str, str] | None = None,
    ready: Callable[[httpx.Response], bool] = lambda r: r.status_code == 200,
) -> httpx.Response:
    """Poll `url` until `ready` says yes; fail fast when the process exits, late at `deadline`."""
    with httpx.Client(timeout=2.0, trust_env=False) as client:

        def probe() -> httpx.Response:
            if not proc.alive():
                raise StartError(
                    f"{proc.name} exited (code {proc.exit_code()}) before it was ready; "
                    f"its log {proc.log_path} ends with:\n{proc.tail()}"
                )
            try:
                response = client.get(url, headers=dict(headers or {}))
            except httpx.HTTPError as exc:
                raise NotYet(type(exc).__name__) from None
            if not ready(response):
                raise NotYet(f"{response.status_code} {response.text[:200]}")
            return response

        return wait_until(
            probe,
            deadline=deadline,
            interval=0.1,
            timed_out=lambda last: StartError(
                f"{proc.name} was not ready at {url} in time (last: {last}); see {proc.log_path}"
            ),
        )
