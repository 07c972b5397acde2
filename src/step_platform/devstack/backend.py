"""Where the integration tests run the chain: local processes, containers, or both.

By default both: the same tests run once on local processes (`stack.Stack`) and once on
containers (`step_platform.testing.ChainContainers`, from the images `make images` builds).
A missing Docker daemon then fails the container runs loudly. `STEP_STACK_BACKEND=local` (or
`docker`) is the explicit opt-out that keeps one of them; the choice and its reason are
printed by the tests, never made silently.
"""

from __future__ import annotations

from collections.abc import Mapping

BACKENDS = ("local", "docker")


def choose_backends(env: Mapping[str, str]) -> tuple[tuple[str, ...], str]:
    """(backends to run, reason)."""
    forced = env.get("STEP_STACK_BACKEND", "").strip().lower()
    if not forced or forced == "both":
        return BACKENDS, "both backends (STEP_STACK_BACKEND=local or docker keeps one)"
    if forced not in BACKENDS:
        raise ValueError(
            f"STEP_STACK_BACKEND={forced!r}: use one of {', '.join(BACKENDS)} (or both)"
        )
    return (forced,), f"STEP_STACK_BACKEND={forced}: {forced} only"
