"""Which hosts a delivery may go to (pure, given the host's addresses): the outbound rule
of cases.checks.addresses, worded for the delivery log. A webhook URL is typed by an
admin, but the server sends from inside the network; receivers that live there are
allowed by the deployment (WISHLIST_WEBHOOK_ALLOW_PRIVATE).
"""

from cases.checks.addresses import is_public
from cases.checks.addresses import resolve as resolve_all


def refusal(addresses: list[str], *, allow_private: bool) -> str:
    """Why these addresses may not be sent to, or ''."""
    if not addresses:
        return "the receiver's host name does not resolve"
    if allow_private:
        return ""
    for address in addresses:
        if not is_public(address):
            return (
                f"the receiver's address {address.split('%')[0]} is private, loopback or "
                "reserved; set WISHLIST_WEBHOOK_ALLOW_PRIVATE=1 if receivers live inside "
                "this network"
            )
    return ""


def resolve(host: str) -> list[str]:
    """Every address the host name resolves to ([] when it does not)."""
    try:
        return resolve_all(host)
    except (OSError, UnicodeError):
        return []
