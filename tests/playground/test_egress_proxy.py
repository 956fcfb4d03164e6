"""The egress proxy a playground plugin's HTTP goes through."""

from __future__ import annotations

import http.client
import socket
from typing import Any

import pytest

from studio.builds.mock_upstream import MockUpstream
from studio.playground.egress_proxy import EgressProxy


def via_proxy(proxy: EgressProxy, method: str, target: str) -> tuple[int, str]:
    port = int(proxy.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request(method, target, headers={"Authorization": "Bearer good-key"})
    response = connection.getresponse()
    return response.status, response.read().decode(errors="replace")


@pytest.fixture
def mock() -> Any:
    with MockUpstream() as upstream:
        yield upstream


def test_the_mock_upstream_is_let_through(mock: MockUpstream) -> None:
    hostport = mock.url.split("//")[1].split("/")[0]
    with EgressProxy(always=[hostport]) as proxy:
        status, body = via_proxy(proxy, "GET", f"{mock.url}/models")
    assert status == 200 and "data" in body


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:9/",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8000/",
    ],
)
def test_internal_addresses_are_refused_with_the_reason(target: str) -> None:
    with EgressProxy() as proxy:
        status, body = via_proxy(proxy, "GET", target)
    assert status == 403
    assert "egress refused by the studio" in body
    assert proxy.refused


def test_connect_to_an_internal_address_is_refused() -> None:
    with EgressProxy() as proxy:
        status, body = via_proxy(proxy, "CONNECT", "169.254.169.254:443")
    assert status == 403 and "metadata" in body


def test_an_allowed_host_is_reached_at_the_address_that_was_checked(
    mock: MockUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = int(mock.url.split(":")[2].split("/")[0])
    real = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        # The name resolves to loopback when checked, then elsewhere (DNS
        # rebinding): a proxy that looked it up again would connect there.
        if host == "models.example":
            lookups.append(host)
            host = "127.0.0.1" if len(lookups) == 1 else "10.66.66.66"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with EgressProxy(allow=lambda: ["127.0.0.1"]) as proxy:
        status, body = via_proxy(
            proxy, "GET", f"http://models.example:{port}/v1/models"
        )
    assert status == 200 and "data" in body
    assert lookups == ["models.example"]
