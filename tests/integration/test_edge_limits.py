"""What nginx refuses itself is the envelope too: a header line past its buffers."""

from __future__ import annotations

import pytest

from .conftest import Edge

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("block", ["step", "configs"])
def test_a_header_past_nginxs_buffers_is_a_400_envelope(edge: Edge, block: str) -> None:
    with getattr(edge, block)() as client:
        response = client.get("/healthz", headers={"X-Pad": "x" * 20_000})
    assert response.status_code == 400
    assert response.headers["x-served-by"] == "edge/nginx"
    assert response.json()["detail"]["code"] == "HEADERS_TOO_LARGE"


def test_headers_under_nginxs_buffers_but_over_the_services_cap_are_its_400(edge: Edge) -> None:
    pads = {f"X-Pad-{i}": "x" * 6_000 for i in range(3)}  # 18 KB in lines nginx accepts
    with edge.step() as client:
        response = client.get("/healthz", headers=pads)
    assert response.status_code == 400
    assert response.json()["detail"]["limit"] == "header_bytes"
