"""The resources a service's lifespan opens (its pool, clients, feeds) reach handlers through
Starlette's lifespan state: the lifespan yields them, and Starlette copies that mapping into
every request's scope. One accessor for all three services, so each names its resources the
same way and a wiring mistake (a missing or mistyped resource) fails with a message saying
which, not as an `AttributeError` deep in a handler.
"""

from __future__ import annotations

from typing import TypeVar

from starlette.requests import HTTPConnection

T = TypeVar("T")


def resource(connection: HTTPConnection, name: str, kind: type[T]) -> T:
    """The lifespan's resource `name`, checked to be a `kind`."""
    value = connection.scope.get("state", {}).get(name)
    if not isinstance(value, kind):
        raise TypeError(
            f"lifespan state {name!r} is {type(value).__name__}, expected {kind.__name__}"
        )
    return value
