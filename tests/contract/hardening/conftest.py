"""Hardening tests reuse the per-service fixtures and helpers of the service suites."""

from __future__ import annotations

from tests.contract.configs.conftest import bearer, reader, writer  # noqa: F401
from tests.contract.step.conftest import world  # noqa: F401
