"""The client's address: the one answer to "who is on the other end of this request?".

Every part of the app that counts, limits or throttles by address asks `client_address`.
Without `HOTLINE_TRUSTED_PROXIES` it is the immediate peer, whatever headers say. When the
peer is one of the trusted proxies (addresses or CIDR networks), `X-Forwarded-For` is read
from the right: each proxy appends the address it saw, so the right-most entry that is not
a trusted proxy is the client; anything further left was written by the client itself and
is never believed. A header from an untrusted peer is ignored.

`hotline serve` gives uvicorn the same list (`forwarded_allow_ips`), so uvicorn's own
rewrite of the peer agrees with this function and applying both gives the same answer.

`limit_key` is the address as a rate limit counts it: an IPv6 client usually holds a whole
/64, so its /64 is one key (IPv4 addresses, and IPv4 mapped into IPv6, count singly).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Final

from starlette.requests import HTTPConnection

from bot.config import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
UNKNOWN: Final = "unknown"
IPV6_LIMIT_PREFIX: Final = 64


@lru_cache(maxsize=16)
def trusted_networks(spec: str) -> tuple[Network, ...]:
    """The networks of a `HOTLINE_TRUSTED_PROXIES` value ("10.0.0.0/8, 127.0.0.1");
    raise ValueError on an entry that is not an address or network, or that trusts all."""
    networks: list[Network] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        network = ipaddress.ip_network(item, strict=False)
        if network.prefixlen == 0:
            raise ValueError(f"{item} would trust every address")
        networks.append(network)
    return tuple(networks)


def client_address(connection: HTTPConnection, settings: Settings) -> str:
    """The address of the client that made this request (see the module docstring)."""
    peer = connection.client.host if connection.client else ""
    trusted = trusted_networks(settings.trusted_proxies)
    if not peer:
        return UNKNOWN
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    hops = [
        _host(part)
        for value in connection.headers.getlist("x-forwarded-for")
        for part in value.split(",")
    ]
    hops = [hop for hop in hops if hop]
    for hop in reversed(hops):
        if _parse(hop) is None:
            return peer  # a trusted proxy wrote something that is no address: count the proxy
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer  # the client is itself inside the trusted networks


def limit_key(address: str) -> str:
    """The address as a rate limit counts it: IPv6 by its /64, anything else as is."""
    parsed = _parse(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_LIMIT_PREFIX), strict=False))
    return address if parsed is None else str(parsed)


def _is_trusted(host: str, trusted: tuple[Network, ...]) -> bool:
    address = _parse(host)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address is not None and any(address in network for network in trusted)


def _parse(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _host(value: str) -> str:
    """One X-Forwarded-For entry without its port: `1.2.3.4:5678`, `[2001:db8::1]:80`."""
    value = value.strip()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value
