"""Waiting until something is ready: one loop for every poll of devstack and the testing kit.

A probe returns a value when it is done, or raises `NotYet` with what it saw (the message a
time-out reports); any other exception ends the wait at once (a process that exited, a
container that is unhealthy), so a dead thing fails fast instead of at the deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class NotYet(Exception):
    """Not ready yet; the message says what the probe saw."""


def wait_until(
    probe: Callable[[], T],
    *,
    deadline: float,
    interval: float,
    timed_out: Callable[[str], Exception],
) -> T:
    """`probe()`'s first value; `timed_out(last seen)` is raised past `deadline` (monotonic)."""
    while True:
        try:
            return probe()
        except NotYet as seen:
            if time.monotonic() > deadline:
                raise timed_out(str(seen)) from None
        time.sleep(interval)
