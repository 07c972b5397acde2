"""The few calls devstack makes to the simulators' HTTP APIs (user-center-mock, raida-mock).

Kept in one place so the demo, `demo --check` and the integration tests speak to the
simulators the same way.
"""

from __future__ import annotations

from typing import Any

import httpx

from ..configs.app import DEFAULT_WRITE_ROLE

# Step's own User Center identity: with its CONFIGS_SERVICE_TOKEN it registers as a config
# consumer and follows the configs service's change feed.
STEP_SERVICE_USER_ID = "5e7a1ce0-57e9-4c0d-9d1e-00000000c0de"
STEP_SERVICE_TOKEN_TTL = 30 * 24 * 3600


def _client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url.rstrip("/"), timeout=10.0, trust_env=False)


def public_key_pem(user_center_url: str) -> str:
    """The PEM public key the services verify tokens with (`ACCESS_TOKEN_PUBLIC_KEY`)."""
    with _client(user_center_url) as client:
        response = client.get("/public-key.pem")
        response.raise_for_status()
        return response.text


def user_token(
    user_center_url: str, user_id: str, *, roles: tuple[str, ...] = (), ttl: int = 3600
) -> str:
    """An access token for `user_id` from the user-center-mock's token endpoint."""
    body: dict[str, Any] = {"user_id": user_id, "ttl": ttl}
    if roles:
        body["roles"] = list(roles)
    with _client(user_center_url) as client:
        response = client.post("/api/token", json=body)
        response.raise_for_status()
        return str(response.json()["access_token"])


def step_service_token(user_center_url: str) -> str:
    """Step's `CONFIGS_SERVICE_TOKEN`: the configs write role, which the change feed needs."""
    return user_token(
        user_center_url,
        STEP_SERVICE_USER_ID,
        roles=(DEFAULT_WRITE_ROLE,),
        ttl=STEP_SERVICE_TOKEN_TTL,
    )


def minted_token(user_center_url: str, **body: Any) -> str:
    """Any claims, lifetimes (negative: expired) or a foreign key: `/__admin/mint`."""
    with _client(user_center_url) as client:
        response = client.post("/__admin/mint", json=body)
        response.raise_for_status()
        return str(response.json()["access_token"])


class RaidaAdmin:
    """raida-mock as an operator sees it: its Raida API with the service account, and faults."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password = password
        self._token: str | None = None

    def _headers(self) -> dict[str, str]:
        if self._token is None:
            with _client(self.base_url) as client:
                response = client.post(
                    "/api/users/token/",
                    data={"username": self.username, "password": self.password},
                )
                response.raise_for_status()
                self._token = str(response.json()["access_token"])
        return {"Authorization": f"Bearer {self._token}"}

    def create_task(self, node: str, process: str, body: dict[str, Any]) -> dict[str, Any]:
        with _client(self.base_url) as client:
            response = client.post(
                f"/api/tasks/{node}/{process}", json=body, headers=self._headers()
            )
            response.raise_for_status()
            return dict(response.json()["data"])

    def patch_task(self, node: str, task: str, body: dict[str, Any]) -> dict[str, Any]:
        with _client(self.base_url) as client:
            response = client.patch(f"/api/tasks/{node}/{task}", json=body, headers=self._headers())
            response.raise_for_status()
            return dict(response.json()["data"])

    def seed(self, fixture: dict[str, Any] | Any) -> None:
        """Replace raida-mock's state with a fixture (the format `/__admin/state` returns)."""
        with _client(self.base_url) as client:
            client.post("/__admin/seed", json=fixture).raise_for_status()

    def reset(self) -> None:
        """Back to the packaged seed (journal and faults are kept)."""
        with _client(self.base_url) as client:
            client.post("/__admin/reset").raise_for_status()

    def set_faults(self, **faults: Any) -> None:
        with _client(self.base_url) as client:
            client.post("/__admin/faults", json=faults).raise_for_status()

    def clear_faults(self) -> None:
        with _client(self.base_url) as client:
            client.delete("/__admin/faults").raise_for_status()

    def journal(self) -> list[dict[str, Any]]:
        with _client(self.base_url) as client:
            response = client.get("/__admin/journal")
            response.raise_for_status()
            return list(response.json()["entries"])

    def clear_journal(self) -> None:
        with _client(self.base_url) as client:
            client.delete("/__admin/journal").raise_for_status()
