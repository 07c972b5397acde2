"""Tools for testing against the Step platform (see docs/testing.md).

A kit for consumers' CI: the Step chain and its simulators in containers, and (in
`step_platform.testing.strategies`) hypothesis strategies for config sets.

    from step_platform.testing import ChainContainers, RaidaMockContainer

    with ChainContainers() as chain:
        token = chain.token(user_id)
        httpx.get(chain.edge_url + "/contests/active/", headers={"Host": "step.localhost", ...})

The pytest plugin (`step_platform.testing.plugin`, registered as a `pytest11` entry point)
gives the same as fixtures: `step_chain`, `raida_mock`, `user_center_mock`. docs/testing.md
shows a consumer's test end to end. The images come from `make images` in this repository.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ChainContainers",
    "ContainerStartError",
    "DockerGone",
    "DockerUnavailable",
    "RaidaMockContainer",
    "UserCenterMockContainer",
    "build_chain",
    "start_chain",
]

_WHERE = {
    "ChainContainers": "chain",
    "start_chain": "chain",
    "build_chain": "chain",
    "RaidaMockContainer": "containers",
    "UserCenterMockContainer": "containers",
    "ContainerStartError": "daemon",
    "DockerGone": "daemon",
    "DockerUnavailable": "daemon",
}


def __getattr__(name: str) -> Any:
    """Lazy: importing the package does not import testcontainers (the plugin imports it)."""
    if name not in _WHERE:
        raise AttributeError(name)
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
