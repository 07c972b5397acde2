"""`step-platform configs load FILE`: put a config set into the registry.

The file is a JSON object `{type: data, ...}` or the block of section 8 of the deployment guide
exactly as printed there (its outer braces are missing; Markdown fences are tolerated). Loading
replaces the configs of the given types at one level (the project, or one account of it): the
row with the configs service's `object_code` is written (created, or updated and re-activated),
and any other active row of that type at that level is deactivated, so the configs service
reads exactly what the file says. Rows of other types are left alone.

It talks to the registry directly, as the seed's operators did (the registry is reachable only
from inside the deployment), through the configs service's own registry client: one place knows
the registry's paths and what its answers mean.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..configs.object_code import config_object_code
from ..configs.registry_client import RegistryClient, Row, list_params
from ..core.errors import ApiError
from ..core.ids import canonical_uuid
from ..core.upstream import UpstreamUnavailable, create_client, registry_auth

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


def load_config_set(
    config_set: Mapping[str, Any],
    *,
    project_id: str,
    account_id: str | None = None,
    registry_url: str = "http://127.0.0.1:8002",
) -> list[str]:
    """Write `config_set` for the project (or account); returns the types written, in order."""
    project = _uuid(project_id, "--project-id")
    if project is None:
        raise LoadError("--project-id is required")
    account = _uuid(account_id, "--account-id")
    try:
        return asyncio.run(_load(config_set, project, account, registry_url))
    except UpstreamUnavailable:
        raise LoadError(
            f"registry at {registry_url} is not reachable: start the chain "
            "(`step-platform demo`) or pass --registry-url"
        ) from None
    except ApiError as exc:
        raise LoadError(f"registry refused the config set: {exc.code}: {exc.message}") from None


async def _load(
    config_set: Mapping[str, Any], project: str, account: str | None, registry_url: str
) -> list[str]:
    types = list(config_set)
    codes = {t: config_object_code(project, account, t) for t in types}
    token = os.environ.get("REGISTRY_API_TOKEN", "")  # a registry that asks for it
    async with create_client(registry_url.rstrip("/"), headers=registry_auth(token)) as http:
        registry = RegistryClient(http)
        params = list_params(project, account, types, active_only=False, with_project_level=False)
        existing = await registry.list(params)
        by_code = {row.get("object_code"): row for row in existing}
        creates: list[Row] = []
        updates: list[Row] = []
        for name in types:
            item: Row = {
                "project_id": project,
                "account_id": account,
                "object_type": name,
                "object_code": codes[name],
                "data": config_set[name],
                "meta": {"status": "active"},
            }
            row = by_code.get(codes[name])
            if row:
                updates.append({**item, "id": row["id"]})
            else:
                creates.append(item)
        stale = [
            row["id"]
            for row in existing
            if row.get("object_type") in codes
            and row.get("object_code") != codes[row["object_type"]]
            and (row.get("meta") or {}).get("status") == "active"
        ]
        if creates:
            await registry.create_many(creates)
        if updates:
            await registry.replace_many(updates)
        if stale:
            await registry.deactivate(stale)
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
