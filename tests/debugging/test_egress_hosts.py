"""The egress guard as remote debugging uses it (a Dify daemon's address and
port, DEBUG_EGRESS_ALLOW): internal addresses refused unless allowed."""

from __future__ import annotations

from functools import partial

import pytest

from studio.pluginfmt import egress
from studio.pluginfmt.egress import EgressRefused

check_host = partial(egress.check_host, setting="DEBUG_EGRESS_ALLOW")


def fixed(*addresses: str):
    return lambda host, port: list(addresses)


class TestCheckHost:
    @pytest.mark.parametrize(
        ("host", "why"),
        [
            ("127.0.0.1", "loopback"),
            ("10.0.0.1", "private"),
            ("192.168.1.5", "private"),
            ("169.254.169.254", "cloud metadata"),
            ("169.254.1.1", "link-local"),
            ("::1", "loopback"),
            ("0.0.0.0", "unspecified"),  # noqa: S104
        ],
    )
    def test_it_refuses_internal_addresses(self, host: str, why: str) -> None:
        with pytest.raises(EgressRefused, match=why) as refused:
            check_host(host, 5003)
        assert "DEBUG_EGRESS_ALLOW" in str(refused.value)

    def test_it_refuses_a_name_resolving_to_loopback(self) -> None:
        with pytest.raises(EgressRefused, match=r"dify\.test \(127\.0\.0\.1\)"):
            check_host("dify.test", 5003, resolver=fixed("127.0.0.1"))

    def test_it_refuses_a_name_if_any_address_is_internal(self) -> None:
        with pytest.raises(EgressRefused, match="private"):
            check_host("dify.test", 5003, resolver=fixed("93.184.216.34", "10.1.2.3"))

    def test_it_refuses_localhost_as_the_system_resolves_it(self) -> None:
        with pytest.raises(EgressRefused, match="loopback"):
            check_host("localhost", 5003)

    def test_it_refuses_the_metadata_host_name(self) -> None:
        with pytest.raises(EgressRefused, match="metadata"):
            check_host("metadata.google.internal", 80, resolver=fixed("8.8.8.8"))

    def test_it_refuses_an_ipv4_mapped_loopback(self) -> None:
        with pytest.raises(EgressRefused, match="loopback"):
            check_host("::ffff:127.0.0.1", 5003)

    def test_it_refuses_an_unresolvable_name(self) -> None:
        def broken(host: str, port: int) -> list[str]:
            raise OSError("no such name")

        with pytest.raises(EgressRefused, match="does not resolve"):
            check_host("nowhere.invalid", 5003, resolver=broken)

    def test_it_refuses_a_port_out_of_range(self) -> None:
        with pytest.raises(EgressRefused, match="not a TCP port"):
            check_host("93.184.216.34", 70000)

    def test_it_allows_a_public_address(self) -> None:
        allowed = check_host("dify.example", 5003, resolver=fixed("93.184.216.34"))
        assert allowed.addresses == ("93.184.216.34",)
        assert allowed.port == 5003

    def test_it_allows_a_private_network_on_the_allow_list(self) -> None:
        allowed = check_host(
            "dify.internal", 5003, allow=["10.0.0.0/8"], resolver=fixed("10.0.0.1")
        )
        assert allowed.addresses == ("10.0.0.1",)

    def test_it_allows_a_host_name_on_the_allow_list(self) -> None:
        allowed = check_host(
            "Dify.Internal", 5003, allow=["dify.internal"], resolver=fixed("10.0.0.1")
        )
        assert allowed.addresses == ("10.0.0.1",)

    def test_it_allows_loopback_only_when_listed(self) -> None:
        assert check_host("127.0.0.1", 5003, allow=["127.0.0.1"]).addresses == (
            "127.0.0.1",
        )
        with pytest.raises(EgressRefused):
            check_host("127.0.0.2", 5003, allow=["127.0.0.1"])
