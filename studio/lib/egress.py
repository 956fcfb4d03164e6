"""Egress guard: may the studio's processes connect to this host?

A host is resolved and every address it resolves to must be public: loopback,
private, link-local (cloud metadata lives at 169.254.169.254), multicast,
reserved and unspecified addresses are refused, unless the host name or the
address is on the allow-list (host names, addresses or CIDRs), for a team's
own Dify on a private network. Pure functions, no Django: callers pass the
allow-list from settings.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_HOSTS = {"metadata.google.internal", "metadata"}


class EgressRefused(ValueError):
    """The host may not be connected to; the message says why, for a person."""


@dataclass(frozen=True)
class Allowed:
    """The checked host and the addresses it resolved to."""

    host: str
    port: int
    addresses: tuple[str, ...]


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (TCP), in resolver order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_allow(entries: Iterable[str]) -> tuple[set[str], list[IPNetwork]]:
    """Split an allow-list into host names and networks (bad entries ignored)."""
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for raw in entries:
        entry = raw.strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return names, networks


def check_host(
    host: str,
    port: int,
    *,
    allow: Iterable[str] = (),
    resolver: Resolver = resolve,
) -> Allowed:
    """Return the host's addresses if it may be reached; raise EgressRefused if not."""
    name = host.strip().lower().rstrip(".")
    if not name:
        raise EgressRefused("No host given.")
    if not 1 <= port <= 65535:
        raise EgressRefused(f"Port {port} is not a TCP port (1-65535).")
    names, networks = parse_allow(allow)
    if name in names:
        return Allowed(name, port, tuple(_resolve(name, port, resolver)))
    if name in METADATA_HOSTS:
        raise EgressRefused(f"{host} is a cloud metadata service.")
    addresses = _resolve(name, port, resolver)
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if any(address in network for network in networks):
            continue
        why = _why_internal(address)
        if why:
            shown = host if host == text else f"{host} ({text})"
            raise EgressRefused(
                f"{shown} is {why}: the studio does not connect there unless an "
                "administrator allows it (DEBUG_EGRESS_ALLOW)."
            )
    return Allowed(name, port, tuple(addresses))


def _resolve(name: str, port: int, resolver: Resolver) -> list[str]:
    try:
        addresses = resolver(name, port)
    except (OSError, UnicodeError) as exc:
        raise EgressRefused(f"{name} cannot be resolved ({exc}).") from None
    if not addresses:
        raise EgressRefused(f"{name} resolves to no address.")
    return addresses


def _why_internal(address: IPAddress) -> str:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return _why_internal(address.ipv4_mapped)
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if address.is_reserved or not address.is_global:
        return "a reserved address"
    return ""
