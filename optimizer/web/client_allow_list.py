"""Production (ingress) mode: only the Home Assistant ingress proxy may talk to us."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .errors import json_error

# The Supervisor's ingress proxy always connects from this address.
HA_INGRESS_PROXY = "172.30.32.2"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_allowed_clients(allowed_clients: Sequence[str]) -> tuple[Network, ...]:
    """Addresses or networks ("172.30.32.2", "10.0.0.0/8"); ValueError names a bad entry."""
    if isinstance(allowed_clients, str):
        raise TypeError("allowed_clients must be a sequence of addresses, not one string")
    networks: list[Network] = []
    for entry in allowed_clients:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=True))
        except ValueError as exc:
            raise ValueError(f"allowed_clients: {entry!r} is not an IP address: {exc}") from None
    return tuple(networks)


def is_allowed(remote: str | None, networks: tuple[Network, ...]) -> bool:
    """Whether the peer address (as aiohttp reports it) lies in one of the networks."""
    if remote is None:
        return False
    try:
        address = ipaddress.ip_address(remote.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return False
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def client_allow_list_middleware(
    networks: tuple[Network, ...],
) -> Middleware:
    """Refuses (403, JSON error) every request whose TCP peer is not in ``networks``."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        # The TCP peer, never X-Forwarded-For: a header is whatever the client says it is.
        if not is_allowed(request.remote, networks):
            return json_error(
                403,
                "forbidden_client",
                f"client {request.remote} is not allowed: this add-on only answers "
                "through Home Assistant ingress",
            )
        return await handler(request)

    return middleware
