"""`wait_until`: the one polling loop of devstack and the testing kit."""

from __future__ import annotations

import time

import pytest

from step_platform.devstack.waiting import NotYet, wait_until


class Late(Exception):
    pass


def test_the_first_value_is_returned() -> None:
    answers = iter([NotYet("starting"), NotYet("starting"), "ready"])

    def probe() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_until(probe, deadline=time.monotonic() + 5, interval=0, timed_out=Late) == "ready"


def test_past_the_deadline_the_last_thing_seen_is_reported() -> None:
    def probe() -> None:
        raise NotYet("503 starting")

    with pytest.raises(Late, match="503 starting"):
        wait_until(probe, deadline=time.monotonic() + 0.05, interval=0.01, timed_out=Late)


def test_any_other_error_ends_the_wait_at_once() -> None:
    calls = []

    def probe() -> None:
        calls.append(1)
        raise RuntimeError("the process exited")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="exited"):
        wait_until(probe, deadline=time.monotonic() + 60, interval=1, timed_out=Late)
    assert calls == [1] and time.monotonic() - started < 1
