"""The egress guard: which hosts a plugin in the playground may reach."""

from __future__ import annotations

import pytest

from studio.pluginfmt.egress import EgressRefused, check_host, check_url


def fixed(*addresses: str):
    def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1/v1", "loopback"),
        ("http://10.0.0.1/v1", "private"),
        ("http://192.168.1.5:8080/v1", "private"),
        ("http://169.254.169.254/latest/meta-data", "metadata"),
        ("http://[::1]/v1", "loopback"),
        ("http://[::ffff:127.0.0.1]/v1", "loopback"),
        ("http://[::ffff:169.254.169.254]/", "metadata"),
        ("http://[fd00:ec2::254]/", "metadata"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://100.64.0.1/", "shared"),
        ("http://2130706433/", "loopback"),  # 127.0.0.1 as one decimal number
        ("http://0x7f.0.0.1/", "loopback"),
        ("http://0177.0.0.1/", "loopback"),
        ("http://localhost:5000/v1", "loopback"),
    ],
)
def test_internal_addresses_are_refused(url: str, why: str) -> None:
    with pytest.raises(EgressRefused, match=why) as refused:
        check_url(url)
    assert "PLAYGROUND_EGRESS_ALLOW" in str(refused.value)


def test_a_name_resolving_to_loopback_is_refused() -> None:
    with pytest.raises(EgressRefused, match=r"api\.example\.com \(127\.0\.0\.1\)"):
        check_url("https://api.example.com/v1", resolver=fixed("127.0.0.1"))


def test_every_resolved_address_must_pass() -> None:
    with pytest.raises(EgressRefused, match=r"10\.1\.2\.3"):
        check_url(
            "https://api.example.com/v1", resolver=fixed("93.184.216.34", "10.1.2.3")
        )


def test_a_public_address_passes_and_is_returned_for_pinning() -> None:
    destination = check_url(
        "https://api.example.com/v1", resolver=fixed("93.184.216.34")
    )
    assert destination.host == "api.example.com"
    assert destination.port == 443
    assert destination.addresses == ("93.184.216.34",)


@pytest.mark.parametrize(
    ("url", "allow"),
    [
        ("http://127.0.0.1:8000/v1", ["127.0.0.1"]),
        ("http://10.0.0.1/v1", ["10.0.0.0/8"]),
        ("http://169.254.169.254/", ["169.254.169.254"]),
        ("http://dify.internal:5001/v1", ["dify.internal"]),
        ("http://dify.internal:5001/v1", ["dify.internal:5001"]),
        ("http://[::1]:8000/", ["::1"]),
    ],
)
def test_an_administrator_can_allow_hosts(url: str, allow: list[str]) -> None:
    resolver = fixed("10.9.8.7") if "dify.internal" in url else None
    kwargs = {"resolver": resolver} if resolver else {}
    assert check_url(url, allow=allow, **kwargs).addresses


def test_an_allowed_entry_pinned_to_a_port_does_not_open_other_ports() -> None:
    with pytest.raises(EgressRefused):
        check_host(
            "dify.internal",
            22,
            allow=["dify.internal:5001"],
            resolver=fixed("10.9.8.7"),
        )


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "file:///etc/passwd", "http:///v1", "http://[::1"]
)
def test_urls_that_are_not_http_are_refused(url: str) -> None:
    with pytest.raises(EgressRefused):
        check_url(url, resolver=fixed("93.184.216.34"))


def test_a_name_that_does_not_resolve_is_refused() -> None:
    def fail(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(EgressRefused, match="does not resolve"):
        check_url("https://nowhere.invalid/", resolver=fail)
