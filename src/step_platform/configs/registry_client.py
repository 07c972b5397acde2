"""The only code that talks to the registry, and what its answers mean to the configs service.

One pooled `httpx.AsyncClient` (opened in the lifespan) with explicit timeouts. Transport
failures, timeouts and 5xx are raised by `core.upstream.call` (503 / 504 / 502). This module
decides what the registry's 4xx mean (409 ENTITY_EXISTS -> ours, another 409 -> the
registry's own code, 404 -> the row went away, 400 on a write -> the field errors, 412 ->
`RowChanged`) and checks that successful answers have the contracted shape: a list answer
must be an array of objects, a write answer an object, else 502.

Writes of a row that was read first are conditional: `If-Match` carries the row's ETag, which
the registry defines as the row's `modified_date` in double quotes, so the row from the list
read is enough (no extra read per write).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from ..core.actor import actor_headers
from ..core.auth import Principal
from ..core.errors import ApiError
from ..core.upstream import UpstreamBadResponse, call, json_of
from ..core.watch import HEADER as INDEX_HEADER
from ..core.watch import Indexed

UPSTREAM = "registry"
LIST_PATH = "/api/configs/"
ONE_PATH = "/api/config/"
REVISIONS_PATH = "/api/revisions/"
CHANGES_PATH = "/api/changes/"
LATEST_HEADER = "X-Config-Latest-Index"

ENTITY_EXISTS = "Идентификатор такого типа уже существует"
NOT_FOUND = "Конфиги не найдены."

Row = dict[str, Any]


class RowChanged(Exception):
    """The registry refused a conditional write (412): the row changed after it was read."""


def etag_of(row: Mapping[str, Any]) -> str:
    """The registry's ETag of a row it returned: its `modified_date`, quoted."""
    modified = row.get("modified_date")
    if not isinstance(modified, str) or not modified or '"' in modified:
        raise UpstreamBadResponse(UPSTREAM, "a row without a valid modified_date")
    return f'"{modified}"'


def entity_exists() -> ApiError:
    return ApiError(409, "ENTITY_EXISTS", ENTITY_EXISTS)


def not_found(**extra: Any) -> ApiError:
    return ApiError(404, "NOT_FOUND", NOT_FOUND, **extra)


def list_params(
    project_id: str,
    account_id: str | None,
    types: Sequence[str] | None,
    *,
    active_only: bool = True,
    with_project_level: bool = True,
) -> dict[str, str]:
    """Query of one read: the project's rows of this account (and/or project level)."""
    if account_id is None:
        accounts = "null"
    elif with_project_level:
        accounts = f"{account_id},null"
    else:
        accounts = account_id
    params = {"project_id": project_id, "account_id": accounts}
    if types:
        params["object_type"] = ",".join(types)
    if active_only:
        params["meta_status"] = "active"
    return params


def _header_int(response: httpx.Response, name: str) -> int:
    value = response.headers.get(name, "0")
    return int(value) if value.isascii() and value.isdigit() else 0


