"""Which addresses the server may send to on its own initiative (a captured page, a
webhook): only public ones. Left unchecked, a URL naming 127.0.0.1, 10.x or the cloud
metadata address 169.254.169.254 would make the server read or post to its own network.
One rule for every outbound caller that takes an address from a person."""

import ipaddress
import socket


def is_public(address: str) -> bool:
    """A global unicast address (an IPv4 address mapped into IPv6 judged as itself)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int | None = None) -> list[str]:
    """Every address the host name resolves to (the system resolver); raises OSError or
    UnicodeError when it does not resolve."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})
