"""A managed process's log: one run, one log (emptied on the first start, kept on restarts)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from step_platform.devstack.processes import ManagedProcess


def echo(text: str, log: Path) -> ManagedProcess:
    argv = [sys.executable, "-c", f"print({text!r})"]
    return ManagedProcess("echo", argv, env=dict(os.environ), log_path=log)


def run(proc: ManagedProcess) -> None:
    proc.start()
    assert proc.popen is not None
    proc.popen.wait(30)


def test_the_first_start_empties_a_log_left_by_an_earlier_run(tmp_path: Path) -> None:
    log = tmp_path / "svc.log"
    log.write_text("old run\n")
    run(echo("new run", log))
    assert log.read_text() == "new run\n"


def test_a_restart_within_the_run_appends(tmp_path: Path) -> None:
    log = tmp_path / "svc.log"
    proc = echo("line", log)
    run(proc)
    run(proc)
    assert log.read_text() == "line\nline\n"