class RegistryClient:
    def __init__(self, http: httpx.AsyncClient, headers: Mapping[str, str] | None = None) -> None:
        self.http = http
        self.headers = dict(headers or {})

    def acting_for(self, principal: Principal) -> RegistryClient:
        """This client, recording `principal` as the actor of its writes (`core.actor`)."""
        return RegistryClient(self.http, actor_headers(principal.user_id, principal.roles))

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if self.headers:
            kwargs["headers"] = {**self.headers, **(kwargs.get("headers") or {})}
        return await call(self.http, UPSTREAM, method, url, **kwargs)

    @staticmethod
    def _row(response: httpx.Response) -> Row:
        body = json_of(response, UPSTREAM)
        if not isinstance(body, dict):
            raise UpstreamBadResponse(UPSTREAM, "a write answered with a non-object body")
        return body

    @staticmethod
    def _write_error(response: httpx.Response) -> ApiError:
        """A 4xx answer to a write, as a client error of ours where it is one."""
        if response.status_code == 404:
            return not_found()
        if response.status_code not in (400, 409):
            return UpstreamBadResponse(UPSTREAM, f"status {response.status_code}")
        body = json_of(response, UPSTREAM)
        detail = body.get("detail") if isinstance(body, dict) else None
        detail = detail if isinstance(detail, dict) else {}
        code, message, fields = detail.get("code"), detail.get("message"), detail.get("fields")
        if response.status_code == 409:
            if code == "ENTITY_EXISTS" or not isinstance(code, str):
                return entity_exists()
            # another conflict with the stored row (DATA_NOT_MERGEABLE, ID_MISMATCH, ...):
            # the registry's own code and message, not a misleading "exists"
            return ApiError(409, code, message if isinstance(message, str) else code)
        return ApiError(
            400,
            "BAD_REQUEST",
            message if isinstance(message, str) else "Реестр отклонил данные.",
            fields=fields if isinstance(fields, dict) else {},
        )

    async def rows(self, params: dict[str, str]) -> list[Row]:
        rows, _ = await self.list_indexed(params)
        return rows

    async def list_indexed(self, params: dict[str, str]) -> tuple[list[Row], Indexed]:
        """The rows and the index of the list's scope (`X-Config-Index`) with the latest
        index the registry knows (`X-Config-Latest-Index`).

        A scope nothing was ever written to has index 0 in the registry; it is given the
        latest index instead, since `index=0` never blocks: a client can then wait for the
        scope's first write with the index it got (a later read with a higher latest index
        answers at once: a spurious wake-up, never a missed write)."""
        response = await self._send("GET", LIST_PATH, params=params)
        if response.status_code != 200:
            # our query is built from validated values: a 4xx is a contract mismatch
            raise UpstreamBadResponse(UPSTREAM, f"list answered {response.status_code}")
        rows = json_of(response, UPSTREAM)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise UpstreamBadResponse(UPSTREAM, "list answer is not an array of objects")
        index, latest = _header_int(response, INDEX_HEADER), _header_int(response, LATEST_HEADER)
        return rows, Indexed(index or latest, latest)

    async def revisions(self, params: dict[str, str]) -> dict[str, Any]:
        """One page of the audit list: `{"count", "next", "previous", "results"}`."""
        response = await self._send("GET", REVISIONS_PATH, params=params)
        if response.status_code != 200:
            raise UpstreamBadResponse(UPSTREAM, f"revisions answered {response.status_code}")
        page = json_of(response, UPSTREAM)
        if not isinstance(page, dict) or not isinstance(page.get("results"), list):
            raise UpstreamBadResponse(UPSTREAM, "revisions answer is not a page")
        return page

    async def changes(self, params: Mapping[str, str], wait: float) -> httpx.Response:
        """The change feed, passed on as it answers (a blocking call of up to `wait` s)."""
        timeout = self.http.timeout
        return await self._send(
            "GET",
            CHANGES_PATH,
            params=params,
            timeout=httpx.Timeout(wait + (timeout.read or 10.0), connect=timeout.connect or 10.0),
        )

    async def rollback(
        self, row_id: str, index: int, user_id: str, *, if_match: str | None = None
    ) -> Row:
        """The row back as revision `index` left it, `user_id` recorded as its writer."""
        headers = {"If-Match": if_match} if if_match is not None else None
        response = await self._send(
            "POST",
            f"{ONE_PATH}{row_id}/rollback/",
            json={"index": index, "user_id": user_id},
            headers=headers,
        )
        if response.status_code == 412:
            raise RowChanged(row_id)
        if response.status_code != 200:
            raise self._write_error(response)
        return self._row(response)

    async def create(self, payload: Row) -> Row:
        response = await self._send("POST", ONE_PATH, json=payload)
        if response.status_code != 201:
            raise self._write_error(response)
        return self._row(response)

    async def replace(self, row_id: str, payload: Row, *, if_match: str | None = None) -> Row:
        return await self._update("PUT", row_id, payload, if_match)

    async def patch(self, row_id: str, payload: Row, *, if_match: str | None = None) -> Row:
        return await self._update("PATCH", row_id, payload, if_match)

    async def _update(self, method: str, row_id: str, payload: Row, if_match: str | None) -> Row:
        """A write of one row; with `if_match` (an ETag) only if the row is still that one."""
        headers = {"If-Match": if_match} if if_match is not None else None
        response = await self._send(method, f"{ONE_PATH}{row_id}/", json=payload, headers=headers)
        if response.status_code == 412:
            raise RowChanged(row_id)
        if response.status_code != 200:
            raise self._write_error(response)
        return self._row(response)

    # --- bulk writes (`step-platform configs load`): all items or none -----------------------

    async def create_many(self, items: list[Row]) -> list[Row]:
        return await self._bulk("POST", items, 201)

    async def replace_many(self, items: list[Row]) -> list[Row]:
        return await self._bulk("PUT", items, 200)

    async def deactivate(self, ids: Sequence[str]) -> None:
        response = await self._send("DELETE", LIST_PATH, params={"id": ",".join(ids)})
        if response.status_code != 200:
            raise self._write_error(response)

    async def _bulk(self, method: str, items: list[Row], ok: int) -> list[Row]:
        response = await self._send(method, LIST_PATH, json=items)
        if response.status_code != ok:
            raise self._write_error(response)
        rows = json_of(response, UPSTREAM)
        if not isinstance(rows, list):
            raise UpstreamBadResponse(UPSTREAM, "a bulk write answered with a non-array body")
        return rows

    async def ping(self) -> None:
        """Readiness: the registry answers its own health route."""
        response = await self._send("GET", "/healthz")
        if response.status_code != 200:
            raise UpstreamBadResponse(UPSTREAM, f"healthz answered {response.status_code}")
