"""`step-platform configs load FILE`: put a config set into the registry.

The file is a JSON object `{type: data, ...}` or the block of section 8 of the deployment guide
exactly as printed there (its outer braces are missing; Markdown fences are tolerated). Loading
replaces the configs of the given types at one level (the project, or one account of it): the
row with the configs service's `object_code` is written (created, or updated and re-activated),
and any other active row of that type at that level is deactivated, so the configs service
reads exactly what the file says. Rows of other types are left alone.

It talks to the registry directly, as the seed's operators did: the registry has no auth and
is reachable only from inside the deployment.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from ..core.ids import canonical_uuid
from ..core.upstream import registry_auth
from .seed import config_object_code

TYPE_NAME = re.compile(r"^[A-Za-z0-9_]+$")


class LoadError(ValueError):
    """The file or the registry's answer was not usable; the message is one line."""


def parse_config_set(text: str, source: str = "config set") -> dict[str, Any]:
    """A JSON object, or the seed's section-8 block without its outer braces."""
    body = "\n".join(
        line for line in text.splitlines() if not line.strip().startswith("```")
    ).strip()
    if not body:
        raise LoadError(f"{source}: empty, expected a JSON object of config types")
    try:
        value = json.loads(body)
    except json.JSONDecodeError as first:
        try:
            value = json.loads("{" + body.rstrip(",") + "}")
        except json.JSONDecodeError:
            raise LoadError(
                f"{source}: neither a JSON object nor a section-8 block "
                f"({first.msg} at line {first.lineno} column {first.colno})"
            ) from None
    if not isinstance(value, dict) or not value:
        raise LoadError(f"{source}: expected a non-empty object of config types")
    for name, data in value.items():
        if not TYPE_NAME.match(name):
            raise LoadError(f"{source}: config type {name!r} must match [A-Za-z0-9_]+")
        if data is None:
            raise LoadError(f"{source}: config type {name!r} has no data (null)")
    return value


def _uuid(value: str | None, option: str) -> str | None:
    if value is None or value == "":
        return None
    canonical = canonical_uuid(value)
    if canonical is None:
        raise LoadError(f"{option}={value!r} is not a UUID")
    return canonical


def _check(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 400:
        raise LoadError(f"registry refused to {what}: {response.status_code} {response.text[:300]}")
    try:
        return response.json()
    except ValueError:
        raise LoadError(f"registry answered {what} with a non-JSON body") from None


def load_config_set(
    config_set: Mapping[str, Any],
    *,
    project_id: str,
    account_id: str | None = None,
    registry_url: str = "http://127.0.0.1:8002",
    client: httpx.Client | None = None,
) -> list[str]:
    """Write `config_set` for the project (or account); returns the types written, in order."""
    project = _uuid(project_id, "--project-id")
    if project is None:
        raise LoadError("--project-id is required")
    account = _uuid(account_id, "--account-id")
    types = list(config_set)
    codes = {t: config_object_code(project, account, t) for t in types}
    own = client or httpx.Client(
        base_url=registry_url.rstrip("/"),
        timeout=10.0,
        trust_env=False,
        headers=registry_auth(os.environ.get("REGISTRY_API_TOKEN", "")),
    )
    try:
        try:
            existing = _check(
                own.get(
                    "/api/configs/",
                    params={
                        "project_id": project,
                        "account_id": account or "null",
                        "object_type": ",".join(types),
                    },
                ),
                "list configs",
            )
        except httpx.TransportError as exc:
            raise LoadError(
                f"registry at {registry_url} is not reachable ({type(exc).__name__}): start the "
                "chain (`step-platform demo`) or pass --registry-url"
            ) from None
        if not isinstance(existing, list):
            raise LoadError("registry answered the list of configs with something else")
        by_code = {row.get("object_code"): row for row in existing if isinstance(row, dict)}
        creates, updates = [], []
        for name in types:
            item = {
                "project_id": project,
                "account_id": account,
                "object_type": name,
                "object_code": codes[name],
                "data": config_set[name],
                "meta": {"status": "active"},
            }
            row = by_code.get(codes[name])
            (updates if row else creates).append({**item, "id": row["id"]} if row else item)
        stale = [
            row["id"]
            for row in existing
            if isinstance(row, dict)
            and row.get("object_type") in codes
            and row.get("object_code") != codes[row.get("object_type")]
            and (row.get("meta") or {}).get("status") == "active"
        ]
        if creates:
            _check(own.post("/api/configs/", json=creates), "create configs")
        if updates:
            _check(own.put("/api/configs/", json=updates), "update configs")
        if stale:
            _check(own.delete("/api/configs/", params={"id": ",".join(stale)}), "deactivate")
    except httpx.HTTPError as exc:
        raise LoadError(f"registry call failed: {type(exc).__name__}: {exc}") from None
    finally:
        if client is None:
            own.close()
    return types


def load_file(
    path: str,
    *,
    project_id: str,
    account_id: str | None = None,
    registry_url: str = "http://127.0.0.1:8002",
) -> list[str]:
    """Parse FILE (JSON or the seed's section-8 block) and load it; the CLI's entry point."""
    text = Path(path).read_text(encoding="utf-8")
    config_set = parse_config_set(text, source=path)
    return load_config_set(
        config_set, project_id=project_id, account_id=account_id, registry_url=registry_url
    )
