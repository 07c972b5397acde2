"""Who is writing, as the configs service tells the registry: `X-Actor` and `X-Actor-Roles`.

The configs service sets both on every registry call from the token it verified (the user id
and the token's roles), replacing anything its own caller sent; the registry records them in
each revision. A direct registry caller without `X-Actor` is recorded as `registry`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ACTOR_HEADER = "X-Actor"
ROLES_HEADER = "X-Actor-Roles"
NAME = re.compile(r"[A-Za-z0-9._:@/+\-]{1,254}")  # an actor or a role
MAX_ROLES = 64


def actor_headers(actor: str, roles: Iterable[str]) -> dict[str, str]:
    """The two headers; roles the registry would refuse (odd characters) are left out."""
    kept = sorted(r for r in set(roles) if NAME.fullmatch(r))[:MAX_ROLES]
    return {ACTOR_HEADER: actor, ROLES_HEADER: ",".join(kept)}
