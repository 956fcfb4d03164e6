"""Where a plugin run by the studio may send requests: the egress guard.

`check_url(url, allow=…)` resolves the URL's host and refuses it when any
address it resolves to is loopback, private, link-local (so the cloud metadata
address 169.254.169.254), multicast, reserved, unspecified, shared (CGNAT) or a
known metadata address (fd00:ec2::254), unless an allow-list entry covers it.
IPv4-mapped and 6to4/NAT64 IPv6 forms are judged by the IPv4 address inside,
and numeric spellings the resolver accepts (`2130706433`, `0x7f.1`,
`0177.0.0.1`) are resolved like any name, so they are refused as what they
are. Every resolved address must pass: a name with one public and one private
address is refused. The answer carries the addresses checked, so a caller can
pin the connection to them (the playground's egress proxy connects to exactly
these, never resolving the name again).

Allow-list entries are host names (exact, case-insensitive), IP addresses or
CIDR networks; `allow_ports` pins an entry to one port with `host:port`.
Pure Python, no Django.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS over IPv6
    )
)
SHARED_NETWORK = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
# Names of metadata services, refused whatever they resolve to.
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata"})


class EgressRefused(ValueError):
    """The host may not be reached; the message says why, naming the address."""


@dataclass(frozen=True)
class Destination:
    """A checked destination: the host as written, its port and its addresses."""

    host: str
    port: int
    addresses: tuple[str, ...]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def refusal_reason(address: IPAddress) -> str | None:
    """Why this address may not be reached by default, or None if it may."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and address in ipaddress.ip_network("64:ff9b::/96"):
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None:
            reason = refusal_reason(inner)
            return None if reason is None else f"{reason} (inside {address})"
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = (
        ("is_loopback", "a loopback address"),
        ("is_unspecified", "the unspecified address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    )
    for attribute, reason in checks:
        if getattr(address, attribute):
            return reason
    if isinstance(address, ipaddress.IPv4Address) and address in SHARED_NETWORK:
        return "a shared (carrier-grade NAT) address"
    if not address.is_global:
        return "not a public address"
    return None


def _entries(allow: Sequence[str], port: int) -> list[str]:
    """The allow-list's hosts or networks (lower case) that apply to `port`."""
    names = []
    for raw in allow:
        entry = raw.strip().lower()
        if not entry:
            continue
        name, entry_port = entry, ""
        if _has_port(entry):
            name, _, entry_port = entry.rpartition(":")
        if entry_port and entry_port != str(port):
            continue
        names.append(name.strip("[]"))
    return names


def _allowed_name(host: str, port: int, allow: Sequence[str]) -> bool:
    """Whether the allow-list names this host itself."""
    return host.lower() in _entries(allow, port)


def _allowed(host: str, port: int, address: IPAddress, allow: Sequence[str]) -> bool:
    for name in _entries(allow, port):
        if name == host.lower():
            return True
        try:
            if address in ipaddress.ip_network(name, strict=False):
                return True
        except ValueError:
            continue
    return False


def _has_port(entry: str) -> bool:
    """`host:443` or `[::1]:443` has a port; a bare IPv6 address does not."""
    if entry.startswith("["):
        return "]:" in entry
    return entry.count(":") == 1


def check_host(
    host: str,
    port: int,
    *,
    allow: Iterable[str] = (),
    resolver: Resolver = system_resolver,
    setting: str = "PLAYGROUND_EGRESS_ALLOW",
) -> Destination:
    """Resolve host and check every address; raise EgressRefused if one fails.

    `setting` names the allow-list an administrator edits, for the message
    (the playground's and remote debugging's differ)."""
    host = host.strip().rstrip(".")
    if not host:
        raise EgressRefused("the URL has no host")
    if not 1 <= port <= 65535:
        raise EgressRefused(f"port {port} is not a TCP port (1-65535)")
    allow = list(allow)
    unless = f"unless an administrator allows it ({setting})"
    if host.lower() in METADATA_HOSTS and not _allowed_name(host, port, allow):
        raise EgressRefused(f"{host} is a cloud metadata service; refused {unless}")
    try:
        addresses = resolver(host.strip("[]"), port)
    except (OSError, UnicodeError) as error:
        raise EgressRefused(f"{host} does not resolve: {error}") from None
    if not addresses:
        raise EgressRefused(f"{host} does not resolve to any address")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        reason = refusal_reason(address)
        if reason is not None and not _allowed(host, port, address, allow):
            shown = host if host == text else f"{host} ({text})"
            raise EgressRefused(
                f"{shown} is {reason}; the studio does not connect there {unless}"
            )
    return Destination(host=host, port=port, addresses=tuple(addresses))


def check_url(
    url: str,
    *,
    allow: Iterable[str] = (),
    resolver: Resolver = system_resolver,
    setting: str = "PLAYGROUND_EGRESS_ALLOW",
) -> Destination:
    """Check an http(s) URL's host (see the module doc); return its destination."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise EgressRefused(f"not a valid URL: {error}") from None
    if parts.scheme not in ("http", "https"):
        raise EgressRefused("only http and https URLs can be reached")
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    return check_host(
        parts.hostname or "", port, allow=allow, resolver=resolver, setting=setting
    )
