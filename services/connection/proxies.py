"""Who the client is behind load balancers: ``X-Forwarded-For`` read from the right.

A proxy such as nginx (``$proxy_add_x_forwarded_for``) appends the address it received the request from to
whatever header the client sent, so only the entries right of the last untrusted hop were written by proxies
we trust; the left-most entry is whatever the client typed. The client is the right-most address that is not
a trusted proxy."""

from __future__ import annotations

import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """Addresses and networks (``10.0.0.0/8``, ``127.0.0.1``, ``::1``) whose forwarded headers are believed."""

    def __init__(self, spec: str) -> None:
        """``spec``: comma-separated addresses or CIDRs; an invalid entry raises ``ValueError`` at start-up."""
        self._networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(entry.strip(), strict=False) for entry in spec.split(",") if entry.strip())

    def __contains__(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._networks)

    def client(self, peer: str, forwarded: str) -> str:
        """The client's address: ``peer`` unless it is a trusted proxy, then the hops of ``forwarded`` from the
        right while each hop so far was a trusted proxy. A hop that is not an IP address ends the walk (the hop
        right of it is the last one a trusted proxy vouched for)."""
        address = peer
        for hop in reversed(forwarded.split(",") if forwarded else ()):
            if address not in self:
                break
            hop = hop.strip()
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                break
            address = hop
        return address
