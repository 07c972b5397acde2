"""A consumer's CI tests against the Step chain, using only step_platform.testing."""

import uuid

import httpx

PROJECT = "e3eb60a2-3bb7-4983-8e2f-47490b979eb9"  # the demo project of the seed's configs


def test_a_user_sees_the_active_contests_through_the_edge(step_chain):
    token = step_chain.token(str(uuid.uuid4()))
    response = httpx.get(
        step_chain.edge_url + "/contests/active/",
        headers={"Host": "step.localhost", "Authorization": f"Bearer {token}",
                 "Project-ID": PROJECT},
    )  # fmt: skip
    assert response.status_code == 200
    raida = step_chain.raida()
    assert any(e["path"].startswith("/api/tasks/rql/") for e in raida.journal())


def test_raida_failing_is_a_502_envelope_from_step(step_chain):
    raida = step_chain.raida()
    raida.set_faults(route="/api/tasks/rql/", error_rate=1.0, error_status=500)
    try:
        token = step_chain.token(str(uuid.uuid4()))
        response = httpx.get(
            step_chain.edge_url + "/contests/active/",
            headers={"Host": "step.localhost", "Authorization": f"Bearer {token}",
                     "Project-ID": PROJECT},
        )  # fmt: skip
    finally:
        raida.clear_faults()
    assert response.status_code == 502
    assert response.json()["detail"]["upstream"] == "raida"


def test_my_raida_client_against_raida_mock_alone(raida_mock):
    raida_mock.set_faults(route="/api/users/token/", error_rate=1.0, error_status=503)
    response = httpx.post(raida_mock.url + "/api/users/token/",
                          data={"username": "raida@raida.com", "password": "raida"})  # fmt: skip
    assert response.status_code == 503
    assert raida_mock.journal()[-1]["status"] == 503


def test_tokens_from_user_center_mock(user_center_mock):
    user_id = str(uuid.uuid4())
    assert user_center_mock.token(user_id).count(".") == 2
    expired = user_center_mock.mint(claims={"sub": {"user_id": user_id}}, ttl=-60)
    assert expired != user_center_mock.token(user_id)
    assert user_center_mock.public_key().startswith("-----BEGIN PUBLIC KEY-----")
