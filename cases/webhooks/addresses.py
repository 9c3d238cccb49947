"""Which hosts a delivery may go to (pure, given the host's addresses).

A webhook URL is typed by an admin, but the server sends from inside the network: left
unchecked, a URL naming 127.0.0.1, 10.x or the cloud metadata address would make the
server POST to its own services. Such addresses are refused unless the deployment says
its receivers live there (WISHLIST_WEBHOOK_ALLOW_PRIVATE).
"""

import ipaddress
import socket


def refusal(addresses: list[str], *, allow_private: bool) -> str:
    """Why these addresses may not be sent to, or ''."""
    if not addresses:
        return "the receiver's host name does not resolve"
    if allow_private:
        return ""
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if not address.is_global or address.is_multicast:
            return (
                f"the receiver's address {address} is private, loopback or reserved; "
                "set WISHLIST_WEBHOOK_ALLOW_PRIVATE=1 if receivers live inside this network"
            )
    return ""


def resolve(host: str) -> list[str]:
    """Every address the host name resolves to ([] when it does not)."""
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except (socket.gaierror, UnicodeError):
        return []
