"""A service's factory leaves what it built out of the cyclic collector (`gc.freeze`)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import gc
from step_platform.asgi import app_from_env
before = gc.get_freeze_count()
app_from_env("raida-mock", {})
print(before, gc.get_freeze_count())
"""


def test_building_a_service_freezes_what_it_built():
    # in a child process: freezing is process-wide, and the test process builds many apps
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    before, after = map(int, out.split())
    assert before == 0
    assert after > 10_000  # the modules and the app, not a handful of objects
