"""The entrypoints that start two uvicorn workers give them one metrics directory, so every
scrape sums both (tests/integration/test_metrics_workers.py shows the sum)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ENTRYPOINTS = Path(__file__).resolve().parents[2] / "deploy" / "entrypoints"


@pytest.mark.parametrize("service", ["registry", "configs", "step"])
def test_two_worker_entrypoints_share_a_fresh_metrics_directory(service: str) -> None:
    lines = (ENTRYPOINTS / f"{service}.sh").read_text(encoding="utf-8").splitlines()
    [export] = [line for line in lines if "PROMETHEUS_MULTIPROC_DIR=" in line]
    serve = next(i for i, line in enumerate(lines) if line.startswith("exec uvicorn"))
    assert lines.index(export) < serve
    assert "--workers 2" in lines[serve]
    made = subprocess.run(
        ["bash", "-c", f'{export}; test -d "$PROMETHEUS_MULTIPROC_DIR" && '
         'test -z "$(ls -A "$PROMETHEUS_MULTIPROC_DIR")" && rmdir "$PROMETHEUS_MULTIPROC_DIR"'],
        env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
